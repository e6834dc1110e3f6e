import { attr, type GraphBuilder } from "./graph-builder.js";
import { OnnxDataType } from "./onnx-proto.js";

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
 * The "int4" precision is int8 with 4-bit weights where a frame's bytes are: the LSTMs and the
 * convolutions at the frame rate (those that read or write the widest, frame-rate layout: the
 * encoder's last downsampling convolution and its last convolution, the decoder's first
 * convolution and its first upsampling one; `convProduct` in seanet-graph.ts), in the published
 * 24 kHz model about 13 of the 16.2 MB an int8 frame reads (an int4 frame reads 9.7 MB). Their
 * weights are signed 4-bit values with one float32 scale per block of `INT4_BLOCK` weights along
 * the input axis; they run as `MatMulNBits` with accuracy level 4 (activations quantized to int8
 * per block, integer dot products). On onnxruntime-node 1.30 that kernel beats int8's on one row
 * (one frame) and loses on several (about 26 µs a row of 4096 × 512 against 6), which is why the
 * layers above the frame rate, with several rows a frame, stay int8, and why int4 is for
 * streaming frame by frame: offline and on a stream's first call its frame-rate products run
 * over every frame at once. An int4 LSTM is written out as its cell (one product over `[x, h]`,
 * then the gates) inside a `Scan` over time, all layers of an SLSTM in one body: ONNX Runtime's
 * LSTM operators take no 4-bit weights.
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

/** Weights per block of the int4 precision's 4-bit matrices (one float32 scale each, along the input axis). */
export const INT4_BLOCK = 128;

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
 * ({@link addTimeMajorUnfold}). With `product` `"int8"`, `DynamicQuantizeMatMul` with int8
 * weights (one scale per output channel) and the columns quantized to uint8 per call; with
 * `"int4"`, {@link addInt4MatMul}; with `"float32"`, a float32 `MatMul` (ONNX Runtime prepacks its
 * constant operand, which its `Conv` does not) and an `Add`. Initializer names start with `hint`,
 * so that graphs built from the same weights share them.
 */
export function addTimeMajorConv(g: GraphBuilder, xt: string, w: Float32Array, bias: Float32Array, shape: Int8ConvShape, hint: string, product: ProductPrecision): string {
  const { inChannels: cin, outChannels: cout, kernelSize: k } = shape;
  const rows = tapMajorRows(w, cin, cout, k);
  const cols = addTimeMajorUnfold(g, xt, shape, hint);
  if (product === "int4") return addInt4MatMul(g, cols, rows, bias, cout, k * cin, hint);
  if (product === "int8") {
    const { q, scales } = quantizeRowsTransposed(rows, cout, k * cin);
    const inputs = [cols, g.initializer(`${hint}.wq`, q, [k * cin, cout]), g.initializer(`${hint}.wscale`, scales, [cout]), g.initializer(`${hint}.wzero`, new Int8Array(cout), [cout]), g.initializer(`${hint}.b`, bias, [cout])];
    return g.op("com.microsoft:DynamicQuantizeMatMul", inputs, {}, `${hint}.qmm`);
  }
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


/**
 * Symmetric 4-bit block quantization of a `[rows, cols]` row-major matrix in `MatMulNBits`'
 * layout: each row cut into `ceil(cols / block)` blocks of `block` values (the last one padded
 * with zeros), each block with one scale (`max |w| / 7`; 1 for an all-zero block) and its values
 * `round(w / scale)` in [−7, 7] stored as unsigned nibbles `q + 8` (the operator's implicit zero
 * point), two to a byte, the even-indexed value in the low nibble. `packed` is
 * `[rows, blocks, block / 2]`, `scales` `[rows · blocks]`.
 */
export function quantize4BitBlocks(w: Float32Array, rows: number, cols: number, block = INT4_BLOCK): { packed: Uint8Array; scales: Float32Array; blocks: number } {
  if (w.length !== rows * cols) throw new Error(`quantize: ${w.length} values for [${rows}, ${cols}]`);
  if (!Number.isInteger(block) || block < 16 || (block & (block - 1)) !== 0) throw new Error(`quantize: block must be a power of two ≥ 16, got ${block}`);
  const blocks = Math.ceil(cols / block);
  const half = block / 2;
  const packed = new Uint8Array(rows * blocks * half);
  const scales = new Float32Array(rows * blocks);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const start = r * cols + b * block;
      const n = Math.min(block, cols - b * block);
      let max = 0;
      for (let j = 0; j < n; j++) max = Math.max(max, Math.abs(w[start + j]!));
      const scale = max > 0 ? bestScale(w, start, n, max) : 1;
      scales[r * blocks + b] = scale;
      const out = (r * blocks + b) * half;
      for (let j = 0; j < block; j++) {
        const q = j < n ? Math.max(-7, Math.min(7, Math.round(w[start + j]! / scale))) : 0;
        packed[out + (j >> 1)]! |= (q + 8) << ((j & 1) * 4);
      }
    }
  }
  return { packed, scales, blocks };
}

/**
 * The scale of a 4-bit block of `n` values from `w[start]` (largest magnitude `max`) with the
 * least squared error: `max / 7` (no value clipped) or a smaller one that clips the largest
 * values to ±7 steps and rounds the rest more finely, from 20 candidates down to `0.6 · max / 7`.
 */
function bestScale(w: Float32Array, start: number, n: number, max: number): number {
  let best = max / 7;
  let bestErr = Infinity;
  for (let i = 0; i < 20; i++) {
    const scale = (max / 7) * (1 - i * 0.02);
    let err = 0;
    for (let j = 0; j < n; j++) {
      const v = w[start + j]!;
      const d = v - Math.max(-7, Math.min(7, Math.round(v / scale))) * scale;
      err += d * d;
    }
    if (err < bestErr) {
      bestErr = err;
      best = scale;
    }
  }
  return best;
}

/**
 * `x · rowsᵀ + bias` with `rows` `[n, k]` (float32, row-major) in 4-bit blocks
 * ({@link quantize4BitBlocks}) as one `MatMulNBits` with accuracy level 4: `x` `[…, k]` is
 * quantized to int8 per block on each call and the products are integer. Returns `[…, n]`.
 */
export function addInt4MatMul(g: GraphBuilder, x: string, rows: Float32Array, bias: Float32Array, n: number, k: number, hint: string): string {
  const { packed, scales, blocks } = quantize4BitBlocks(rows, n, k);
  const inputs = [x, g.initializer(`${hint}.w4`, packed, [n, blocks, INT4_BLOCK / 2]), g.initializer(`${hint}.w4scale`, scales, [n * blocks]), "", "", g.initializer(`${hint}.b`, bias, [n])];
  return g.op("com.microsoft:MatMulNBits", inputs, { K: attr.int(k), N: attr.int(n), bits: attr.int(4), block_size: attr.int(INT4_BLOCK), accuracy_level: attr.int(4) }, `${hint}.q4mm`);
}

/** The weights of one LSTM layer in ONNX layout (see `onnxLstmWeights` in seanet-graph.ts): W `[4H, I]`, R `[4H, H]`, B `[8H]`, gates i, o, f, c. */
export interface OnnxLstmWeights {
  readonly w: Float32Array;
  readonly r: Float32Array;
  readonly b: Float32Array;
}

/**
 * The stacked LSTM layers of an SLSTM in the int4 precision: one `Scan` over the time axis of
 * `seq` `[T, B, I]` whose body runs every layer's cell for one step. A layer's cell is one
 * {@link addInt4MatMul} over `[x, h]` (`[W R]`, `[4H, I + H]`, bias `W_b + R_b`), then
 * `i, o, f = σ(·)`, `c' = f·c + i·tanh(·)`, `h' = o·tanh(c')`, the ONNX LSTM's equations.
 * `initial` holds each layer's `[h, c]` (`[B, H]` each) or is null (zeros). Returns
 * the last layer's outputs `[T, B, H]` and each layer's final `[h, c]`.
 */
export function addInt4LstmStack(g: GraphBuilder, seq: string, layers: readonly OnnxLstmWeights[], hidden: number, initial: ReadonlyArray<readonly [string, string]> | null, hint: string): { y: string; finals: Array<[string, string]> } {
  const H = hidden;
  const body = g.subgraph(`${hint}.step`);
  const states: Array<[string, string]> = layers.map((_, l) => [body.bodyInput(`${hint}.h${l}_in`, OnnxDataType.FLOAT, ["batch", H]), body.bodyInput(`${hint}.c${l}_in`, OnnxDataType.FLOAT, ["batch", H])]);
  let x = body.bodyInput(`${hint}.x_in`, OnnxDataType.FLOAT, ["batch", layers[0] ? layers[0].w.length / (4 * H) : H]);
  const next: Array<[string, string]> = [];
  layers.forEach((wl, l) => {
    const inSize = wl.w.length / (4 * H);
    const p = `${hint}${l}`;
    const rows = new Float32Array(4 * H * (inSize + H)); // [W R], row by row
    for (let r = 0; r < 4 * H; r++) {
      rows.set(wl.w.subarray(r * inSize, (r + 1) * inSize), r * (inSize + H));
      rows.set(wl.r.subarray(r * H, (r + 1) * H), r * (inSize + H) + inSize);
    }
    const bias = new Float32Array(4 * H);
    for (let i = 0; i < 4 * H; i++) bias[i] = wl.b[i]! + wl.b[4 * H + i]!;
    const [h, c] = states[l]!;
    const z = addInt4MatMul(body, body.op("Concat", [x, h], { axis: attr.int(1) }, `${p}.xh`), rows, bias, 4 * H, inSize + H, p); // [B, 4H]: i, o, f, c
    const [iof, cand] = body.opN("Split", [z, body.int64([3 * H, H])], 2, { axis: attr.int(1) }, `${p}.z`);
    const [ig, og, fg] = body.opN("Split", [body.op("Sigmoid", [iof!], {}, `${p}.iof`), body.int64([H, H, H])], 3, { axis: attr.int(1) }, `${p}.gate`);
    const c1 = body.op("Add", [body.op("Mul", [fg!, c], {}, `${p}.fc`), body.op("Mul", [ig!, body.op("Tanh", [cand!], {}, `${p}.g`)], {}, `${p}.ig`)], {}, `${p}.c`);
    const h1 = body.op("Mul", [og!, body.op("Tanh", [c1], {}, `${p}.tc`)], {}, `${p}.h`);
    next.push([h1, c1]);
    x = h1;
  });
  next.forEach(([h, c], l) => {
    body.output(h, `${hint}.h${l}_out`, OnnxDataType.FLOAT, ["batch", H]);
    body.output(c, `${hint}.c${l}_out`, OnnxDataType.FLOAT, ["batch", H]);
  });
  body.output(x, `${hint}.y_out`, OnnxDataType.FLOAT, ["batch", H]);
  let init = initial;
  if (!init) {
    // Zeros [B, H], B from the input (a batch of offline segments).
    const batch = g.op("Shape", [seq], { start: attr.int(1), end: attr.int(2) }, `${hint}.batch`);
    const zero = g.op("ConstantOfShape", [g.op("Concat", [batch, g.int64([H])], { axis: attr.int(0) }, `${hint}.state_shape`)], {}, `${hint}.zero_state`);
    init = layers.map(() => [zero, zero] as const);
  }
  const outs = g.opN("Scan", [...init.flat(), seq], 2 * layers.length + 1, { body: attr.graph(body.toGraph()), num_scan_inputs: attr.int(1) }, `${hint}.scan`);
  return { y: outs[2 * layers.length]!, finals: layers.map((_, l) => [outs[2 * l]!, outs[2 * l + 1]!]) };
}
