import type { EncodecConfig } from "../config.js";
import type { ConvLayer, ConvTransposeLayer, LstmLayer, ResnetLayer, SeanetLayer } from "../model/architecture.js";
import type { RawTensor } from "../weights/raw-tensor.js";
import { attr, type GraphBuilder } from "./graph-builder.js";

/** What the layer builders need: the graph under construction, the config and the prepared weights. */
export interface SeanetContext {
  readonly g: GraphBuilder;
  readonly config: EncodecConfig;
  readonly weights: ReadonlyMap<string, RawTensor>;
}

/** GroupNorm epsilon (PyTorch's default, used by the reference's `time_group_norm`). */
const GROUP_NORM_EPS = 1e-5;

function weight(ctx: SeanetContext, name: string): RawTensor {
  const t = ctx.weights.get(name);
  if (!t) throw new Error(`graph builder: prepared weights lack ${name}`);
  return t;
}

function init(ctx: SeanetContext, name: string, dims?: readonly number[]): string {
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
  // Zero-extend short inputs so that the reflection is defined (reference `pad1d`).
  const maxPad = stride === 1 ? g.int64([Math.max(left, rightStatic)]) : g.op("Max", [g.int64([left]), right], {}, "max_pad");
  const zext = g.op("Max", [g.int64([0]), g.op("Add", [g.op("Sub", [maxPad, len]), g.int64([1])])], {}, "zext");
  const extended = g.op("Pad", [x, g.op("Concat", [g.int64([0, 0, 0, 0, 0]), zext], { axis: attr.int(0) })], { mode: attr.str("constant") }, "zext_x");
  const reflected = g.op("Pad", [extended, pads], { mode: attr.str("reflect") }, "reflected");
  const end = g.op("Add", [g.op("Add", [len, g.int64([left])]), right], {}, "pad_end");
  return g.op("Slice", [reflected, g.int64([0]), end, g.int64([2])], {}, "padded");
}

/**
 * One-group GroupNorm over (C, T) per batch item, then the per-channel affine (reference
 * `time_group_norm`). Two passes (mean, then mean of squared deviations). The sums over time are
 * MatMuls with a `1/T` column rather than ReduceMean: ONNX Runtime's WebAssembly ReduceMean sums
 * long rows with about ten times the float32 error of its native build, while its GEMM is as
 * accurate on both.
 */
function addTimeGroupNorm(ctx: SeanetContext, x: string, prefix: string, channels: number): string {
  const { g } = ctx;
  const len = timeLength(g, x);
  const invLen = g.op("Div", [g.float32([1], [1]), g.op("Cast", [len], { to: attr.int(1) })], {}, `${prefix}.gn_inv_len`);
  const column = g.op("Expand", [invLen, g.op("Concat", [len, g.int64([1])], { axis: attr.int(0) })], {}, `${prefix}.gn_column`); // [T, 1]
  const meanOverTime = (v: string, hint: string) =>
    g.op("ReduceMean", [g.op("MatMul", [v, column])], { axes: attr.ints([1]), keepdims: attr.int(1) }, hint); // [B, 1, 1]
  const mean = meanOverTime(x, `${prefix}.gn_mean`);
  const centered = g.op("Sub", [x, mean], {}, `${prefix}.gn_centered`);
  const variance = meanOverTime(g.op("Mul", [centered, centered]), `${prefix}.gn_var`);
  const std = g.op("Sqrt", [g.op("Add", [variance, g.float32([GROUP_NORM_EPS])])], {}, `${prefix}.gn_std`);
  const normed = g.op("Div", [centered, std], {}, `${prefix}.gn`);
  const scaled = g.op("Mul", [normed, init(ctx, `${prefix}.norm.weight`, [channels, 1])]);
  return g.op("Add", [scaled, init(ctx, `${prefix}.norm.bias`, [channels, 1])], {}, `${prefix}.out`);
}

/** SConv1d: EnCodec padding, Conv (weight norm already folded), optional time GroupNorm. */
export function addConv1d(ctx: SeanetContext, x: string, layer: ConvLayer): string {
  const kernelEff = (layer.kernelSize - 1) * layer.dilation + 1;
  const padded = addSconvPad(ctx, x, kernelEff, layer.stride);
  const y = ctx.g.op(
    "Conv",
    [padded, init(ctx, `${layer.prefix}.conv.weight`), init(ctx, `${layer.prefix}.conv.bias`)],
    {
      kernel_shape: attr.ints([layer.kernelSize]),
      strides: attr.ints([layer.stride]),
      dilations: attr.ints([layer.dilation]),
      pads: attr.ints([0, 0]),
      group: attr.int(1),
    },
    `${layer.prefix}.conv`,
  );
  return ctx.config.normType === "time_group_norm" ? addTimeGroupNorm(ctx, y, layer.prefix, layer.outChannels) : y;
}

/**
 * SConvTranspose1d: ConvTranspose, optional time GroupNorm, then trim `padding_total = k − stride`
 * (causal: ceil(total × trim_right_ratio) on the right, the rest on the left; non-causal:
 * total // 2 on the right). As in the reference, the norm sees the untrimmed output (it sits
 * inside the wrapped module, the unpad outside it). Without a norm, the trim is the operator's
 * own `pads`.
 */
export function addConvTranspose1d(ctx: SeanetContext, x: string, layer: ConvTransposeLayer): string {
  const { g } = ctx;
  const total = layer.kernelSize - layer.stride;
  const right = ctx.config.useCausalConv ? Math.ceil(total * ctx.config.trimRightRatio) : Math.floor(total / 2);
  const left = total - right;
  const grouped = ctx.config.normType === "time_group_norm";
  const y = g.op(
    "ConvTranspose",
    [x, init(ctx, `${layer.prefix}.conv.weight`), init(ctx, `${layer.prefix}.conv.bias`)],
    {
      kernel_shape: attr.ints([layer.kernelSize]),
      strides: attr.ints([layer.stride]),
      pads: attr.ints(grouped ? [0, 0] : [left, right]),
      group: attr.int(1),
    },
    `${layer.prefix}.convtr`,
  );
  if (!grouped) return y;
  const normed = addTimeGroupNorm(ctx, y, layer.prefix, layer.outChannels);
  if (total === 0) return normed;
  const end = right > 0 ? -right : Number.MAX_SAFE_INTEGER;
  return g.op("Slice", [normed, g.int64([left]), g.int64([end]), g.int64([2])], {}, `${layer.prefix}.trimmed`);
}

/** ELU with α = 1. */
export function addElu(ctx: SeanetContext, x: string, hint = "elu"): string {
  return ctx.g.op("Elu", [x], { alpha: attr.float(1) }, hint);
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

/** SLSTM: `[B, C, T]` → time-major, stacked LSTM layers, skip connection, back to `[B, C, T]`. */
export function addLstm(ctx: SeanetContext, x: string, layer: LstmLayer): string {
  const { g } = ctx;
  const seq = g.op("Transpose", [x], { perm: attr.ints([2, 0, 1]) }, `${layer.prefix}.tbc`);
  let h = seq;
  for (let l = 0; l < layer.numLayers; l++) {
    const { w, r, b } = onnxLstmWeights(ctx.weights, layer.prefix, l, layer.dim);
    const W = g.initializer(`${layer.prefix}.lstm.W${l}`, w, [1, 4 * layer.dim, layer.dim]);
    const R = g.initializer(`${layer.prefix}.lstm.R${l}`, r, [1, 4 * layer.dim, layer.dim]);
    const B = g.initializer(`${layer.prefix}.lstm.B${l}`, b, [1, 8 * layer.dim]);
    const y = g.op("LSTM", [h, W, R, B], { hidden_size: attr.int(layer.dim), direction: attr.str("forward") }, `${layer.prefix}.lstm${l}`);
    h = g.op("Squeeze", [y, g.int64([1])], {}, `${layer.prefix}.lstm${l}.y`);
  }
  const sum = g.op("Add", [h, seq], {}, `${layer.prefix}.skip`);
  return g.op("Transpose", [sum], { perm: attr.ints([1, 2, 0]) }, `${layer.prefix}.out`);
}

/** A whole SEANet encoder or decoder (layers in order) applied to `x`. */
export function addSeanet(ctx: SeanetContext, x: string, layers: readonly SeanetLayer[]): string {
  let h = x;
  for (const layer of layers) {
    switch (layer.kind) {
      case "conv":
        h = addConv1d(ctx, h, layer);
        break;
      case "conv-transpose":
        h = addConvTranspose1d(ctx, h, layer);
        break;
      case "resnet":
        h = addResnet(ctx, h, layer);
        break;
      case "lstm":
        h = addLstm(ctx, h, layer);
        break;
      case "elu":
        h = addElu(ctx, h, `${layer.prefix}.elu`);
        break;
    }
  }
  return h;
}
