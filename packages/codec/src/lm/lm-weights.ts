import { CodecError } from "../errors.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { arenaOf, LmArenaBuilder, roundUp4, scratchFloatsFor } from "./internal/lm-arena.js";
import {
  LM_DEFAULT_NUM_HEADS,
  LM_MAX_CODEBOOKS,
  LM_MAX_DIM,
  LM_MAX_LAYERS,
  LM_MAX_PAST_CONTEXT_FRAMES,
  LM_MAX_PERIOD_FRAMES,
  LM_PAST_CONTEXT_SECONDS,
} from "./constants.js";

/** Hyper-parameters of an EnCodec language model (`LMModel` + `StreamingTransformerEncoder`). */
export interface LmHyperParams {
  /** Transformer width (200 for the published models). */
  readonly dim: number;
  /** Number of transformer layers (5 for the published models). */
  readonly numLayers: number;
  /** Attention heads; `dim` must be a multiple. */
  readonly numHeads: number;
  /** Width of the feed-forward block (`int(dim * hidden_scale)`). */
  readonly hiddenDim: number;
  /** Codebooks the model has embeddings and heads for (`n_q`: 32 at 24 kHz, 16 at 48 kHz). */
  readonly numCodebooks: number;
  /** Codebook size (1024). */
  readonly cardinality: number;
  /** Past frames each step attends to (`past_context`: 262 at 75 Hz, 525 at 150 Hz). */
  readonly pastContext: number;
  /** Longest period of the positional embedding, in frames (10000). */
  readonly maxPeriod: number;
}

/** One transformer layer's parameters, row-major `[out, in]` matrices, float32. */
export interface LmLayerWeights {
  /** Packed query/key/value projection `[3 dim, dim]` and its bias `[3 dim]`. */
  readonly inProjWeight: Float32Array;
  readonly inProjBias: Float32Array;
  /** Attention output projection `[dim, dim]` and bias `[dim]`. */
  readonly outProjWeight: Float32Array;
  readonly outProjBias: Float32Array;
  /** Feed-forward `linear1` `[hidden, dim]` + bias, `linear2` `[dim, hidden]` + bias. */
  readonly linear1Weight: Float32Array;
  readonly linear1Bias: Float32Array;
  readonly linear2Weight: Float32Array;
  readonly linear2Bias: Float32Array;
  /** LayerNorm after attention (`norm1`) and after feed-forward (`norm2`), gain and bias `[dim]`. */
  readonly norm1Weight: Float32Array;
  readonly norm1Bias: Float32Array;
  readonly norm2Weight: Float32Array;
  readonly norm2Bias: Float32Array;
}

/**
 * A loaded, validated EnCodec language model. Immutable once loaded; one instance can be shared
 * by any number of coders and streams (each keeps its own state).
 */
export interface LmWeights {
  readonly hyper: LmHyperParams;
  /** Input LayerNorm (`transformer.norm_in`) gain and bias `[dim]`. */
  readonly normInWeight: Float32Array;
  readonly normInBias: Float32Array;
  readonly layers: readonly LmLayerWeights[];
  /** Per codebook: embedding table `[cardinality + 1, dim]` (row 0 = "no previous code"). */
  readonly embeddings: readonly Float32Array[];
  /** Per codebook: output head `[cardinality, dim]` and bias `[cardinality]`. */
  readonly headWeights: readonly Float32Array[];
  readonly headBiases: readonly Float32Array[];
}

/** Options of {@link loadLmWeights}: the hyper-parameters that tensor shapes cannot tell. */
export interface LoadLmWeightsOptions {
  /**
   * Attention heads.
   * @default 8 (the published models and the test fixtures)
   */
  numHeads?: number;
  /**
   * Past frames attended to. When absent it is `int(3.5 * frameRateHz)`.
   * @default int(3.5 * frameRateHz)
   */
  pastContext?: number;
  /**
   * Frame rate of the codec the model belongs to, used for `pastContext` when that is absent.
   * @default 75 when the model has 32 codebooks (24 kHz), 150 when it has 16 (48 kHz)
   */
  frameRateHz?: number;
  /**
   * Longest period of the positional embedding.
   * @default 10000
   */
  maxPeriod?: number;
  /**
   * Name of the file, for error messages.
   * @default "language model"
   */
  source?: string;
  /**
   * Codebooks to load: only the embeddings and output heads of the first `numCodebooks` are kept
   * (and checked), the others are skipped. An offline coder at one bandwidth needs only its own
   * (8 of 32 at 6 kbps, 24 kHz): about a quarter of the memory. The loaded model's
   * `hyper.numCodebooks` is this number; coders asking for more are refused.
   * @default all the model has
   */
  numCodebooks?: number;
}

const LAYER_PARAMS = [
  ["self_attn.in_proj_weight", "inProjWeight"],
  ["self_attn.in_proj_bias", "inProjBias"],
  ["self_attn.out_proj.weight", "outProjWeight"],
  ["self_attn.out_proj.bias", "outProjBias"],
  ["linear1.weight", "linear1Weight"],
  ["linear1.bias", "linear1Bias"],
  ["linear2.weight", "linear2Weight"],
  ["linear2.bias", "linear2Bias"],
  ["norm1.weight", "norm1Weight"],
  ["norm1.bias", "norm1Bias"],
  ["norm2.weight", "norm2Weight"],
  ["norm2.bias", "norm2Bias"],
] as const;

function countIndexed(tensors: TensorMap, pattern: RegExp, limit: number, what: string, source: string): number {
  let max = -1;
  for (const name of tensors.keys()) {
    const m = pattern.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  if (max + 1 > limit) throw new CodecError("unsupported", `${source}: ${max + 1} ${what} exceed the limit of ${limit}`);
  return max + 1;
}

function integerOption(value: number | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/**
 * Build an {@link LmWeights} from named tensors: a `lm.safetensors`, or an original
 * `encodec_lm_*.th` read by `readTorchCheckpoint` (both use the `LMModel` state-dict names:
 * `transformer.norm_in.weight`, `transformer.layers.{i}.self_attn.in_proj_weight`, ...,
 * `emb.{k}.weight`, `linears.{k}.weight`). Dimensions, layer and codebook counts are inferred from
 * the shapes; heads and past context come from `options`. Every tensor's shape is checked and
 * every value must be finite.
 *
 * The model's arrays are copied once into one block of memory, the WebAssembly memory the SIMD
 * kernels run on where available, so the weights are held once and `tensors` need not be kept.
 * Tensors that already lie in such a block (as `readLmWeightsFile` of `@encstream/codec/node`
 * reads them) are used where they are, without a copy.
 *
 * @throws CodecError `missing-tensor` / `unexpected-tensor` / `shape-mismatch` (naming the tensor,
 *   the expected and the actual shape) / `corrupt` (non-finite value) / `unsupported` (sizes past
 *   the limits in constants.ts)
 * @throws RangeError when an option is out of range or `dim` is not a multiple of `numHeads`
 */
export function loadLmWeights(tensors: TensorMap, options: LoadLmWeightsOptions = {}): LmWeights {
  const source = options.source ?? "language model";
  const used = new Set<string>();
  const take = (name: string, dims: readonly number[]): Float32Array => {
    const t = tensors.get(name);
    if (t === undefined) throw new CodecError("missing-tensor", `${source}: tensor ${name} is missing`);
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      throw new CodecError("shape-mismatch", `${source}: tensor ${name} should have shape [${dims.join(", ")}], has [${t.dims.join(", ")}]`);
    }
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new CodecError("corrupt", `${source}: tensor ${name} has a non-finite value at element ${i}`);
    }
    used.add(name);
    return data;
  };

  const emb0 = tensors.get("emb.0.weight");
  const head0 = tensors.get("linears.0.weight");
  if (emb0 === undefined) throw new CodecError("missing-tensor", `${source}: tensor emb.0.weight is missing`);
  if (head0 === undefined) throw new CodecError("missing-tensor", `${source}: tensor linears.0.weight is missing`);
  if (emb0.dims.length !== 2 || head0.dims.length !== 2) {
    throw new CodecError("shape-mismatch", `${source}: emb.0.weight [${emb0.dims.join(", ")}] and linears.0.weight [${head0.dims.join(", ")}] must be matrices`);
  }
  const dim = emb0.dims[1]!;
  const cardinality = emb0.dims[0]! - 1;
  if (dim < 4 || dim > LM_MAX_DIM || dim % 2 !== 0) throw new CodecError("unsupported", `${source}: model width ${dim} must be even and in [4, ${LM_MAX_DIM}]`);
  if (cardinality < 2 || cardinality > 65536) throw new CodecError("unsupported", `${source}: codebook size ${cardinality} must be in [2, 65536]`);

  const numLayers = countIndexed(tensors, /^transformer\.layers\.(\d+)\./, LM_MAX_LAYERS, "layers", source);
  const modelCodebooks = countIndexed(tensors, /^emb\.(\d+)\.weight$/, LM_MAX_CODEBOOKS, "codebooks", source);
  const numCodebooks = integerOption(options.numCodebooks, "options.numCodebooks", 1, Math.max(1, modelCodebooks)) ?? modelCodebooks;
  if (numLayers === 0) throw new CodecError("missing-tensor", `${source}: no transformer.layers.* tensors`);
  const lin1 = tensors.get("transformer.layers.0.linear1.weight");
  if (lin1 === undefined) throw new CodecError("missing-tensor", `${source}: tensor transformer.layers.0.linear1.weight is missing`);
  const hiddenDim = lin1.dims[0] ?? 0;
  if (lin1.dims.length !== 2 || hiddenDim < 1 || hiddenDim > 16 * LM_MAX_DIM) {
    throw new CodecError("shape-mismatch", `${source}: tensor transformer.layers.0.linear1.weight should have shape [hidden, ${dim}], has [${lin1.dims.join(", ")}]`);
  }

  const numHeads = integerOption(options.numHeads, "options.numHeads", 1, dim) ?? LM_DEFAULT_NUM_HEADS;
  if (dim % numHeads !== 0) throw new RangeError(`options.numHeads must divide the model width ${dim}, got ${numHeads}`);
  const frameRateHz = options.frameRateHz;
  if (frameRateHz !== undefined && !(Number.isFinite(frameRateHz) && frameRateHz > 0)) {
    throw new RangeError(`options.frameRateHz must be a positive number, got ${frameRateHz}`);
  }
  let pastContext = integerOption(options.pastContext, "options.pastContext", 1, LM_MAX_PAST_CONTEXT_FRAMES);
  if (pastContext === undefined) {
    const rate = frameRateHz ?? (modelCodebooks === 32 ? 75 : modelCodebooks === 16 ? 150 : undefined);
    if (rate === undefined) {
      throw new TypeError(`options.pastContext or options.frameRateHz is required for a model with ${modelCodebooks} codebooks`);
    }
    pastContext = Math.floor(LM_PAST_CONTEXT_SECONDS * rate);
    if (pastContext < 1 || pastContext > LM_MAX_PAST_CONTEXT_FRAMES) {
      throw new RangeError(`options.frameRateHz gives a past context of ${pastContext} frames, outside [1, ${LM_MAX_PAST_CONTEXT_FRAMES}]`);
    }
  }
  const maxPeriod = options.maxPeriod ?? LM_MAX_PERIOD_FRAMES;
  if (!(Number.isFinite(maxPeriod) && maxPeriod > 1)) throw new RangeError(`options.maxPeriod must be a number > 1, got ${maxPeriod}`);

  const normInWeight = take("transformer.norm_in.weight", [dim]);
  const normInBias = take("transformer.norm_in.bias", [dim]);
  const layers: LmLayerWeights[] = [];
  for (let i = 0; i < numLayers; i++) {
    const shapes: Record<(typeof LAYER_PARAMS)[number][1], number[]> = {
      inProjWeight: [3 * dim, dim],
      inProjBias: [3 * dim],
      outProjWeight: [dim, dim],
      outProjBias: [dim],
      linear1Weight: [hiddenDim, dim],
      linear1Bias: [hiddenDim],
      linear2Weight: [dim, hiddenDim],
      linear2Bias: [dim],
      norm1Weight: [dim],
      norm1Bias: [dim],
      norm2Weight: [dim],
      norm2Bias: [dim],
    };
    const layer = {} as Record<(typeof LAYER_PARAMS)[number][1], Float32Array>;
    for (const [suffix, key] of LAYER_PARAMS) layer[key] = take(`transformer.layers.${i}.${suffix}`, shapes[key]);
    layers.push(layer);
  }
  const embeddings: Float32Array[] = [];
  const headWeights: Float32Array[] = [];
  const headBiases: Float32Array[] = [];
  for (let k = 0; k < numCodebooks; k++) {
    embeddings.push(take(`emb.${k}.weight`, [cardinality + 1, dim]));
    headWeights.push(take(`linears.${k}.weight`, [cardinality, dim]));
    headBiases.push(take(`linears.${k}.bias`, [cardinality]));
  }
  for (let k = numCodebooks; k < modelCodebooks; k++) for (const name of [`emb.${k}.weight`, `linears.${k}.weight`, `linears.${k}.bias`]) used.add(name);
  for (const name of tensors.keys()) {
    if (!used.has(name)) throw new CodecError("unexpected-tensor", `${source}: tensor ${name} is not part of an EnCodec language model`);
  }
  const taken = [normInWeight, normInBias, ...layers.flatMap((l) => LAYER_PARAMS.map(([, key]) => l[key])), ...embeddings, ...headWeights, ...headBiases];
  const home = arenaOf(normInWeight);
  const keep = home !== undefined && taken.every((a) => arenaOf(a) === home && a.byteOffset % 16 === 0);
  let place = (a: Float32Array): Float32Array => a;
  if (!keep) {
    let floats = 0;
    for (const a of taken) floats += roundUp4(a.length);
    const builder = new LmArenaBuilder(floats, scratchFloatsFor(Math.max(3 * dim, hiddenDim, cardinality + 1)));
    place = (a) => {
      const copy = builder.take(a.length);
      copy.set(a);
      return copy;
    };
  }
  return {
    hyper: { dim, numLayers, numHeads, hiddenDim, numCodebooks, cardinality, pastContext, maxPeriod },
    normInWeight: place(normInWeight),
    normInBias: place(normInBias),
    layers: layers.map((l) => {
      const out = {} as Record<(typeof LAYER_PARAMS)[number][1], Float32Array>;
      for (const [, key] of LAYER_PARAMS) out[key] = place(l[key]);
      return out;
    }),
    embeddings: embeddings.map(place),
    headWeights: headWeights.map(place),
    headBiases: headBiases.map(place),
  };
}
