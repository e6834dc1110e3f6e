import { nodeCreateOptions, type EncodecModelSpec, type LoadEncodecOptions } from "../../node/encodec-node.js";
import type { StreamSide } from "../../onnx/streaming-graphs.js";
import { StreamingCodec } from "../streaming-codec.js";

/** Options of {@link loadStreamingCodec}: those of `loadEncodec`, plus which sessions to open and keep. */
export interface LoadStreamingCodecOptions extends LoadEncodecOptions {
  /** The sides to open: `["encoder"]` for a sender, `["decoder"]` for a receiver. @default ["encoder", "decoder"] */
  readonly sides?: readonly StreamSide[];
  /**
   * Release each side's "first" (startup) session after a stream's first call, reopening it from
   * the graph cache for a later stream (see `StreamingCodecOptions.releaseStartupSessions`).
   * @default true
   */
  readonly releaseStartupSessions?: boolean;
  /**
   * Hold one session of a side at a time: the step session is opened after the first
   * (startup) session is released (see `StreamingCodecOptions.oneSessionAtATime`). For a sender
   * and offline coding. @default false
   */
  readonly oneSessionAtATime?: boolean;
}

/**
 * Load a causal EnCodec model (24 kHz) for frame-by-frame streaming on `onnxruntime-node`: the
 * same files and options as `loadEncodec` (single-threaded, non-spinning sessions by default;
 * built graphs cached under `<cacheDir>/graphs`). With a path whose graphs are cached, the
 * weights are not read; only the `sides` asked are opened, and the startup sessions are released
 * once a stream has started.
 *
 * @throws CodecError `unsupported` for a non-causal model (48 kHz: use chunked streaming with
 *   `loadEncodec`), or from reading and checking the files
 * @throws RangeError / TypeError for bad options
 */
export async function loadStreamingCodec(spec: EncodecModelSpec, options: LoadStreamingCodecOptions = {}): Promise<StreamingCodec> {
  return StreamingCodec.create({
    ...(await nodeCreateOptions(spec, options)),
    ...(options.sides ? { sides: options.sides } : {}),
    releaseStartupSessions: options.releaseStartupSessions ?? true,
    ...(options.oneSessionAtATime ? { oneSessionAtATime: true } : {}),
  });
}
