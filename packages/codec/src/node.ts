// @encstream/codec/node — Node entry: EnCodec on onnxruntime-node, files and the on-disk graph cache.

export { loadEncodec, nodeSessionOptions } from "./node/encodec-node.js";
export type { EncodecModelSpec, LoadEncodecOptions } from "./node/encodec-node.js";
export { FileGraphCache } from "./node/file-graph-cache.js";
export { defaultCacheDir } from "./node/cache-dir.js";

// ---- Exports of the other workstreams (file formats, language model) go below this line. ----
// formats
export { loadModelFiles, resolveModelFiles } from "./node/load-model-files.js";
export type { ModelFiles, LoadModelFilesOptions } from "./node/load-model-files.js";
export { pullModel, DEFAULT_HUB_URL, DEFAULT_MODEL_FILES } from "./hub/pull-model.js";
export type { PullModelOptions, PulledModel, PullProgress } from "./hub/pull-model.js";
export { downloadFile } from "./hub/download-file.js";
export type { DownloadFileOptions, DownloadProgress, DownloadResult } from "./hub/download-file.js";
// streaming
export { loadStreamingCodec, type LoadStreamingCodecOptions } from "./streaming/node/load-streaming-codec.js";
export { modelFileKey } from "./node/model-file-key.js";
// workers
export { WorkerStreamingCodec, createWorkerStreamEncoder, createWorkerStreamDecoder } from "./worker/worker-streaming-codec.js";
export type { WorkerStreamingCodecOptions, WorkerStreamEncoderOptions, WorkerStreamDecoderOptions } from "./worker/worker-streaming-codec.js";
export { WorkerStreamEncoder } from "./worker/worker-stream-encoder.js";
export { WorkerStreamDecoder } from "./worker/worker-stream-decoder.js";
export { createWorkerChunkCoder, WorkerChunkCoder } from "./worker/worker-chunk-coder.js";
export type { WorkerChunkCoderOptions } from "./worker/worker-chunk-coder.js";
export type { WorkerThreadOptions } from "./worker/worker-client.js";
export { DEFAULT_MAX_QUEUED_CALLS, MAX_QUEUED_CALLS } from "./worker/constants.js";
// language model
export { readLmWeightsFile } from "./node/lm-file.js";
export type { ReadLmWeightsFileOptions } from "./node/lm-file.js";
