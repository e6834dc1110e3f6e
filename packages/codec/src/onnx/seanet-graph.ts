import type { EncodecConfig } from "../config.js";
import type { ConvLayer, ConvTransposeLayer, LstmLayer, ResnetLayer, SeanetLayer } from "../model/architecture.js";
import type { RawTensor } from "../weights/raw-tensor.js";
import { attr, type GraphBuilder } from "./graph-builder.js";
import { addInt4LstmStack } from "./int4-graph.js";
import { addInt8Conv, addInt8Lstm, addTimeMajorConv, isQuantized, type CodecPrecision, type ProductPrecision } from "./int8-graph.js";
import { OnnxDataType } from "./onnx-proto.js";

/** What the layer builders need: the graph under construction, the config and the prepared weights. */
export interface SeanetContext {
  readonly g: GraphBuilder;
  readonly config: EncodecConfig;
  readonly weights: ReadonlyMap<string, RawTensor>;
  /** Numeric precision of the convolutions and LSTMs (see `int8-graph.ts`). @default "float32" */
  readonly precision?: CodecPrecision;
}

/**
 * The fewest input and output channels a convolution of the int8 precision runs in int8 with.
 * In the published models' layout (32 filters) that leaves float32 only the first and last
 * convolutions, which read and write audio, and the two inner convolutions of the residual block
 * at the audio end (16 channels). Until graph version 3 it was 128 (the low-rate layers only):
 * running the high-rate blocks in int8 too took a further 5–10 % off a full-size frame, for an
 * SNR against float32 of 46 dB instead of 74 (the codec README's fidelity table); taking the
 * 16-channel ones too saved no measurable time and cost 2 dB more.
 */
export const INT8_MIN_CHANNELS = 32;

/**
 * How the matrix product of a quantized precision's convolution from `cin` to `cout` channels
 * runs: float32 below {@link INT8_MIN_CHANNELS} channels; otherwise int8, or with the int4
 * precision 4-bit for the convolutions at the frame rate, those that read or write the widest
 * layout (`num_filters · 2^ratios` channels: one matrix row a frame; see int4-graph.ts).
 */
export function convProduct(ctx: SeanetContext, cin: number, cout: number): ProductPrecision {
  if (!isQuantized(ctx.precision) || Math.min(cin, cout) < INT8_MIN_CHANNELS) return "float32";
  const frameRateWidth = ctx.config.numFilters * 2 ** ctx.config.upsamplingRatios.length;
  return ctx.precision === "int4" && Math.max(cin, cout) === frameRateWidth ? "int4" : "int8";
}

/** GroupNorm epsilon (PyTorch's default, used by the reference's `time_group_norm`). */
const GROUP_NORM_EPS = 1e-5;

function weight(ctx: SeanetContext, name: string): RawTensor {
  const t = ctx.weights.get(name);
  if (!t) throw new Error(`graph builder: prepared weights lack ${name}`);
  return t;
}

/** Add prepared weight `name` as an initializer (with `dims`, default its own shape) and return its name. @throws Error when the prepared weights lack it */
export function weightInitializer(ctx: SeanetContext, name: string, dims?: readonly number[]): string {
  const t = weight(ctx, name);
  return ctx.g.initializer(name, t.data, dims ?? t.dims);
}

/** The time length of a `[B, C, T]` value as a 1-D int64 tensor of one element. */
function timeLength(g: GraphBuilder, x: string): string {
  return g.op("Shape", [x], { start: attr.int(2), end: attr.int(3) }, "len");
}

/**
 * Pad a `[B, C, T]` value as the reference's SConv1d does before its convolution:
 * `padding_total = k_eff − stride` split causal (all left) or non-causal (right = total // 2),
 * plus `ceil(T / stride) · stride − T` extra on the right so the last window is full. With
 * reflect padding, an input no longer than the largest pad is first zero-extended on the right
 * (and the extension cropped after), like the reference's `pad1d`. T is only known at run time,
 * so the pads are computed in the graph from the input's shape.
 */
export function addSconvPad(ctx: SeanetContext, x: string, kernelEff: number, stride: number): string {
  const { g, config } = ctx;
  const total = kernelEff - stride;
  const rightStatic = config.useCausalConv ? 0 : Math.floor(total / 2);
  const left = total - rightStatic;
  if (stride === 1 && total === 0) return x;
  const len = timeLength(g, x);
  let right: string;
  if (stride === 1) {
    right = g.int64([rightStatic]);
  } else {
    const s = g.int64([stride]);
    const extra = g.op("Mod", [g.op("Sub", [s, g.op("Mod", [len, s], { fmod: attr.int(0) })]), s], { fmod: attr.int(0) }, "extra_pad");
    right = rightStatic === 0 ? extra : g.op("Add", [extra, g.int64([rightStatic])], {}, "right_pad");
  }
  const pads = g.op("Concat", [g.int64([0, 0, left, 0, 0]), right], { axis: attr.int(0) }, "pads");
  if (config.padMode !== "reflect") {
    const mode = config.padMode === "replicate" ? "edge" : "constant";
    return g.op("Pad", [x, pads], { mode: attr.str(mode) }, "padded");
  }
  // An input no longer than the largest pad is zero-extended first so that the reflection is
  // defined, and the extension cropped after (reference `pad1d`). That path needs two extra
  // copies, so it runs only when needed, in the branch of an If.
  const maxPad = stride === 1 ? g.int64([Math.max(left, rightStatic)]) : g.op("Max", [g.int64([left]), right], {}, "max_pad");
  const short = g.op("LessOrEqual", [len, maxPad], {}, "short_input");
  const shape = [null, null, null];

  const general = g.subgraph("pad_short");
  const zext = general.op("Max", [general.int64([0]), general.op("Add", [general.op("Sub", [maxPad, len]), general.int64([1])])], {}, "zext");
  const extended = general.op("Pad", [x, general.op("Concat", [general.int64([0, 0, 0, 0, 0]), zext], { axis: attr.int(0) })], { mode: attr.str("constant") }, "zext_x");
  const reflected = general.op("Pad", [extended, pads], { mode: attr.str("reflect") }, "reflected");
  const end = general.op("Add", [general.op("Add", [len, general.int64([left])]), right], {}, "pad_end");
  const shortPadded = general.op("Slice", [reflected, general.int64([0]), end, general.int64([2])], {}, "short_padded");
  general.output(shortPadded, shortPadded, OnnxDataType.FLOAT, shape);

  const fast = g.subgraph("pad_long");
  const longPadded = fast.op("Pad", [x, pads], { mode: attr.str("reflect") }, "long_padded");
  fast.output(longPadded, longPadded, OnnxDataType.FLOAT, shape);

  return g.op("If", [short], { then_branch: attr.graph(general.toGraph()), else_branch: attr.graph(fast.toGraph()) }, "padded");
}

/**
 * One-group GroupNorm over (C, T) per batch item with its per-channel affine (reference
 * `time_group_norm`): a single LayerNormalization over axes 1.. with the weight and bias shaped
 * `[C, 1]`, which ONNX Runtime broadcasts over time. This form is one kernel and accurate to
 * about 1e-7 on both the native and the WebAssembly build (ReduceMean-based forms are not:
 * the WebAssembly ReduceMean sums long rows with about ten times the float32 error, and
 * LayerNormalization with full-size [C, T] scale takes a less accurate path).
 */
function addTimeGroupNorm(ctx: SeanetContext, x: string, prefix: string, channels: number): string {
  const w = weightInitializer(ctx, `${prefix}.norm.weight`, [channels, 1]);
  const b = weightInitializer(ctx, `${prefix}.norm.bias`, [channels, 1]);
  return ctx.g.op("LayerNormalization", [x, w, b], { axis: attr.int(1), epsilon: attr.float(GROUP_NORM_EPS) }, `${prefix}.gn`);
}

/** The Conv node of an SConv1d on an input already padded (no padding of its own), weight and bias from the prepared weights. */
export function addConvOp(ctx: SeanetContext, padded: string, layer: ConvLayer): string {
  if (isQuantized(ctx.precision)) {
    // Every convolution of a quantized precision is a matrix product over its time-major unfolding (convProduct says in what).
    const w = weight(ctx, `${layer.prefix}.conv.weight`).data;
    return addInt8Conv(ctx.g, padded, w, weight(ctx, `${layer.prefix}.conv.bias`).data, layer, `${layer.prefix}.conv`, false, convProduct(ctx, layer.inChannels, layer.outChannels));
  }
  return ctx.g.op(
    "Conv",
    [padded, weightInitializer(ctx, `${layer.prefix}.conv.weight`), weightInitializer(ctx, `${layer.prefix}.conv.bias`)],
    {
      kernel_shape: attr.ints([layer.kernelSize]),
      strides: attr.ints([layer.stride]),
      dilations: attr.ints([layer.dilation]),
      pads: attr.ints([0, 0]),
      group: attr.int(1),
    },
    `${layer.prefix}.conv`,
  );
}

/** SConv1d: EnCodec padding, Conv (weight norm already folded), optional time GroupNorm. */
export function addConv1d(ctx: SeanetContext, x: string, layer: ConvLayer): string {
  const kernelEff = (layer.kernelSize - 1) * layer.dilation + 1;
  const padded = addSconvPad(ctx, x, kernelEff, layer.stride);
  const y = addConvOp(ctx, padded, layer);
  return ctx.config.normType === "time_group_norm" ? addTimeGroupNorm(ctx, y, layer.prefix, layer.outChannels) : y;
}

/**
 * SConvTranspose1d: transposed convolution, optional time GroupNorm, then trim
 * `padding_total = k − stride` (causal: ceil(total × trim_right_ratio) on the right, the rest on
 * the left; non-causal: total // 2 on the right). As in the reference, the norm sees the
 * untrimmed output (it sits inside the wrapped module, the unpad outside it).
 *
 * When the kernel is a multiple m of the stride s (always in EnCodec: k = 2s), it runs as a
 * polyphase convolution — a plain Conv with kernel m producing C_out·s channels (one per output
 * phase), then interleaved — which ONNX Runtime executes about 1.5–2× faster than its
 * ConvTranspose (no col2im). Output phase j of frame t is `Σ_q W[:, :, j + q·s] · x[t − q]`.
 */
export function addConvTranspose1d(ctx: SeanetContext, x: string, layer: ConvTransposeLayer): string {
  const { g } = ctx;
  const { kernelSize: k, stride: s, inChannels: cin, outChannels: cout, prefix } = layer;
  const total = k - s;
  const right = ctx.config.useCausalConv ? Math.ceil(total * ctx.config.trimRightRatio) : Math.floor(total / 2);
  const left = total - right;
  const grouped = ctx.config.normType === "time_group_norm";
  const trim = (v: string) => (total === 0 ? v : g.op("Slice", [v, g.int64([left]), g.int64([right > 0 ? -right : Number.MAX_SAFE_INTEGER]), g.int64([2])], {}, `${prefix}.trimmed`));
  const norm = (v: string) => (grouped ? addTimeGroupNorm(ctx, v, prefix, cout) : v);

  if (k % s !== 0) {
    const y = g.op(
      "ConvTranspose",
      [x, weightInitializer(ctx, `${prefix}.conv.weight`), weightInitializer(ctx, `${prefix}.conv.bias`)],
      { kernel_shape: attr.ints([k]), strides: attr.ints([s]), pads: attr.ints(grouped ? [0, 0] : [left, right]), group: attr.int(1) },
      `${prefix}.convtr`,
    );
    return grouped ? trim(norm(y)) : y;
  }

  const m = k / s;
  // The full output has T + m − 1 frames of s samples. A causal trim of exactly the last m − 1
  // frames without a norm in between is the same as not computing them.
  const dropTail = !grouped && left === 0 && right === (m - 1) * s;
  const interleaved = addPolyphaseConv(ctx, x, layer, [m - 1, dropTail ? 0 : m - 1]);
  return dropTail ? interleaved : trim(norm(interleaved));
}

/**
 * Polyphase weights of a transposed convolution with k = m·s, phase-major: `[s·cout, cin, m]`,
 * channel `j·cout + c` is output phase j of channel c, and output phase j of frame t is
 * `Σ_u P[j·cout + c, :, u] · x[t − (m − 1) + u]`.
 */
export function polyphaseWeights(w: Float32Array, cin: number, cout: number, k: number, s: number): Float32Array {
  const m = k / s;
  const out = new Float32Array(cout * s * cin * m);
  for (let j = 0; j < s; j++) {
    for (let c = 0; c < cout; c++) {
      for (let ci = 0; ci < cin; ci++) {
        const dst = ((j * cout + c) * cin + ci) * m;
        for (let u = 0; u < m; u++) out[dst + u] = w[(ci * cout + c) * k + j + (m - 1 - u) * s]!;
      }
    }
  }
  return out;
}

/** The bias of each polyphase channel (see {@link polyphaseWeights}): `bias` `[cout]` repeated for each of the s phases. */
function polyphaseBias(bias: Float32Array, cout: number, s: number): Float32Array {
  const out = new Float32Array(cout * s);
  for (let j = 0; j < s; j++) out.set(bias.subarray(0, cout), j * cout);
  return out;
}

/**
 * The int8 precision's polyphase transposed convolution (k = m·s), time-major in and out:
 * `xt` `[1, L, cin]` (its m − 1 first frames the left context) → `[1, (L − m + 1)·s, cout]`: one
 * matrix product over the unfolded input producing the s phases of each frame side by side,
 * which in time-major order are already the interleaved output (a reshape, no transpose).
 * In the precision {@link convProduct} gives.
 */
export function addTimeMajorPolyphaseConv(ctx: SeanetContext, xt: string, layer: ConvTransposeLayer): string {
  const { g } = ctx;
  const { kernelSize: k, stride: s, inChannels: cin, outChannels: cout, prefix } = layer;
  const w = weight(ctx, `${prefix}.conv.weight`).data; // [cin, cout, k]
  const phaseBias = polyphaseBias(weight(ctx, `${prefix}.conv.bias`).data, cout, s);
  const shape = { inChannels: cin, outChannels: cout * s, kernelSize: k / s, stride: 1, dilation: 1 };
  const y = addTimeMajorConv(g, xt, polyphaseWeights(w, cin, cout, k, s), phaseBias, shape, `${prefix}.convtr_phases`, convProduct(ctx, cin, cout)); // [1, T', s·cout]
  return g.op("Reshape", [y, g.int64([0, -1, cout])], {}, `${prefix}.samples`); // [1, T'·s, cout]
}

/**
 * A quantized precision's convolution of an SConv1d on an input already padded, time-major in
 * and out (`[1, L, cin]` → `[1, T, cout]`): a matrix product over the unfolded input, in the
 * precision {@link convProduct} gives, with the same initializers as {@link addConvOp} builds.
 */
export function addTimeMajorConvOp(ctx: SeanetContext, xt: string, layer: ConvLayer): string {
  const w = weight(ctx, `${layer.prefix}.conv.weight`).data;
  return addTimeMajorConv(ctx.g, xt, w, weight(ctx, `${layer.prefix}.conv.bias`).data, layer, `${layer.prefix}.conv`, convProduct(ctx, layer.inChannels, layer.outChannels));
}

/**
 * A transposed convolution with kernel k = m·s as a polyphase convolution: a plain Conv with
 * kernel m and time padding `pads` producing s·cout phase-major channels `[B, s·cout, T']`, then
 * interleaved into `[B, cout, T'·s]` by one batched 2-D transpose (`[B, s, cout·T']` →
 * `[B, cout·T', s]`), which ONNX Runtime runs as a single copy rather than one per channel.
 */
export function addPolyphaseConv(ctx: SeanetContext, x: string, layer: ConvTransposeLayer, pads: readonly [number, number]): string {
  const { g } = ctx;
  const { kernelSize: k, stride: s, inChannels: cin, outChannels: cout, prefix } = layer;
  const m = k / s;
  if (isQuantized(ctx.precision)) {
    const xin = pads[0] === 0 && pads[1] === 0 ? x : g.op("Pad", [x, g.int64([0, 0, pads[0], 0, 0, pads[1]])], { mode: attr.str("constant") }, `${prefix}.phase_pad`);
    const xt = g.op("Transpose", [xin], { perm: attr.ints([0, 2, 1]) }, `${prefix}.convtr_phases.tc`); // [B, L, cin]
    return g.op("Transpose", [addTimeMajorPolyphaseConv(ctx, xt, layer)], { perm: attr.ints([0, 2, 1]) }, `${prefix}.convtr`);
  }
  const w = weight(ctx, `${prefix}.conv.weight`).data; // [cin, cout, k]
  const phaseBias = polyphaseBias(weight(ctx, `${prefix}.conv.bias`).data, cout, s);
  const y = g.op(
    "Conv",
    [x, g.initializer(`${prefix}.conv.phases`, polyphaseWeights(w, cin, cout, k, s), [cout * s, cin, m]), g.initializer(`${prefix}.conv.phase_bias`, phaseBias, [cout * s])],
    { kernel_shape: attr.ints([m]), strides: attr.ints([1]), dilations: attr.ints([1]), pads: attr.ints(pads), group: attr.int(1) },
    `${prefix}.convtr_phases`,
  ); // [B, s·cout, T']
  const byPhase = g.op("Reshape", [y, g.int64([0, s, -1])], {}, `${prefix}.phases3d`);
  const interleaved = g.op("Transpose", [byPhase], { perm: attr.ints([0, 2, 1]) }, `${prefix}.interleaved`);
  return g.op("Reshape", [interleaved, g.int64([0, cout, -1])], {}, `${prefix}.convtr`);
}

/**
 * ELU with α = 1, as `Max(x, Exp(Min(x, 0)) − 1)`: equal to ELU for every x (x > 0 gives
 * Max(x, 0) = x; x ≤ 0 gives eˣ − 1 ≥ x), and faster on ONNX Runtime's CPU provider, whose
 * vectorized Exp, Min, Max and Sub beat its scalar Elu kernel (bench/graph-ab.ts).
 */
export function addElu(ctx: SeanetContext, x: string, hint = "elu"): string {
  const { g } = ctx;
  const zero = g.float32([0]);
  const expm1 = g.op("Sub", [g.op("Exp", [g.op("Min", [x, zero], {}, `${hint}.neg`)], {}, `${hint}.exp`), g.float32([1])], {}, `${hint}.expm1`);
  return g.op("Max", [x, expm1], {}, hint);
}

/** Residual block: `shortcut(x) + convN(elu(… conv1(elu(x))))`. */
export function addResnet(ctx: SeanetContext, x: string, layer: ResnetLayer): string {
  let h = x;
  for (const conv of layer.convs) h = addConv1d(ctx, addElu(ctx, h), conv);
  const skip = layer.shortcut ? addConv1d(ctx, x, layer.shortcut) : x;
  return ctx.g.op("Add", [skip, h], {}, `${layer.prefix}.out`);
}

/** PyTorch gate blocks (i, f, g, o) → ONNX order (i, o, f, c). */
const GATE_ORDER = [0, 3, 1, 2] as const;

function reorderGates(src: Float32Array, hidden: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  const block = hidden * cols;
  GATE_ORDER.forEach((from, to) => out.set(src.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/**
 * The LSTM weights of one layer in ONNX layout: W `[1, 4H, I]`, R `[1, 4H, H]`, B `[1, 8H]` =
 * [W_b, R_b], gates reordered from PyTorch's i, f, g, o to ONNX's i, o, f, c.
 */
export function onnxLstmWeights(weights: ReadonlyMap<string, RawTensor>, prefix: string, layerIndex: number, dim: number): { w: Float32Array; r: Float32Array; b: Float32Array } {
  const get = (n: string) => {
    const t = weights.get(`${prefix}.lstm.${n}_l${layerIndex}`);
    if (!t) throw new Error(`graph builder: prepared weights lack ${prefix}.lstm.${n}_l${layerIndex}`);
    return t.data;
  };
  const b = new Float32Array(8 * dim);
  b.set(reorderGates(get("bias_ih"), dim, 1), 0);
  b.set(reorderGates(get("bias_hh"), dim, 1), 4 * dim);
  return { w: reorderGates(get("weight_ih"), dim, dim), r: reorderGates(get("weight_hh"), dim, dim), b };
}

/** The ONNX LSTM initializers (W, R, B; see {@link onnxLstmWeights}) of layer `layerIndex` of an SLSTM, by name. */
export function addLstmInitializers(ctx: SeanetContext, layer: LstmLayer, layerIndex: number): { W: string; R: string; B: string } {
  const { g } = ctx;
  const l = layerIndex;
  const { w, r, b } = onnxLstmWeights(ctx.weights, layer.prefix, l, layer.dim);
  return {
    W: g.initializer(`${layer.prefix}.lstm.W${l}`, w, [1, 4 * layer.dim, layer.dim]),
    R: g.initializer(`${layer.prefix}.lstm.R${l}`, r, [1, 4 * layer.dim, layer.dim]),
    B: g.initializer(`${layer.prefix}.lstm.B${l}`, b, [1, 8 * layer.dim]),
  };
}

/** SLSTM: `[B, C, T]` → time-major, stacked LSTM layers, skip connection, back to `[B, C, T]`. */
export function addLstm(ctx: SeanetContext, x: string, layer: LstmLayer): string {
  const { g } = ctx;
  const seq = g.op("Transpose", [x], { perm: attr.ints([2, 0, 1]) }, `${layer.prefix}.tbc`);
  let h = seq;
  if (ctx.precision === "int4") {
    const weights = Array.from({ length: layer.numLayers }, (_, l) => onnxLstmWeights(ctx.weights, layer.prefix, l, layer.dim));
    h = addInt4LstmStack(g, seq, weights, layer.dim, null, `${layer.prefix}.lstm`).y;
  } else {
    for (let l = 0; l < layer.numLayers; l++) {
      let y: string;
      if (ctx.precision === "int8") {
        y = addInt8Lstm(g, h, onnxLstmWeights(ctx.weights, layer.prefix, l, layer.dim), layer.dim, null, `${layer.prefix}.lstm${l}`)[0];
      } else {
        const { W, R, B } = addLstmInitializers(ctx, layer, l);
        y = g.op("LSTM", [h, W, R, B], { hidden_size: attr.int(layer.dim), direction: attr.str("forward") }, `${layer.prefix}.lstm${l}`);
      }
      h = g.op("Squeeze", [y, g.int64([1])], {}, `${layer.prefix}.lstm${l}.y`);
    }
  }
  const sum = g.op("Add", [h, seq], {}, `${layer.prefix}.skip`);
  return g.op("Transpose", [sum], { perm: attr.ints([1, 2, 0]) }, `${layer.prefix}.out`);
}

/** How each kind of SEANet layer is added to a graph: `x` in, the layer's output name out. */
export type SeanetLayerBuilders = { readonly [K in SeanetLayer["kind"]]: (x: string, layer: Extract<SeanetLayer, { kind: K }>) => string };

/** Apply `layers` in order to `x`, each with the builder of its kind (offline or streaming). */
export function applySeanetLayers(x: string, layers: readonly SeanetLayer[], builders: SeanetLayerBuilders): string {
  let h = x;
  for (const layer of layers) {
    switch (layer.kind) {
      case "conv":
        h = builders.conv(h, layer);
        break;
      case "conv-transpose":
        h = builders["conv-transpose"](h, layer);
        break;
      case "resnet":
        h = builders.resnet(h, layer);
        break;
      case "lstm":
        h = builders.lstm(h, layer);
        break;
      case "elu":
        h = builders.elu(h, layer);
        break;
    }
  }
  return h;
}

/** A whole SEANet encoder or decoder (layers in order) applied to `x`. */
export function addSeanet(ctx: SeanetContext, x: string, layers: readonly SeanetLayer[]): string {
  return applySeanetLayers(x, layers, {
    conv: (h, layer) => addConv1d(ctx, h, layer),
    "conv-transpose": (h, layer) => addConvTranspose1d(ctx, h, layer),
    resnet: (h, layer) => addResnet(ctx, h, layer),
    lstm: (h, layer) => addLstm(ctx, h, layer),
    elu: (h, layer) => addElu(ctx, h, `${layer.prefix}.elu`),
  });
}
