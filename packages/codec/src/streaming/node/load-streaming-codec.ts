import path from "node:path";
import * as ort from "onnxruntime-node";
import { parseEncodecConfig, type EncodecConfig } from "../../config.js";
import { defaultCacheDir } from "../../node/cache-dir.js";
import { nodeSessionOptions, type EncodecModelSpec, type LoadEncodecOptions } from "../../node/encodec-node.js";
import { FileGraphCache } from "../../node/file-graph-cache.js";
import { loadModelFiles } from "../../node/load-model-files.js";
import type { TensorMap } from "../../weights/raw-tensor.js";
import { StreamingCodec } from "../streaming-codec.js";

function isParsedConfig(value: unknown): value is EncodecConfig {
  return typeof value === "object" && value !== null && "sampleRateHz" in value && "upsamplingRatios" in value;
}

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
  let config: EncodecConfig;
  let tensors: TensorMap;
  if (typeof spec === "string") {
    const files = await loadModelFiles(spec, { hints: options.hints ?? {} });
    config = parseEncodecConfig(files.hfConfig, files.configSource ?? files.source);
    tensors = files.tensors;
  } else if (typeof spec === "object" && spec !== null && spec.tensors instanceof Map) {
    config = isParsedConfig(spec.config) ? spec.config : parseEncodecConfig(spec.config);
    tensors = spec.tensors;
  } else {
    throw new TypeError("spec must be a path or { config, tensors }");
  }
  const graphCache = (options.cacheGraphs ?? true) ? new FileGraphCache(path.join(options.cacheDir ?? defaultCacheDir(), "graphs")) : undefined;
  return StreamingCodec.create({
    config,
    tensors,
    runtime: ort,
    sessionOptions: nodeSessionOptions(options),
    ...(graphCache ? { graphCache } : {}),
    ...(options.preloadBandwidthsKbps ? { preloadBandwidthsKbps: options.preloadBandwidthsKbps } : {}),
  });
}
