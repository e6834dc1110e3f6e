// @encstream/codec/node — Node entry: EnCodec on onnxruntime-node, files and the on-disk graph cache.

export { loadEncodec, nodeSessionOptions } from "./node/encodec-node.js";
export type { EncodecModelSpec, LoadEncodecOptions } from "./node/encodec-node.js";
export { FileGraphCache } from "./node/file-graph-cache.js";
export { defaultCacheDir } from "./node/cache-dir.js";

// ---- Exports of the other workstreams (file formats, language model) go below this line. ----
