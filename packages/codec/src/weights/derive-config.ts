import { encodecConfigToJson, parseEncodecConfig } from "../config.js";
import { CodecError } from "../errors.js";
import { hasOriginalNames, mapOriginalToHfNames } from "./name-map.js";
import type { RawTensor, TensorMap } from "./raw-tensor.js";

/**
 * An EnCodec `config.json` as the Hugging Face Hub publishes it (`facebook/encodec_24khz`,
 * `facebook/encodec_48khz`), with its field names. Plain JSON data.
 */
export interface EncodecHfConfigJson {
  model_type: "encodec";
  architectures: string[];
  audio_channels: number;
  sampling_rate: number;
  num_filters: number;
  hidden_size: number;
  codebook_size: number;
  codebook_dim: number;
  upsampling_ratios: number[];
  target_bandwidths: number[];
  norm_type: "weight_norm" | "time_group_norm";
  use_causal_conv: boolean;
  pad_mode: string;
  normalize: boolean;
  chunk_length_s: number | null;
  overlap: number | null;
  kernel_size: number;
  last_kernel_size: number;
  residual_kernel_size: number;
  dilation_growth_rate: number;
  num_residual_layers: number;
  num_lstm_layers: number;
  compress: number;
  trim_right_ratio: number;
  use_conv_shortcut: boolean;
}

/**
 * Settings that the weights do not determine. {@link deriveHfConfig} takes them from the published
 * model with the same channel count unless given here.
 */
export type DeriveConfigHints = Partial<
  Pick<
    EncodecHfConfigJson,
    | "sampling_rate"
    | "use_causal_conv"
    | "normalize"
    | "chunk_length_s"
    | "overlap"
    | "pad_mode"
    | "trim_right_ratio"
    | "dilation_growth_rate"
    | "target_bandwidths"
  >
>;

/** The fields a {@link DeriveConfigHints} may set (any other key in `hints` is ignored). */
const HINT_FIELDS = [
  "sampling_rate",
  "use_causal_conv",
  "normalize",
  "chunk_length_s",
  "overlap",
  "pad_mode",
  "trim_right_ratio",
  "dilation_growth_rate",
  "target_bandwidths",
] as const satisfies ReadonlyArray<keyof DeriveConfigHints>;

/**
 * `facebook/encodec_24khz` config.json (the mono model). Its values are transformers'
 * `EncodecConfig` defaults, which `parseEncodecConfig` applies to an empty config.
 */
const ENCODEC_24KHZ: Readonly<EncodecHfConfigJson> = {
  ...(encodecConfigToJson(parseEncodecConfig({}, "defaults")) as Omit<EncodecHfConfigJson, "architectures">),
  architectures: ["EncodecModel"],
};

/** `facebook/encodec_48khz` config.json (the stereo model): differs from 24 kHz only in these fields. */
const ENCODEC_48KHZ: Readonly<EncodecHfConfigJson> = {
  ...ENCODEC_24KHZ,
  audio_channels: 2,
  sampling_rate: 48000,
  target_bandwidths: [3.0, 6.0, 12.0, 24.0],
  norm_type: "time_group_norm",
  use_causal_conv: false,
  normalize: true,
  chunk_length_s: 1.0,
  overlap: 0.01,
};

/** The published model names whose `config.json` {@link publishedHfConfig} knows. */
export type PublishedModelName = "encodec_24khz" | "encodec_48khz";

/**
 * A fresh copy of the `config.json` of a published EnCodec model (`facebook/encodec_24khz`,
 * `facebook/encodec_48khz`): full-size architecture, e.g. for seeded random weights in benchmarks.
 * The 24 kHz values are also transformers' `EncodecConfig` defaults.
 */
export function publishedHfConfig(name: PublishedModelName): EncodecHfConfigJson {
  const base = name === "encodec_24khz" ? ENCODEC_24KHZ : name === "encodec_48khz" ? ENCODEC_48KHZ : undefined;
  if (!base) throw new RangeError(`name must be "encodec_24khz" or "encodec_48khz", got ${String(name)}`);
  return { ...base, architectures: [...base.architectures], upsampling_ratios: [...base.upsampling_ratios], target_bandwidths: [...base.target_bandwidths] };
}

/** Layer kinds of a SEANet stack, by the parameters found under `…layers.N.`. */
type LayerKind = "conv" | "block" | "lstm";

/**
 * Derive a Hugging Face-style EnCodec `config.json` object from the weights alone (for an original
 * `.th` checkpoint that comes without one).
 *
 * From the shapes: `audio_channels`, `num_filters`, `kernel_size`, `upsampling_ratios` (each
 * downsampling kernel is 2 × its ratio), `num_residual_layers`, `residual_kernel_size`, `compress`,
 * `use_conv_shortcut`, `num_lstm_layers`, `hidden_size`, `last_kernel_size`, `codebook_size`,
 * `codebook_dim`, `norm_type` (group-norm weights → `time_group_norm`, else `weight_norm`) and the
 * number of codebooks (the largest of `target_bandwidths`). The rest (`sampling_rate`,
 * `use_causal_conv`, `normalize`, `chunk_length_s`, `overlap`, padding, dilation growth, the list of
 * bandwidths) is taken from the published model with the same channel count (1 → encodec_24khz,
 * 2 → encodec_48khz) unless given in `hints`.
 *
 * @param tensors weights under Hugging Face names, or original names (mapped first)
 * @returns a fresh plain object, safe to serialise with `JSON.stringify`
 * @throws CodecError `missing-tensor` / `shape-mismatch` when the weights are not an EnCodec model,
 *   `unsupported` for a channel count other than 1 or 2 without a `sampling_rate` hint
 */
export function deriveHfConfig(tensors: TensorMap, hints: DeriveConfigHints = {}, source = "weights"): EncodecHfConfigJson {
  const hf = hasOriginalNames(tensors) ? mapOriginalToHfNames(tensors, source) : tensors;
  const shapes = new ShapeReader(hf, source);

  const enc = layerKinds(hf, "encoder", source);
  const first = shapes.conv("encoder.layers.0");
  const [numFilters, audioChannels, kernelSize] = first.dims as [number, number, number];

  const ratiosDownFirst: number[] = [];
  let blocksPerStage: number | undefined;
  let residual: { kernel: number; compress: number; shortcut: boolean } | undefined;
  let channels = numFilters;
  let i = 1;
  while (i < enc.length && enc[i]![1] !== "lstm") {
    let blocks = 0;
    for (; i < enc.length && enc[i]![1] === "block"; i++, blocks++) {
      const r = shapes.residualBlock(`encoder.layers.${enc[i]![0]}`, channels);
      if (residual && (r.kernel !== residual.kernel || r.compress !== residual.compress || r.shortcut !== residual.shortcut)) {
        throw new CodecError("shape-mismatch", `${source}: residual block encoder.layers.${enc[i]![0]} differs from the earlier ones`);
      }
      residual = r;
    }
    if (blocksPerStage !== undefined && blocks !== blocksPerStage) {
      throw new CodecError("shape-mismatch", `${source}: encoder stages have ${blocksPerStage} and ${blocks} residual blocks`);
    }
    blocksPerStage = blocks;
    const down = enc[i];
    if (!down || down[1] !== "conv") throw new CodecError("shape-mismatch", `${source}: expected a downsampling convolution after encoder.layers.${enc[i - 1]![0]}`);
    const w = shapes.conv(`encoder.layers.${down[0]}`, [channels * 2, channels]);
    const k = w.dims[2]!;
    if (k % 2 !== 0) throw new CodecError("shape-mismatch", `${source}: downsampling kernel ${k} of encoder.layers.${down[0]} is odd (expected 2 × ratio)`);
    ratiosDownFirst.push(k / 2);
    channels *= 2;
    i++;
  }
  const lstmAt = enc[i];
  if (!lstmAt || ratiosDownFirst.length === 0) throw new CodecError("missing-tensor", `${source}: no encoder LSTM after the downsampling stages`);
  const numLstmLayers = shapes.lstmLayers(`encoder.layers.${lstmAt[0]}.lstm`, channels);
  const last = enc[i + 1];
  if (!last || last[1] !== "conv" || i + 2 !== enc.length) throw new CodecError("shape-mismatch", `${source}: expected one final convolution after the encoder LSTM`);
  const finalConv = shapes.conv(`encoder.layers.${last[0]}`, [undefined, channels]);
  const [hiddenSize, , lastKernelSize] = finalConv.dims as [number, number, number];

  const upsamplingRatios = [...ratiosDownFirst].reverse();
  checkDecoder(hf, shapes, upsamplingRatios, source);

  const codebooks = shapes.codebooks();
  const normType = hf.has("encoder.layers.0.norm.weight") ? "time_group_norm" : "weight_norm";
  if (audioChannels !== 1 && audioChannels !== 2 && hints.sampling_rate === undefined) {
    throw new CodecError("unsupported", `${source}: ${audioChannels} audio channels matches no published EnCodec model; give a sampling_rate hint`);
  }
  const base = publishedHfConfig(audioChannels === 2 ? "encodec_48khz" : "encodec_24khz");
  const samplingRate = hints.sampling_rate ?? base.sampling_rate;
  const frameRate = Math.ceil(samplingRate / upsamplingRatios.reduce((a, b) => a * b, 1));
  const kbpsPerCodebook = (frameRate * Math.log2(codebooks.size)) / 1000;

  const derived: EncodecHfConfigJson = {
    ...base,
    audio_channels: audioChannels,
    sampling_rate: samplingRate,
    num_filters: numFilters,
    hidden_size: hiddenSize,
    codebook_size: codebooks.size,
    codebook_dim: codebooks.dim,
    upsampling_ratios: upsamplingRatios,
    target_bandwidths: bandwidthsFor(base.target_bandwidths, kbpsPerCodebook, codebooks.count),
    norm_type: normType,
    kernel_size: kernelSize,
    last_kernel_size: lastKernelSize,
    residual_kernel_size: residual?.kernel ?? base.residual_kernel_size,
    num_residual_layers: blocksPerStage ?? 0,
    num_lstm_layers: numLstmLayers,
    compress: residual?.compress ?? base.compress,
    use_conv_shortcut: residual?.shortcut ?? base.use_conv_shortcut,
  };
  for (const field of HINT_FIELDS) {
    const value = hints[field];
    if (value !== undefined) (derived as unknown as Record<string, unknown>)[field] = Array.isArray(value) ? [...value] : value;
  }
  return derived;
}

/**
 * The published bandwidths that `count` codebooks can serve (each a whole number of codebooks),
 * ending with the bandwidth of all of them.
 */
function bandwidthsFor(published: readonly number[], kbpsPerCodebook: number, count: number): number[] {
  const whole = (x: number): boolean => Math.abs(x - Math.round(x)) < 1e-9;
  const out = published.filter((b) => whole(b / kbpsPerCodebook) && b / kbpsPerCodebook >= 1 && b / kbpsPerCodebook <= count + 1e-9);
  const all = count * kbpsPerCodebook;
  if (!out.some((b) => Math.abs(b - all) < 1e-9)) out.push(all);
  return out;
}

/** The decoder must mirror the encoder: its transposed convolutions have kernels 2 × ratio, in upsampling order. */
function checkDecoder(hf: TensorMap, shapes: ShapeReader, ratios: readonly number[], source: string): void {
  const dec = layerKinds(hf, "decoder", source);
  const convs = dec.filter(([, kind]) => kind === "conv").slice(1, -1);
  if (convs.length !== ratios.length) {
    throw new CodecError("shape-mismatch", `${source}: the decoder has ${convs.length} upsampling layers, the encoder ${ratios.length} downsampling layers`);
  }
  convs.forEach(([index], j) => {
    const k = shapes.conv(`decoder.layers.${index}`).dims[2];
    if (k !== 2 * ratios[j]!) {
      throw new CodecError("shape-mismatch", `${source}: decoder.layers.${index} kernel ${k} does not match upsampling ratio ${ratios[j]}`);
    }
  });
}

/** `[index, kind]` of each parameterised top-level layer of `encoder` / `decoder`, by index. */
function layerKinds(hf: TensorMap, part: "encoder" | "decoder", source: string): Array<[number, LayerKind]> {
  const kinds = new Map<number, LayerKind>();
  const pattern = new RegExp(`^${part}\\.layers\\.(\\d+)\\.(conv|norm|block|shortcut|lstm)\\.`);
  for (const name of hf.keys()) {
    const m = pattern.exec(name);
    if (!m) continue;
    const kind: LayerKind = m[2] === "lstm" ? "lstm" : m[2] === "block" || m[2] === "shortcut" ? "block" : "conv";
    const index = Number(m[1]);
    const known = kinds.get(index);
    if (known && known !== kind) throw new CodecError("shape-mismatch", `${source}: ${part}.layers.${index} mixes ${known} and ${kind} parameters`);
    kinds.set(index, kind);
  }
  if (kinds.size === 0) throw new CodecError("missing-tensor", `${source}: no ${part}.layers.* tensors`);
  return [...kinds].sort((a, b) => a[0] - b[0]);
}

/** Reads and checks the shapes of named parameters. */
class ShapeReader {
  constructor(
    private readonly hf: TensorMap,
    private readonly source: string,
  ) {}

  private get(name: string): RawTensor {
    const t = this.hf.get(name);
    if (!t) throw new CodecError("missing-tensor", `${this.source}: missing tensor ${name}`);
    return t;
  }

  /**
   * The 3-d weight of the convolution under `prefix` (`weight_v` with weight norm, else `weight`),
   * optionally checked against `[out, in]` channels.
   */
  conv(prefix: string, channels?: [number | undefined, number | undefined]): RawTensor {
    const name = [`${prefix}.conv.weight_v`, `${prefix}.conv.weight`, `${prefix}.conv.parametrizations.weight.original1`].find((n) => this.hf.has(n)) ?? `${prefix}.conv.weight`;
    const w = this.get(name);
    if (w.dims.length !== 3 || w.dims.some((d) => d <= 0)) throw new CodecError("shape-mismatch", `${this.source}: ${name} has shape [${w.dims.join(", ")}], expected [out, in, kernel]`);
    const [out, inp] = w.dims as [number, number, number];
    if (channels && ((channels[0] !== undefined && channels[0] !== out) || (channels[1] !== undefined && channels[1] !== inp))) {
      throw new CodecError("shape-mismatch", `${this.source}: ${name} has shape [${w.dims.join(", ")}], expected ${channels[0] ?? "?"} out and ${channels[1] ?? "?"} in channels`);
    }
    return w;
  }

  /** A residual block over `dim` channels: ELU, conv(dim → dim/compress, k), ELU, conv(→ dim, 1) [+ 1×1 shortcut]. */
  residualBlock(prefix: string, dim: number): { kernel: number; compress: number; shortcut: boolean } {
    const a = this.conv(`${prefix}.block.1`, [undefined, dim]);
    const hidden = a.dims[0]!;
    this.conv(`${prefix}.block.3`, [dim, hidden]);
    if (dim % hidden !== 0) throw new CodecError("shape-mismatch", `${this.source}: ${prefix} hidden width ${hidden} does not divide ${dim}`);
    const shortcut = [...this.hf.keys()].some((n) => n.startsWith(`${prefix}.shortcut.`));
    if (shortcut) this.conv(`${prefix}.shortcut`, [dim, dim]);
    return { kernel: a.dims[2]!, compress: dim / hidden, shortcut };
  }

  /** Number of layers of the LSTM under `prefix` (`weight_ih_l0`, `weight_ih_l1`, …), each `[4·dim, dim]`. */
  lstmLayers(prefix: string, dim: number): number {
    let n = 0;
    for (; this.hf.has(`${prefix}.weight_ih_l${n}`); n++) {
      const w = this.get(`${prefix}.weight_ih_l${n}`);
      if (w.dims.length !== 2 || w.dims[0] !== 4 * dim || w.dims[1] !== dim) {
        throw new CodecError("shape-mismatch", `${this.source}: ${prefix}.weight_ih_l${n} has shape [${w.dims.join(", ")}], expected [${4 * dim}, ${dim}]`);
      }
    }
    if (n === 0) throw new CodecError("missing-tensor", `${this.source}: missing tensor ${prefix}.weight_ih_l0`);
    return n;
  }

  /** Count and shape of `quantizer.layers.K.codebook.embed`, K = 0, 1, …; all alike. */
  codebooks(): { count: number; size: number; dim: number } {
    const first = this.get("quantizer.layers.0.codebook.embed");
    if (first.dims.length !== 2 || first.dims[0]! < 2) throw new CodecError("shape-mismatch", `${this.source}: quantizer.layers.0.codebook.embed has shape [${first.dims.join(", ")}]`);
    const [size, dim] = first.dims as [number, number];
    let count = 1;
    for (; this.hf.has(`quantizer.layers.${count}.codebook.embed`); count++) {
      const d = this.get(`quantizer.layers.${count}.codebook.embed`).dims;
      if (d.length !== 2 || d[0] !== size || d[1] !== dim) {
        throw new CodecError("shape-mismatch", `${this.source}: quantizer.layers.${count}.codebook.embed has shape [${d.join(", ")}], expected [${size}, ${dim}]`);
      }
    }
    return { count, size, dim };
  }
}
