// @encstream/codec/web — browser entry: EnCodec on onnxruntime-web (WebAssembly), sources as bytes or URLs,
// built graphs cached in the browser's Cache API.

export { loadEncodec, loadStreamingCodec } from "./web/encodec-web.js";
export type { LoadEncodecWebOptions } from "./web/encodec-web.js";
export type { WebModelSource, WebSourceOptions } from "./web/web-source.js";
export type { WebOrtRuntime, WebOrtFlavour, WebRuntimeOptions } from "./web/web-runtime.js";
export { CacheStorageGraphCache } from "./web/cache-storage-graph-cache.js";
export type { CacheStorageGraphCacheOptions } from "./web/cache-storage-graph-cache.js";
export { loadLmWeightsWeb } from "./web/lm-web.js";
