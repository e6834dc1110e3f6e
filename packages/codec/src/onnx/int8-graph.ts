import { attr, type GraphBuilder } from "./graph-builder.js";
import { addInt4MatMul } from "./int4-graph.js";

/*
 * The "int8" precision: the convolutions and LSTMs of SEANet with int8 weights (symmetric, one
 * scale per output channel) and activations quantized to uint8 on the fly, per tensor, by ONNX
 * Runtime's dynamic-quantization kernels (`com.microsoft` contrib operators, CPU provider):
 *
 * - every convolution is a matrix product over its time-major unfolded input (im2col by slices
 *   and reshapes in the graph): `[1, T, k·Cin] × [k·Cin, Cout]`. Those with at least 32 input
 *   and output channels (`INT8_MIN_CHANNELS` in seanet-graph.ts: all but the first and last,
 *   which read and write audio, and the 16-channel residual block beside them) run as
 *   `DynamicQuantizeMatMul`; the others as a float32 `MatMul`, whose constant operand ONNX
 *   Runtime prepacks (its `Conv` does not). On onnxruntime-node 1.30, `ConvInteger` is slower
 *   than float32 (it packs its weights on every call) and `MatMulNBits` with 8 bits is 20×
 *   slower unless it computes in int8, and then no faster (bench/precision.ts measures the
 *   whole frame);
 * - an LSTM runs as `DynamicQuantizeLSTM`.
 *
 * The step graphs of streaming are time-major throughout (streaming-graphs.ts); the offline and
 * startup graphs transpose around each of these products, so that both compute the same thing.
 * The quantizer (RVQ) of the streaming step graphs computes its distances in int8 too
 * (`DynamicQuantizeMatMul` over codebooks with one scale per codeword, quantizer-graph.ts): the
 * float32 codebooks were a fifth of the bytes an int8 frame reads. The offline graphs and a
 * stream's first call keep float32 distances.
 *
 * The "int4" precision is int8 with 4-bit weights in the LSTMs and the frame-rate convolutions
 * (int4-graph.ts).
 */

/** Numeric precision of the SEANet encoder and decoder graphs. */
export type CodecPrecision = "float32" | "int8" | "int4";

/** The precisions, default first. */
export const CODEC_PRECISIONS: readonly CodecPrecision[] = ["float32", "int8", "int4"];

/**
 * Check a `precision` option: undefined gives `"float32"`.
 * @throws RangeError for anything but `"float32"`, `"int8"` or `"int4"`
 */
export function checkPrecision(precision: unknown, name = "precision"): CodecPrecision {
  if (precision === undefined) return "float32";
  if (CODEC_PRECISIONS.includes(precision as CodecPrecision)) return precision as CodecPrecision;
  throw new RangeError(`${name} must be ${CODEC_PRECISIONS.map((p) => `"${p}"`).join(", ")}, got ${JSON.stringify(precision)}`);
}

/** Whether `precision` quantizes (int8 or int4: the graphs of this file, time-major step graphs). */
export function isQuantized(precision: CodecPrecision | undefined): boolean {
  return precision === "int8" || precision === "int4";
}

/**
 * How one matrix product of a quantized graph runs: float32 `MatMul`, `DynamicQuantizeMatMul`
 * with int8 weights, or `MatMulNBits` with 4-bit weights.
 */
export type ProductPrecision = "float32" | "int8" | "int4";

/**
 * Version of the quantized (int8 and int4) graphs, part of their cache names: bumped whenever
 * one changes (its layout, which layers run in int8), so that cached quantized graphs are rebuilt
 * while float32's keys stay as they are. 2: time-major step graphs, int8 by channel count. 3:
 * int8 from 32 channels (was 128), int8 distances in the step graphs' quantizer; int4 added.
 */
export const INT8_GRAPH_VERSION = "3";

/** The suffix a graph name gets for `precision` in cache keys (none for float32, so its keys are unchanged; `-int8v3` for int8, `-int4v3` for int4). */
export function precisionSuffix(precision: CodecPrecision): string {
  return precision === "float32" ? "" : `-${precision}v${INT8_GRAPH_VERSION}`;
}

/**
 * Symmetric int8 quantization of a `[rows, cols]` row-major matrix, one scale per row
 * (`max |w| / 127`; 1 for an all-zero row), stored transposed as `[cols, rows]` (the layout of a
 * MatMul's right operand whose columns are the rows here).
 */
export function quantizeRowsTransposed(w: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  if (w.length !== rows * cols) throw new Error(`quantize: ${w.length} values for [${rows}, ${cols}]`);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(w[r * cols + c]!));
    const scale = max > 0 ? max / 127 : 1;
    scales[r] = scale;
    for (let c = 0; c < cols; c++) q[c * rows + r] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / scale)));
  }
  return { q, scales };
}

/**
 * `x · rowsᵀ + bias` with `rows` `[n, k]` (float32, row-major) in int8
 * ({@link quantizeRowsTransposed}: one scale per row) as one `DynamicQuantizeMatMul`: `x`
 * `[…, k]` is quantized to uint8 per call. Returns `[…, n]`. Initializer names start with `hint`.
 */
export function addInt8MatMul(g: GraphBuilder, x: string, rows: Float32Array, bias: Float32Array, n: number, k: number, hint: string): string {
  const { q, scales } = quantizeRowsTransposed(rows, n, k);
  const inputs = [x, g.initializer(`${hint}.wq`, q, [k, n]), g.initializer(`${hint}.wscale`, scales, [n]), g.initializer(`${hint}.wzero`, new Int8Array(n), [n]), g.initializer(`${hint}.b`, bias, [n])];
  return g.op("com.microsoft:DynamicQuantizeMatMul", inputs, {}, `${hint}.qmm`);
}

/** Shape of a convolution for {@link addInt8Conv}. */
export interface Int8ConvShape {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly dilation: number;
}

/**
 * The weight of a convolution `w` `[Cout, Cin, k]` as the right operand of a matrix product over
 * the time-major unfolding (see {@link addTimeMajorUnfold}): `[k·Cin, Cout]` row-major, with
 * `B[j·Cin + c, o] = w[o, c, j]`, returned as the `[Cout, k·Cin]` rows `B` is the transpose of.
 */
function tapMajorRows(w: Float32Array, cin: number, cout: number, k: number): Float32Array {
  if (w.length !== cout * cin * k) throw new Error(`convolution weight: ${w.length} values for [${cout}, ${cin}, ${k}]`);
  const rows = new Float32Array(cout * k * cin);
  for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) for (let j = 0; j < k; j++) rows[(o * k + j) * cin + c] = w[(o * cin + c) * k + j]!;
  return rows;
}

/**
 * Unfold a time-major `[1, L, Cin]` value into the columns of a convolution without padding,
 * `[1, T, k·Cin]` (column `j·Cin + c` is tap j of channel c). With dilation 1 and a kernel that
 * is a multiple m of the stride s, a reshape to frames of s samples (L must then be a multiple
 * of s, as EnCodec's padding makes it) and m shifted slices; otherwise one strided slice per tap.
 * A 1×1 convolution's columns are its input.
 */
export function addTimeMajorUnfold(g: GraphBuilder, xt: string, shape: Int8ConvShape, hint: string): string {
  const { inChannels: cin, kernelSize: k, stride: s, dilation: d } = shape;
  const END = Number.MAX_SAFE_INTEGER;
  if (k === 1 && s === 1) return xt;
  if (d === 1 && k % s === 0) {
    const m = k / s;
    const frames = s === 1 ? xt : g.op("Reshape", [xt, g.int64([0, -1, s * cin])], {}, `${hint}.frames`); // [1, L / s, s·Cin]
    if (m === 1) return frames;
    const taps = Array.from({ length: m }, (_, u) => g.op("Slice", [frames, g.int64([u]), g.int64([u === m - 1 ? END : u - (m - 1)]), g.int64([1])], {}, `${hint}.tap${u}`));
    return g.op("Concat", taps, { axis: attr.int(2) }, `${hint}.cols`);
  }
  const span = (k - 1) * d;
  const taps = Array.from({ length: k }, (_, j) =>
    g.op("Slice", [xt, g.int64([j * d]), g.int64([j === k - 1 ? END : j * d - span]), g.int64([1]), g.int64([s])], {}, `${hint}.tap${j}`),
  );
  return g.op("Concat", taps, { axis: attr.int(2) }, `${hint}.cols`);
}

/**
 * A convolution without padding, time-major in and out: `xt` `[1, L, Cin]` → `[1, T, Cout]`, with
 * weight `w` `[Cout, Cin, k]` and `bias` `[Cout]`, as one matrix product over the unfolded input
 * ({@link addTimeMajorUnfold}). With `product` `"int8"`, {@link addInt8MatMul} (int8 weights, one
 * scale per output channel, the columns quantized to uint8 per call); with `"int4"`,
 * {@link addInt4MatMul}; with `"float32"`, a float32 `MatMul` (ONNX Runtime prepacks its
 * constant operand, which its `Conv` does not) and an `Add`. Initializer names start with `hint`,
 * so that graphs built from the same weights share them.
 */
export function addTimeMajorConv(g: GraphBuilder, xt: string, w: Float32Array, bias: Float32Array, shape: Int8ConvShape, hint: string, product: ProductPrecision): string {
  const { inChannels: cin, outChannels: cout, kernelSize: k } = shape;
  const rows = tapMajorRows(w, cin, cout, k);
  const cols = addTimeMajorUnfold(g, xt, shape, hint);
  if (product === "int4") return addInt4MatMul(g, cols, rows, bias, cout, k * cin, hint);
  if (product === "int8") return addInt8MatMul(g, cols, rows, bias, cout, k * cin, hint);
  const wt = new Float32Array(k * cin * cout);
  for (let o = 0; o < cout; o++) for (let r = 0; r < k * cin; r++) wt[r * cout + o] = rows[o * k * cin + r]!;
  const y = g.op("MatMul", [cols, g.initializer(`${hint}.wt`, wt, [k * cin, cout])], {}, `${hint}.mm`);
  return g.op("Add", [y, g.initializer(`${hint}.b`, bias, [cout])], {}, `${hint}.biased`);
}

/**
 * A convolution without padding of `x` `[1, Cin, L]` with weight `w` `[Cout, Cin, k]` and `bias`
 * `[Cout]`, as {@link addTimeMajorConv} (a matrix product in `product` precision) between two
 * transposes. With `timeMajorOut` the result is left as `[1, T, Cout]`, else `[1, Cout, T]`.
 */
export function addInt8Conv(g: GraphBuilder, x: string, w: Float32Array, bias: Float32Array, shape: Int8ConvShape, hint: string, timeMajorOut = false, product: ProductPrecision = "int8"): string {
  const xt = g.op("Transpose", [x], { perm: attr.ints([0, 2, 1]) }, `${hint}.tc`); // [1, L, Cin]
  const y = addTimeMajorConv(g, xt, w, bias, shape, hint, product); // [1, T, Cout]
  return timeMajorOut ? y : g.op("Transpose", [y], { perm: attr.ints([0, 2, 1]) }, hint);
}

/**
 * One forward LSTM layer in int8 (`DynamicQuantizeLSTM`) from the ONNX-layout float32 weights W
 * `[4H, I]`, R `[4H, H]` (gates i, o, f, c) and B `[8H]`, with per-gate-row scales. `initial` is
 * `[h, c]` or null (zeros). Returns Y, Y_h, Y_c like the LSTM operator.
 */
export function addInt8Lstm(
  g: GraphBuilder,
  x: string,
  weights: { readonly w: Float32Array; readonly r: Float32Array; readonly b: Float32Array },
  hidden: number,
  initial: readonly [string, string] | null,
  hint: string,
): [string, string, string] {
  const inSize = weights.w.length / (4 * hidden);
  const w = quantizeRowsTransposed(weights.w, 4 * hidden, inSize);
  const r = quantizeRowsTransposed(weights.r, 4 * hidden, hidden);
  const zeros = g.initializer(`${hint}.zero`, new Int8Array(4 * hidden), [1, 4 * hidden]);
  const inputs = [
    x,
    g.initializer(`${hint}.Wq`, w.q, [1, inSize, 4 * hidden]),
    g.initializer(`${hint}.Rq`, r.q, [1, hidden, 4 * hidden]),
    g.initializer(`${hint}.B`, weights.b, [1, 8 * hidden]),
    "",
    initial ? initial[0] : "",
    initial ? initial[1] : "",
    "",
    g.initializer(`${hint}.Wscale`, w.scales, [1, 4 * hidden]),
    zeros,
    g.initializer(`${hint}.Rscale`, r.scales, [1, 4 * hidden]),
    zeros,
  ];
  const [y, yh, yc] = g.opN("com.microsoft:DynamicQuantizeLSTM", inputs, 3, { hidden_size: attr.int(hidden), direction: attr.str("forward") }, hint);
  return [y!, yh!, yc!];
}
