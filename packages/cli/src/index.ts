export { CliError, isCliError, type CliErrorCode } from "./errors.js";
export {
  DEFAULT_BANDWIDTH_KBPS,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_BUFFER_MS,
  DEFAULT_LM_BASE_URL,
  DEFAULT_MULTICAST_TTL,
  DEFAULT_OVERLAP_PERCENT,
  DEFAULT_PORT,
  DEFAULT_RESAMPLER_QUALITY,
  DEFAULT_SEND_HOST,
  DEFAULT_WAV_CHUNK_FRAMES,
  MAX_BUFFER_MS,
  MAX_CHUNK_MS,
  MAX_IDLE_TIMEOUT_S,
  MAX_SAMPLE_RATE_HZ,
  MAX_WAV_CHANNELS,
  MAX_WAV_FILE_BYTES,
  MAX_WAV_HEADER_BYTES,
  MIN_CHUNK_MS,
  MIN_MTU_BYTES,
  MIN_SAMPLE_RATE_HZ,
} from "./constants.js";
export { buildProgram, parseCommandLine, runCommandLine } from "./options.js";
export type {
  BufferSize,
  CodingOptions,
  CommandHandlers,
  CommandName,
  DecodeOptions,
  EncodeOptions,
  Framing,
  ModelOptions,
  ParsedCommandLine,
  ProgramOutput,
  PullOptions,
  ReceiveOptions,
  SendOptions,
  StreamingOptions,
} from "./command-options.js";
export {
  BANDWIDTHS_KBPS,
  MODEL_PRESETS,
  type BandwidthKbps,
  type ModelPreset,
  type ModelPresetName,
  type ModelRef,
} from "./model-ref.js";
export {
  cachedModelDir,
  describeSource,
  resolveModel,
  DEFAULT_MODEL_REVISION,
  LM_FILE_NAMES,
  MAX_LM_FILE_BYTES,
  type ModelLoadProgress,
  type ModelSource,
  type ResolvedModel,
  type ResolveModelOptions,
} from "./model-loader.js";
export { runEncode, type EncodeResult } from "./commands/encode.js";
export { runDecode, type DecodeResult } from "./commands/decode.js";
export { runDevices } from "./commands/devices.js";
export { CaptureInput, listAudioDevices, type AudioDevice, type CaptureInputOptions } from "./audio/capture.js";
export { StreamInput, type StreamInputOptions } from "./audio/stream-input.js";
export { StreamOutput, buildWavHeader, type StreamOutputOptions } from "./audio/stream-output.js";
export { parseRawFormat, formatRawFormat, type RawFormat, type RawSampleFormat } from "./audio/raw-format.js";
export { runPull, PUBLISHED_LMS, type PullResult } from "./commands/pull.js";
export { runSend, type SendHooks, type SendResult } from "./commands/send.js";
export { runReceive, type ReceiveHooks, type ReceiveResult } from "./commands/receive.js";
export type { PlayedBlock, ReceiverStats, SentUnit } from "@encstream/session";
export type { CommandIo } from "./internal/command-io.js";
export { mixChannels } from "./audio/channel-mix.js";
export { Resampler, type ResamplerOptions } from "./audio/resampler.js";
export { WavReader } from "./audio/wav-reader.js";
export { WavInput, readWavFile, type WavAudio, type WavInputOptions } from "./audio/wav-input.js";
export { WavFileWriter, type WavFileWriterOptions, type WavWriteAt } from "./audio/wav-writer.js";
export {
  openPlayback,
  probePlayback,
  type Playback,
  type PlaybackOptions,
  type PlaybackSupport,
} from "./audio/playback.js";
export type { WavFormat, WavSampleFormat } from "./internal/wav-header.js";
export type { OutputSampleFormat } from "./internal/pcm.js";
export { onInterrupt, type InterruptHandler, type InterruptSignal } from "./interrupt.js";
