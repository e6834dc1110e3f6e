// @encstream/session — browser-safe send and receive pipelines over any datagram transport.

export { SessionError, isSessionError, type SessionErrorCode } from "./errors.js";
export {
  BITRATE_WINDOW_MS,
  CATCH_UP_HEADROOM_UNITS,
  DEFAULT_CHUNK_MS_24K,
  DEFAULT_CHUNK_MS_48K,
  END_OF_STREAM_LINGER_MS,
  END_OF_STREAM_REPEATS,
  END_OF_STREAM_REPEAT_INTERVAL_MS,
  FRAG_COUNTER_MODULUS,
  FRAME_SAMPLES,
  MAX_TRACKS,
  MAX_LEADING_FILL_FRAMES,
  MAX_LM_KEYFRAME_INTERVAL_FRAMES,
  MIN_JITTER_CAPACITY_FRAMES,
  RESTART_MESSAGES,
  STREAM_ID_BITS,
  STREAM_LM_KEYFRAME_INTERVAL_FRAMES,
} from "./constants.js";
export type {
  DatagramEndpoint,
  DatagramTransport,
  DatagramTransportStats,
  InboundDatagram,
  SendOutcome,
} from "./transport.js";
export { createMemoryTransportPair, type MemoryTransport, type MemoryTransportOptions } from "./memory-transport.js";
export { createSessionCodec, type CreateSessionCodecOptions, type SessionCodec } from "./session-codec.js";
export { makeFragId, randomStreamId, streamIdOf, trackStreamId } from "./frag-id.js";
export {
  createChunkedEncoder,
  createFrameStreamEncoder,
  defaultChunkMsOf,
  type ChunkedEncoderOptions,
  type EncodedUnit,
  type FrameEncoder,
} from "./frame-encoder.js";
export { createChunkedDecoder, createFrameStreamDecoder, type FrameDecoder, type FrameStreamDecoderOptions, type UnitCodes } from "./frame-decoder.js";
export { createLmPayloadEncoder, LmPayloadDecoder } from "./payload-lm.js";
export {
  runSenderSession,
  type AudioSource,
  type SenderSessionOptions,
  type SenderSessionSummary,
  type SentUnit,
} from "./sender-session.js";
export {
  ReceiverSession,
  type AudioSink,
  type PlayedBlock,
  type ReceiverSessionOptions,
  type ReceiverStats,
  type StreamStartInfo,
} from "./receiver-session.js";
export {
  runMultiTrackSender,
  type MultiTrackSenderOptions,
  type MultiTrackSenderSummary,
  type TrackSenderOptions,
} from "./multi-track-sender.js";
export {
  MultiTrackReceiver,
  type MultiTrackReceiverOptions,
  type MultiTrackStats,
  type TrackInfo,
  type TrackStats,
} from "./multi-track-receiver.js";
export { batchFrames, DEFAULT_AUTO_MAX_FRAMES_PER_PACKET, MAX_FRAMES_PER_PACKET } from "./frame-batcher.js";
export { measureUnitLevels } from "./unit-levels.js";
export {
  decodeReport,
  encodeReport,
  ReportBuilder,
  REPORT_BYTES,
  REPORT_INTERVAL_MS,
  REPORT_MAGIC,
  REPORT_VERSION,
  type ReceiverReport,
} from "./receiver-report.js";
export {
  chooseRateOption,
  RateController,
  HOLD_AFTER_DECREASE_MS,
  LOSS_DECREASE_THRESHOLD,
  LOSS_INCREASE_THRESHOLD,
  MIN_RTT_WINDOW_MS,
  OVERUSE_QUEUING_MS,
  type DelayState,
  type RateControllerOptions,
  type RateOption,
  type RateSample,
} from "./rate-controller.js";
export {
  RedundancyHistory,
  RedundancyStore,
  DEFAULT_FEC_CODEBOOKS,
  MAX_FEC_DEPTH,
  MAX_HELD_REDUNDANCY,
  type RecoveredUnit,
} from "./redundancy.js";
export { SenderResilience, wireBytesOf, type SenderPathStats, type SenderResilienceOptions } from "./sender-resilience.js";
export { comfortNoise, DtxGate, levelDbfs, DEFAULT_DTX_HANGOVER_MS, DEFAULT_DTX_THRESHOLD_DB } from "./comfort-noise.js";
