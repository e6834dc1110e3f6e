import { CodecError } from "./errors.js";

/** How convolution weights are normalized: weight norm (24 kHz) or a one-group GroupNorm after each conv (48 kHz). */
export type NormType = "weight_norm" | "time_group_norm";

/** Padding mode of the SEANet convolutions (`torch.nn.functional.pad` names). */
export type PadMode = "reflect" | "constant" | "replicate";

/**
 * An EnCodec model's architecture, parsed from a Hugging Face `config.json` (see
 * {@link parseEncodecConfig}). Field names are camelCase versions of the Hub's snake_case ones,
 * with units where a number has one.
 */
export interface EncodecConfig {
  /** `sampling_rate`: audio sample rate in Hz. @default 24000 */
  readonly sampleRateHz: number;
  /** `audio_channels`: 1 (mono) or 2 (stereo). @default 1 */
  readonly audioChannels: number;
  /** `num_filters`: width of the first convolution. @default 32 */
  readonly numFilters: number;
  /** `hidden_size`: dimension of the latent (encoder output) vectors. @default 128 */
  readonly hiddenSize: number;
  /** `codebook_size`: entries per codebook (1024 → 10 bits a code). @default 1024 */
  readonly codebookSize: number;
  /** `codebook_dim`: codeword dimension; must equal `hiddenSize`. @default hiddenSize */
  readonly codebookDim: number;
  /** `upsampling_ratios`: decoder strides in order; the encoder uses them reversed. @default [8, 5, 4, 2] */
  readonly upsamplingRatios: readonly number[];
  /** `target_bandwidths`: supported bandwidths in kbps; the last is the largest. @default [1.5, 3, 6, 12, 24] */
  readonly targetBandwidthsKbps: readonly number[];
  /** `norm_type`. @default "weight_norm" */
  readonly normType: NormType;
  /** `use_causal_conv`: causal (all padding on the left) convolutions. @default true */
  readonly useCausalConv: boolean;
  /** `pad_mode`: padding of the convolutions. @default "reflect" */
  readonly padMode: PadMode;
  /** `normalize`: scale each segment by its RMS before encoding (48 kHz). @default false */
  readonly normalize: boolean;
  /** `chunk_length_s`: offline segment length in seconds, or null for one segment. @default null */
  readonly chunkLengthS: number | null;
  /** `overlap`: overlap between offline segments as a fraction of their length. @default null */
  readonly overlapRatio: number | null;
  /** `kernel_size`: kernel of the first convolution. @default 7 */
  readonly kernelSize: number;
  /** `last_kernel_size`: kernel of the last convolution. @default 7 */
  readonly lastKernelSize: number;
  /** `residual_kernel_size`: kernel of the first convolution of each residual block. @default 3 */
  readonly residualKernelSize: number;
  /** `dilation_growth_rate`: dilation of residual block j is rate^j. @default 2 */
  readonly dilationGrowthRate: number;
  /** `num_residual_layers`: residual blocks per resolution. @default 1 */
  readonly numResidualLayers: number;
  /** `num_lstm_layers`: LSTM layers after the encoder's / before the decoder's convolutions (0: none). @default 2 */
  readonly numLstmLayers: number;
  /** `compress`: channel reduction inside residual blocks. @default 2 */
  readonly compress: number;
  /** `trim_right_ratio`: share of a causal transposed convolution's padding trimmed on the right. @default 1 */
  readonly trimRightRatio: number;
  /** `use_conv_shortcut`: 1×1 convolution on the residual path (else identity). @default true */
  readonly useConvShortcut: boolean;
}

const DEFAULTS: EncodecConfig = {
  sampleRateHz: 24_000,
  audioChannels: 1,
  numFilters: 32,
  hiddenSize: 128,
  codebookSize: 1024,
  codebookDim: 128,
  upsamplingRatios: [8, 5, 4, 2],
  targetBandwidthsKbps: [1.5, 3, 6, 12, 24],
  normType: "weight_norm",
  useCausalConv: true,
  padMode: "reflect",
  normalize: false,
  chunkLengthS: null,
  overlapRatio: null,
  kernelSize: 7,
  lastKernelSize: 7,
  residualKernelSize: 3,
  dilationGrowthRate: 2,
  numResidualLayers: 1,
  numLstmLayers: 2,
  compress: 2,
  trimRightRatio: 1,
  useConvShortcut: true,
};

/** Largest values accepted from a config file (far above any real model; they bound allocations). */
const MAX_CHANNELS = 8;
const MAX_WIDTH = 4096;
const MAX_KERNEL = 1024;
const MAX_RATIOS = 16;
const MAX_CODEBOOK_SIZE = 65_536;
const MAX_QUANTIZERS = 1024;
const MAX_LAYERS = 64;

function bad(field: string, message: string): CodecError {
  return new CodecError("bad-config", `${field}: ${message}`);
}

function readInt(json: Record<string, unknown>, key: string, fallback: number, min: number, max: number, source: string): number {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(key, `${source}: must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function readNumber(json: Record<string, unknown>, key: string, fallback: number | null, check: (v: number) => boolean, range: string, source: string): number | null {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || !check(v)) {
    throw bad(key, `${source}: must be a number ${range}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function readBool(json: Record<string, unknown>, key: string, fallback: boolean, source: string): boolean {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw bad(key, `${source}: must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function readChoice<T extends string>(json: Record<string, unknown>, key: string, fallback: T, choices: readonly T[], source: string): T {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
    throw bad(key, `${source}: must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function readNumberArray(json: Record<string, unknown>, key: string, fallback: readonly number[], check: (v: number) => boolean, what: string, source: string): readonly number[] {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_RATIOS * 4 || !v.every((x) => typeof x === "number" && Number.isFinite(x) && check(x))) {
    throw bad(key, `${source}: must be a non-empty array of ${what}, got ${JSON.stringify(v)}`);
  }
  return Object.freeze([...(v as number[])]);
}

/**
 * Parse and validate an EnCodec `config.json` in the Hugging Face layout (`facebook/encodec_24khz`,
 * `facebook/encodec_48khz`). Missing fields take the Hugging Face defaults (those of
 * `EncodecConfig()` in transformers); unknown fields (`model_type`, `architectures`, ...) are ignored.
 *
 * @param json the parsed JSON object, or its text
 * @param source name of the file, for error messages
 * @returns a frozen {@link EncodecConfig}
 * @throws CodecError `bad-config`, the message starting with the offending field's Hub name
 */
export function parseEncodecConfig(json: unknown, source = "config.json"): EncodecConfig {
  let obj: unknown = json;
  if (typeof json === "string") {
    try {
      obj = JSON.parse(json);
    } catch (cause) {
      throw new CodecError("bad-config", `${source}: not valid JSON`, { cause });
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new CodecError("bad-config", `${source}: config must be a JSON object`);
  }
  const j = obj as Record<string, unknown>;
  if (j.model_type !== undefined && j.model_type !== "encodec") {
    throw bad("model_type", `${source}: must be "encodec", got ${JSON.stringify(j.model_type)}`);
  }
  const hiddenSize = readInt(j, "hidden_size", DEFAULTS.hiddenSize, 1, MAX_WIDTH, source);
  const positiveInt = (x: number) => Number.isInteger(x) && x >= 1 && x <= MAX_KERNEL;
  const config: EncodecConfig = {
    sampleRateHz: readInt(j, "sampling_rate", DEFAULTS.sampleRateHz, 1, 1_000_000, source),
    audioChannels: readInt(j, "audio_channels", DEFAULTS.audioChannels, 1, MAX_CHANNELS, source),
    numFilters: readInt(j, "num_filters", DEFAULTS.numFilters, 1, MAX_WIDTH, source),
    hiddenSize,
    codebookSize: readInt(j, "codebook_size", DEFAULTS.codebookSize, 2, MAX_CODEBOOK_SIZE, source),
    codebookDim: readInt(j, "codebook_dim", hiddenSize, 1, MAX_WIDTH, source),
    upsamplingRatios: readNumberArray(j, "upsampling_ratios", DEFAULTS.upsamplingRatios, positiveInt, "positive integers", source),
    targetBandwidthsKbps: readNumberArray(j, "target_bandwidths", DEFAULTS.targetBandwidthsKbps, (x) => x > 0, "positive numbers (kbps)", source),
    normType: readChoice(j, "norm_type", DEFAULTS.normType, ["weight_norm", "time_group_norm"], source),
    useCausalConv: readBool(j, "use_causal_conv", DEFAULTS.useCausalConv, source),
    padMode: readChoice(j, "pad_mode", DEFAULTS.padMode, ["reflect", "constant", "replicate"], source),
    normalize: readBool(j, "normalize", DEFAULTS.normalize, source),
    chunkLengthS: readNumber(j, "chunk_length_s", null, (x) => x > 0 && x <= 3600, "in (0, 3600] seconds", source),
    overlapRatio: readNumber(j, "overlap", null, (x) => x >= 0 && x < 1, "in [0, 1)", source),
    kernelSize: readInt(j, "kernel_size", DEFAULTS.kernelSize, 1, MAX_KERNEL, source),
    lastKernelSize: readInt(j, "last_kernel_size", DEFAULTS.lastKernelSize, 1, MAX_KERNEL, source),
    residualKernelSize: readInt(j, "residual_kernel_size", DEFAULTS.residualKernelSize, 1, MAX_KERNEL, source),
    dilationGrowthRate: readInt(j, "dilation_growth_rate", DEFAULTS.dilationGrowthRate, 1, MAX_KERNEL, source),
    numResidualLayers: readInt(j, "num_residual_layers", DEFAULTS.numResidualLayers, 0, MAX_LAYERS, source),
    numLstmLayers: readInt(j, "num_lstm_layers", DEFAULTS.numLstmLayers, 0, MAX_LAYERS, source),
    compress: readInt(j, "compress", DEFAULTS.compress, 1, MAX_WIDTH, source),
    trimRightRatio: readNumber(j, "trim_right_ratio", DEFAULTS.trimRightRatio, (x) => x >= 0 && x <= 1, "in [0, 1]", source) ?? 1,
    useConvShortcut: readBool(j, "use_conv_shortcut", DEFAULTS.useConvShortcut, source),
  };
  validateConsistency(config, source);
  return Object.freeze(config);
}

function validateConsistency(c: EncodecConfig, source: string): void {
  if (c.upsamplingRatios.length > MAX_RATIOS) throw bad("upsampling_ratios", `${source}: at most ${MAX_RATIOS} ratios`);
  if (c.codebookDim !== c.hiddenSize) {
    throw bad("codebook_dim", `${source}: must equal hidden_size (${c.hiddenSize}) — EnCodec has no codebook projection, got ${c.codebookDim}`);
  }
  if (c.normType === "time_group_norm" && c.useCausalConv) {
    throw bad("norm_type", `${source}: "time_group_norm" cannot be causal (use_causal_conv is true)`);
  }
  if (!c.useCausalConv && c.trimRightRatio !== 1) {
    throw bad("trim_right_ratio", `${source}: must be 1.0 for non-causal convolutions, got ${c.trimRightRatio}`);
  }
  if (Math.floor(c.numFilters / c.compress) < 1) {
    throw bad("compress", `${source}: num_filters / compress must be at least 1 (${c.numFilters} / ${c.compress})`);
  }
  const maxWidth = c.numFilters * 2 ** c.upsamplingRatios.length;
  if (maxWidth > MAX_WIDTH * 4) throw bad("num_filters", `${source}: num_filters × 2^ratios = ${maxWidth} is too wide`);
  if (c.chunkLengthS !== null && c.overlapRatio === null) {
    throw bad("overlap", `${source}: must be set when chunk_length_s is set`);
  }
  if (c.chunkLengthS !== null && Math.floor(c.chunkLengthS * c.sampleRateHz) < 1) {
    throw bad("chunk_length_s", `${source}: shorter than one sample`);
  }
  const total = numQuantizers(c);
  if (total < 1 || total > MAX_QUANTIZERS) {
    throw bad("target_bandwidths", `${source}: the largest bandwidth gives ${total} quantizers, need 1 to ${MAX_QUANTIZERS}`);
  }
  for (const bw of c.targetBandwidthsKbps) {
    const nq = numQuantizersForBandwidth(c, bw);
    if (nq > total) throw bad("target_bandwidths", `${source}: ${bw} kbps needs ${nq} quantizers, more than the model's ${total}`);
  }
}

/** Samples per latent frame: the product of the upsampling ratios (320 for both published models). */
export function hopLengthSamples(config: EncodecConfig): number {
  return config.upsamplingRatios.reduce((a, b) => a * b, 1);
}

/** Latent frames per second, `ceil(sampleRateHz / hop)` (75 at 24 kHz, 150 at 48 kHz). */
export function frameRateHz(config: EncodecConfig): number {
  return Math.ceil(config.sampleRateHz / hopLengthSamples(config));
}

/** Number of quantizer layers in the model (32 at 24 kHz, 16 at 48 kHz), derived from the largest bandwidth as Hugging Face does. */
export function numQuantizers(config: EncodecConfig): number {
  const last = config.targetBandwidthsKbps[config.targetBandwidthsKbps.length - 1] ?? 0;
  return Math.floor((1000 * last) / (frameRateHz(config) * 10));
}

/** Bits in one code: log2(codebookSize) (10 for 1024 entries). */
export function bitsPerCode(config: EncodecConfig): number {
  return Math.log2(config.codebookSize);
}

/**
 * Quantizers used at a bandwidth: `max(1, floor(kbps × 1000 / (log2(codebookSize) × frameRate)))`,
 * as the reference does. Does not check that the bandwidth is one of the model's.
 */
export function numQuantizersForBandwidth(config: EncodecConfig, bandwidthKbps: number): number {
  return Math.max(1, Math.floor((bandwidthKbps * 1000) / (bitsPerCode(config) * frameRateHz(config))));
}

/**
 * Check that `bandwidthKbps` is one of the model's target bandwidths (shared by the offline and
 * streaming codecs; not part of the package API).
 * @throws RangeError naming `name` otherwise
 */
export function checkBandwidth(config: EncodecConfig, bandwidthKbps: number, name: string): void {
  if (typeof bandwidthKbps !== "number" || !config.targetBandwidthsKbps.includes(bandwidthKbps)) {
    throw new RangeError(`${name} must be one of ${config.targetBandwidthsKbps.join(", ")} kbps for this model, got ${String(bandwidthKbps)}`);
  }
}

/** Offline segment length in samples (`int(chunk_length_s × rate)`), or null when the model encodes the input as one segment. */
export function segmentLengthSamples(config: EncodecConfig): number | null {
  return config.chunkLengthS === null ? null : Math.floor(config.chunkLengthS * config.sampleRateHz);
}

/** Step between offline segments in samples (`max(1, int((1 − overlap) × segment))`), or null without segments. */
export function segmentStrideSamples(config: EncodecConfig): number | null {
  const len = segmentLengthSamples(config);
  if (len === null) return null;
  return Math.max(1, Math.floor((1 - (config.overlapRatio ?? 0)) * len));
}

/** The config back in the Hugging Face `config.json` field names (stable key order; used for cache keys). */
export function encodecConfigToJson(config: EncodecConfig): Record<string, unknown> {
  return {
    model_type: "encodec",
    audio_channels: config.audioChannels,
    sampling_rate: config.sampleRateHz,
    num_filters: config.numFilters,
    hidden_size: config.hiddenSize,
    codebook_size: config.codebookSize,
    codebook_dim: config.codebookDim,
    upsampling_ratios: [...config.upsamplingRatios],
    target_bandwidths: [...config.targetBandwidthsKbps],
    norm_type: config.normType,
    use_causal_conv: config.useCausalConv,
    pad_mode: config.padMode,
    normalize: config.normalize,
    chunk_length_s: config.chunkLengthS,
    overlap: config.overlapRatio,
    kernel_size: config.kernelSize,
    last_kernel_size: config.lastKernelSize,
    residual_kernel_size: config.residualKernelSize,
    dilation_growth_rate: config.dilationGrowthRate,
    num_residual_layers: config.numResidualLayers,
    num_lstm_layers: config.numLstmLayers,
    compress: config.compress,
    trim_right_ratio: config.trimRightRatio,
    use_conv_shortcut: config.useConvShortcut,
  };
}
