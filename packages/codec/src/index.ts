// @encstream/codec — browser-safe core: config, weights checking, ONNX graph building, and the
// runtime-agnostic EnCodec model (pass an ONNX Runtime module; see the ./node and ./web entries).

export { CodecError, isCodecError } from "./errors.js";
export type { CodecErrorCode } from "./errors.js";

export {
  parseEncodecConfig,
  encodecConfigToJson,
  hopLengthSamples,
  frameRateHz,
  numQuantizers,
  numQuantizersForBandwidth,
  bitsPerCode,
  segmentLengthSamples,
  segmentStrideSamples,
} from "./config.js";
export type { EncodecConfig, NormType, PadMode } from "./config.js";

export { readSafetensors } from "./weights/safetensors.js";
export type { RawTensor, TensorMap, TensorDtype } from "./weights/raw-tensor.js";

export { describeArchitecture } from "./model/architecture.js";
export type {
  EncodecArchitecture,
  ExpectedTensor,
  TensorRole,
  SeanetLayer,
  ConvLayer,
  ConvTransposeLayer,
  ResnetLayer,
  LstmLayer,
  EluLayer,
} from "./model/architecture.js";
export { prepareWeights, foldWeightNorm } from "./model/prepare-weights.js";
export type { PreparedWeights } from "./model/prepare-weights.js";

export {
  buildEncoderGraph,
  buildQuantizerEncodeGraph,
  buildQuantizerDecodeGraph,
  buildDecoderGraph,
  buildDecodeGraph,
  GRAPH_BUILDER_VERSION,
  GRAPH_IO,
} from "./onnx/encodec-graphs.js";
export type { EncodecGraphKind } from "./onnx/encodec-graphs.js";
export { CODEC_PRECISIONS } from "./onnx/int8-graph.js";
export type { CodecPrecision } from "./onnx/int8-graph.js";

export { EncodecModel } from "./runtime/encodec-model.js";
export type {
  EncodecModelOptions,
  EncodedFrame,
  EncodedAudio,
  EncodeOptions,
  SegmentEmbeddings,
  GraphStats,
} from "./runtime/encodec-model.js";
export { hashModel, graphCacheKey } from "./runtime/graph-cache.js";
export type { GraphCache } from "./runtime/graph-cache.js";
export { linearOverlapAdd } from "./runtime/audio-segments.js";
export { StreamingOverlapAdd } from "./runtime/streaming-overlap-add.js";
export { OfflineEncoder, OfflineDecoder } from "./runtime/offline-coder.js";
export type { OfflineCodeBlock } from "./runtime/offline-coder.js";
export type { OrtRuntime, OrtSessionOptions, OrtSession } from "./runtime/ort-types.js";
export { NORMALIZE_EPSILON, MAX_SEGMENT_SAMPLES, MAX_BATCH_SEGMENTS, OFFLINE_BLOCK_FRAMES } from "./constants.js";

// ---- Exports of the other workstreams (file formats, language model) go below this line. ----
// formats
export { readTorchCheckpoint } from "./weights/torch-checkpoint.js";
export type { ReadTorchCheckpointOptions } from "./weights/torch-checkpoint.js";
export { mapOriginalToHfNames, mapOriginalName, hasOriginalNames } from "./weights/name-map.js";
export { deriveHfConfig, publishedHfConfig } from "./weights/derive-config.js";
export type { EncodecHfConfigJson, DeriveConfigHints, PublishedModelName } from "./weights/derive-config.js";
export { readEcdc, writeEcdc } from "./ecdc/ecdc-file.js";
export type { EcdcFile, EcdcSegment, EcdcOptions } from "./ecdc/ecdc-file.js";
export { parseEcdcHeader, encodeEcdcHeader } from "./ecdc/ecdc-header.js";
export type { EcdcMetadata, EcdcHeader } from "./ecdc/ecdc-header.js";
export { packCodes, unpackCodes, packedByteLength } from "./ecdc/bit-packer.js";
export { planSegments, countSegments, ecdcLayoutFromConfig, ECDC_MODEL_LAYOUTS } from "./ecdc/segments.js";
export type { SegmentLayout, EcdcModelLayout, PlannedSegment } from "./ecdc/segments.js";
export {
  ECDC_MAGIC,
  ECDC_VERSION,
  ECDC_HEADER_BYTES,
  ECDC_SCALE_BYTES,
  MAX_ECDC_METADATA_BYTES,
  MAX_ECDC_AUDIO_SAMPLES,
  MAX_ECDC_CODEBOOKS,
} from "./ecdc/constants.js";

// lm
export { loadLmWeights } from "./lm/lm-weights.js";
export type { LmWeights, LmHyperParams, LmLayerWeights, LoadLmWeightsOptions } from "./lm/lm-weights.js";
export { StreamingLm } from "./lm/streaming-lm.js";
export { buildQuantizedCdf } from "./lm/quantized-cdf.js";
export { encodeCodesWithLm, decodeCodesWithLm, decodeCodesWithLmAt, LM_MAX_FRAMES } from "./lm/lm-coding.js";
export type { LmDecodeResult } from "./lm/lm-coding.js";
export { LM_TOTAL_RANGE_BITS, LM_MIN_RANGE, LM_ROUNDOFF } from "./lm/constants.js";
export { LmStreamEncoder, LmStreamDecoder } from "./lm/lm-stream.js";
export type { LmStreamOptions, LmStreamDecodeResult } from "./lm/lm-stream.js";
export { readEcdcWithLm, writeEcdcWithLm } from "./ecdc/ecdc-lm.js";
export { EcdcStreamWriter, EcdcStreamReader } from "./ecdc/ecdc-stream.js";
export type { EcdcStreamOptions, EcdcStreamBlock } from "./ecdc/ecdc-stream.js";
export type { EcdcLmFile, ReadEcdcWithLmOptions } from "./ecdc/ecdc-lm.js";

// streaming
export { StreamingCodec } from "./streaming/streaming-codec.js";
export type { StreamingCodecOptions } from "./streaming/streaming-codec.js";
export { createStreamEncoder, StreamEncoder } from "./streaming/stream-encoder.js";
export type { StreamEncoderOptions } from "./streaming/stream-encoder.js";
export { createStreamDecoder, StreamDecoder } from "./streaming/stream-decoder.js";
export type { StreamDecoderOptions } from "./streaming/stream-decoder.js";
export type { CodeBlock, StreamFrame, StreamStart } from "./streaming/stream-types.js";
export { concatCodeBlocks } from "./streaming/code-blocks.js";
export { encodeChunk, decodeChunk } from "./streaming/chunk-codec.js";
export { createChunkCoder } from "./streaming/codec-interfaces.js";
export type { StreamEncoderLike, StreamDecoderLike, ChunkCoder } from "./streaming/codec-interfaces.js";
export type { EncodedChunk } from "./streaming/chunk-codec.js";
export {
  DEFAULT_MAX_FRAMES_PER_CALL,
  MAX_FRAMES_PER_CALL,
  DEFAULT_CONCEAL_FADE_FRAMES,
  MAX_STREAM_BLOCK_FRAMES,
  MAX_MISSING_FRAMES_PER_CALL,
  MAX_STREAM_PUSH_SAMPLES,
} from "./streaming/constants.js";
export {
  buildStreamEncoderGraph,
  buildStreamDecoderGraph,
  describeStreamStates,
  streamStartupFrames,
  streamStateElements,
  STREAMING_GRAPH_VERSION,
  STREAM_GRAPH_IO,
} from "./onnx/streaming-graphs.js";
export type { StreamGraphPhase, StreamSide, StreamStateKind, StreamStateSpec } from "./onnx/streaming-graphs.js";
export { encodePayload, decodePayload, parsePayloadHeader, payloadModelKindOf } from "./payload/frame-payload.js";
export type {
  FramePayload,
  PayloadHeader,
  DecodedPayload,
  PayloadLmCoder,
  PayloadCodingOptions,
  PayloadModelKind,
  PayloadMode,
  PayloadVersion,
} from "./payload/frame-payload.js";
export type { PayloadRedundancy, RedundantUnit, DecodedRedundancy, DecodedRedundantUnit, PayloadExtension } from "./payload/payload-extensions.js";
export {
  PAYLOAD_VERSION,
  PAYLOAD_VERSIONS,
  PAYLOAD_V2_FIXED_HEADER_BYTES,
  PAYLOAD_OVERLAP_BYTES,
  MAX_PAYLOAD_OVERLAP_SAMPLES,
  MAX_PAYLOAD_EXTENSIONS,
  MAX_PAYLOAD_EXTENSION_BYTES,
  MAX_REDUNDANT_UNITS,
  MIN_COMFORT_NOISE_DB,
  PAYLOAD_EXTENSION_TYPES,
  PAYLOAD_CRITICAL_EXTENSION_TYPE,
  PAYLOAD_FLAGS,
  PAYLOAD_RESERVED_FLAGS,
  PAYLOAD_FIXED_HEADER_BYTES,
  PAYLOAD_LENGTH_BYTES,
  PAYLOAD_SCALE_BYTES,
  PAYLOAD_BITS_PER_CODE,
  PAYLOAD_HOP_SAMPLES,
  PAYLOAD_MODELS,
  MAX_PAYLOAD_FRAMES,
} from "./payload/constants.js";
