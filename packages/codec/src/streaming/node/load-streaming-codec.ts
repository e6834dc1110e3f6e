import { nodeCreateOptions, type EncodecModelSpec, type LoadEncodecOptions } from "../../node/encodec-node.js";
import type { StreamSide } from "../../onnx/streaming-graphs.js";
import { StreamingCodec } from "../streaming-codec.js";

/** Options of {@link loadStreamingCodec}: those of `loadEncodec`, plus which sessions to open and keep. */
export interface LoadStreamingCodecOptions extends LoadEncodecOptions {
  /** The sides to open: `["encoder"]` for a sender, `["decoder"]` for a receiver. @default ["encoder", "decoder"] */
  readonly sides?: readonly StreamSide[];
  /** No effect (see `StreamingCodecOptions.releaseStartupSessions`). @deprecated each side is one session @default true */
  readonly releaseStartupSessions?: boolean;
  /** No effect (see `StreamingCodecOptions.oneSessionAtATime`). @deprecated each side is one session @default false */
  readonly oneSessionAtATime?: boolean;
}

/**
 * Load a causal EnCodec model (24 kHz) for frame-by-frame streaming on `onnxruntime-node`: the
 * same files and options as `loadEncodec` (single-threaded, non-spinning sessions by default;
 * built graphs cached under `<cacheDir>/graphs`). With a path whose graphs are cached, the
 * weights are not read; only the `sides` asked are opened, one session each (its graph runs a
 * stream's startup and its later frames over one copy of the weights).
 *
 * @throws CodecError `unsupported` for a non-causal model (48 kHz: use chunked streaming with
 *   `loadEncodec`), or from reading and checking the files
 * @throws RangeError / TypeError for bad options
 */
export async function loadStreamingCodec(spec: EncodecModelSpec, options: LoadStreamingCodecOptions = {}): Promise<StreamingCodec> {
  return StreamingCodec.create({
    ...(await nodeCreateOptions(spec, options)),
    ...(options.sides ? { sides: options.sides } : {}),
  });
}
