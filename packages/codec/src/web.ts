// @encstream/codec/web — browser entry: EnCodec on onnxruntime-web (WebAssembly), sources as bytes or URLs.

export { loadEncodec } from "./web/encodec-web.js";
export type { WebModelSource, LoadEncodecWebOptions } from "./web/encodec-web.js";
