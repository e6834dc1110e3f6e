import path from "node:path";
import * as ort from "onnxruntime-node";
import { parseEncodecConfig, type EncodecConfig } from "../config.js";
import { EncodecModel, type EncodecModelOptions } from "../runtime/encodec-model.js";
import { checkPrecision, isQuantized, type CodecPrecision } from "../onnx/int8-graph.js";
import type { OrtSessionOptions } from "../runtime/ort-types.js";
import type { DeriveConfigHints } from "../weights/derive-config.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { defaultCacheDir } from "./cache-dir.js";
import { FileGraphCache } from "./file-graph-cache.js";
import { loadModelFiles, readConfigFile, resolveModelFiles } from "./load-model-files.js";
import { modelFileKey } from "./model-file-key.js";

/**
 * What to load: a path (a Hugging Face folder with `config.json` + `model.safetensors`, a folder
 * with an original `.th` checkpoint, or a `.safetensors` / `.th` file), or a config (parsed, or
 * the raw `config.json` object) with its weights.
 */
export type EncodecModelSpec = string | { readonly config: EncodecConfig | unknown; readonly tensors: TensorMap };

/** Options of {@link loadEncodec}. */
export interface LoadEncodecOptions {
  /** Cache root; built graphs go under `<cacheDir>/graphs`. @default defaultCacheDir() */
  readonly cacheDir?: string;
  /** Keep built graphs on disk and reuse them (keyed by weights, config and builder version). @default true */
  readonly cacheGraphs?: boolean;
  /** ONNX Runtime execution providers. @default ["cpu"] */
  readonly executionProviders?: OrtSessionOptions["executionProviders"];
  /** Threads of each session's intra-op pool. @default 1 (see the package README: several sessions share the cores) */
  readonly intraOpNumThreads?: number;
  /** Let idle intra-op threads spin (faster wake-up, burns CPU shared with the other sessions). @default false */
  readonly allowSpinning?: boolean;
  /** Further session options, merged over the ones above. @default {} */
  readonly sessionOptions?: OrtSessionOptions;
  /** Bandwidths whose quantizer graphs are opened during loading (others on first use). @default [] */
  readonly preloadBandwidthsKbps?: readonly number[];
  /** Settings for a config derived from the weights when a folder has no `config.json`. @default {} */
  readonly hints?: DeriveConfigHints;
  /** `loadEncodec`: when the offline encoder and decode graphs are opened (see `EncodecModelOptions.openGraphs`). @default "eager" */
  readonly openGraphs?: "eager" | "on-first-use";
  /**
   * Numeric precision of the encoder and decoder graphs: `"int8"` and `"int4"` are faster and
   * approximate (see `EncodecModelOptions.precision` and the package README's fidelity table).
   * @default "float32"
   */
  readonly precision?: CodecPrecision;
}

function isParsedConfig(value: unknown): value is EncodecConfig {
  return typeof value === "object" && value !== null && "sampleRateHz" in value && "upsamplingRatios" in value;
}

/**
 * The session options {@link loadEncodec} uses for `options` (exported for benchmarks and tools).
 * float32 graphs are opened without weight prepacking (`session.disable_prepacking`): each LSTM
 * kernel would otherwise keep its own packed copy of its weights (both branches of a streaming
 * side's graph: +30 MiB a full-size 24 kHz side), and the packing is most of a cached session's
 * opening time; the LSTMs then read the graph cache's mapped weights file. Codes are the same;
 * decoded audio may differ from packed weights' in the last bit (another summation order). int8
 * and int4 graphs keep prepacking (their quantized matrix products need it).
 */
export function nodeSessionOptions(options: LoadEncodecOptions = {}): OrtSessionOptions {
  const threads = options.intraOpNumThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`intraOpNumThreads must be a non-negative integer, got ${threads}`);
  const prepack = isQuantized(options.precision);
  return {
    executionProviders: options.executionProviders ?? ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? "1" : "0" }, inter_op: { allow_spinning: "0" }, disable_prepacking: prepack ? "0" : "1" } },
    ...options.sessionOptions,
  };
}

/**
 * Load an EnCodec model for Node on `onnxruntime-node`. Built ONNX graphs are cached under
 * `<cacheDir>/graphs`, so a second load skips building. For a path with a `config.json` beside
 * the weights, the key is the files' identity (`modelFileKey`: path, size, times, safetensors
 * header, config) and the weights are read only when a graph must be built; otherwise it is a
 * SHA-256 of the weights, the config and the graph builder version.
 *
 * @throws CodecError from reading the files (`bad-file`, `bad-config`, ...) or checking the weights (`missing-tensor`, `shape-mismatch`, `unexpected-tensor`)
 * @throws RangeError / TypeError for bad options
 */
export async function loadEncodec(spec: EncodecModelSpec, options: LoadEncodecOptions = {}): Promise<EncodecModel> {
  return EncodecModel.create(await nodeCreateOptions(spec, options));
}

/**
 * The creation options for `spec` on `onnxruntime-node` shared by {@link loadEncodec} and
 * `loadStreamingCodec`: config and weights read (or taken from `spec`), the file graph cache
 * under `<cacheDir>/graphs` unless `cacheGraphs` is false, {@link nodeSessionOptions} and the
 * preload bandwidths. Internal (not re-exported from the package).
 *
 * @throws CodecError from reading the files; TypeError for a bad `spec`; RangeError / TypeError for bad options
 */
export async function nodeCreateOptions(spec: EncodecModelSpec, options: LoadEncodecOptions): Promise<EncodecModelOptions> {
  const cacheGraphs = options.cacheGraphs ?? true;
  const graphCache = cacheGraphs ? new FileGraphCache(path.join(options.cacheDir ?? defaultCacheDir(), "graphs")) : undefined;
  const common = {
    runtime: ort,
    sessionOptions: nodeSessionOptions(options),
    ...(graphCache ? { graphCache } : {}),
    ...(options.preloadBandwidthsKbps ? { preloadBandwidthsKbps: options.preloadBandwidthsKbps } : {}),
    ...(options.openGraphs ? { openGraphs: options.openGraphs } : {}),
    ...(options.precision !== undefined ? { precision: checkPrecision(options.precision) } : {}),
  };
  const hints = options.hints ?? {};
  if (typeof spec === "string") {
    const { weightsPath, configPath } = await resolveModelFiles(spec);
    if (graphCache && configPath !== null) {
      // The config is beside the weights: key the graphs on the files' identity and read the weights only if a graph must be built.
      const configBytes = new TextEncoder().encode(JSON.stringify(await readConfigFile(configPath)));
      const config = parseEncodecConfig(JSON.parse(new TextDecoder().decode(configBytes)), configPath);
      const modelKey = await modelFileKey(weightsPath, configBytes);
      const loadTensors = async () => (await loadModelFiles(spec, { hints })).tensors;
      return { config, loadTensors, modelKey, ...common };
    }
    const files = await loadModelFiles(spec, { hints });
    return { config: parseEncodecConfig(files.hfConfig, files.configSource ?? files.source), tensors: files.tensors, ...common };
  }
  if (typeof spec === "object" && spec !== null && spec.tensors instanceof Map) {
    return { config: isParsedConfig(spec.config) ? spec.config : parseEncodecConfig(spec.config), tensors: spec.tensors, ...common };
  }
  throw new TypeError("spec must be a path or { config, tensors }");
}
