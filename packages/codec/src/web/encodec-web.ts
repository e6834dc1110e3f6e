import { EncodecModel } from "../runtime/encodec-model.js";
import type { GraphCache } from "../runtime/graph-cache.js";
import type { OrtSessionOptions } from "../runtime/ort-types.js";
import { StreamingCodec } from "../streaming/streaming-codec.js";
import type { StreamSide } from "../onnx/streaming-graphs.js";
import { CacheStorageGraphCache } from "./cache-storage-graph-cache.js";
import { readWebSource, type WebModelSource, type WebSourceOptions } from "./web-source.js";
import { resolveWebRuntime, type WebRuntimeOptions } from "./web-runtime.js";

/** Options of the web {@link loadEncodec} and {@link loadStreamingCodec}. */
export interface LoadEncodecWebOptions extends WebRuntimeOptions, WebSourceOptions {
  /** Session options (e.g. `executionProviders: ["wasm"]`). @default {} */
  readonly sessionOptions?: OrtSessionOptions;
  /**
   * Storage for built graphs; `false` for none. @default a {@link CacheStorageGraphCache} (the
   * browser's Cache API) where `caches` exists, else none
   */
  readonly graphCache?: GraphCache | false;
  /** Bandwidths whose graphs are opened during loading (quantizer graphs; streaming: encoder graphs). @default [] */
  readonly preloadBandwidthsKbps?: readonly number[];
  /**
   * {@link loadEncodec}: when the offline encoder and decode graphs are opened, at loading or on
   * first use (a page that only decodes then never builds nor opens the encoder). @default "eager"
   */
  readonly openGraphs?: "eager" | "on-first-use";
  /**
   * {@link loadStreamingCodec}: the sides whose sessions are opened (a receiver needs only
   * `["decoder"]`, a sender `["encoder"]`). @default ["encoder", "decoder"]
   */
  readonly sides?: readonly StreamSide[];
}

function graphCacheOf(options: LoadEncodecWebOptions): GraphCache | undefined {
  if (options.graphCache === false) return undefined;
  if (options.graphCache !== undefined) return options.graphCache;
  return (globalThis as { caches?: unknown }).caches !== undefined ? new CacheStorageGraphCache() : undefined;
}

async function createOptions(source: WebModelSource, options: LoadEncodecWebOptions) {
  const runtime = await resolveWebRuntime(options);
  const { config, tensors } = await readWebSource(source, options);
  const graphCache = graphCacheOf(options);
  return {
    config,
    tensors,
    runtime,
    sessionOptions: options.sessionOptions ?? {},
    ...(graphCache ? { graphCache } : {}),
    ...(options.preloadBandwidthsKbps ? { preloadBandwidthsKbps: options.preloadBandwidthsKbps } : {}),
  };
}

/**
 * Load an EnCodec model on `onnxruntime-web` (WebAssembly by default). The same core as the Node
 * entry; sources are bytes or URLs instead of paths, built graphs go to the browser's Cache API.
 *
 * @throws CodecError for unreadable weights or config, failed downloads, weights that do not fit the config
 * @throws TypeError / RangeError for a bad source or options
 */
export async function loadEncodec(source: WebModelSource, options: LoadEncodecWebOptions = {}): Promise<EncodecModel> {
  return EncodecModel.create({ ...(await createOptions(source, options)), ...(options.openGraphs ? { openGraphs: options.openGraphs } : {}) });
}

/**
 * Load a causal EnCodec model (24 kHz) for frame-by-frame streaming on `onnxruntime-web`: the
 * same sources and options as {@link loadEncodec}.
 *
 * @throws CodecError `unsupported` for a non-causal model (48 kHz: use chunked streaming with
 *   `loadEncodec`), or from reading and checking the weights
 * @throws TypeError / RangeError for a bad source or options
 */
export async function loadStreamingCodec(source: WebModelSource, options: LoadEncodecWebOptions = {}): Promise<StreamingCodec> {
  return StreamingCodec.create({ ...(await createOptions(source, options)), ...(options.sides ? { sides: options.sides } : {}) });
}
