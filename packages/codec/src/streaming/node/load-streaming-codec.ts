import { nodeCreateOptions, type EncodecModelSpec, type LoadEncodecOptions } from "../../node/encodec-node.js";
import { StreamingCodec } from "../streaming-codec.js";

/**
 * Load a causal EnCodec model (24 kHz) for frame-by-frame streaming on `onnxruntime-node`: the
 * same files and options as `loadEncodec` (single-threaded, non-spinning sessions by default;
 * built graphs cached under `<cacheDir>/graphs`).
 *
 * @throws CodecError `unsupported` for a non-causal model (48 kHz: use chunked streaming with
 *   `loadEncodec`), or from reading and checking the files
 * @throws RangeError / TypeError for bad options
 */
export async function loadStreamingCodec(spec: EncodecModelSpec, options: LoadEncodecOptions = {}): Promise<StreamingCodec> {
  return StreamingCodec.create(await nodeCreateOptions(spec, options));
}
