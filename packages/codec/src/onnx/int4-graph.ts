import { attr, type GraphBuilder } from "./graph-builder.js";
import { OnnxDataType } from "./onnx-proto.js";

/*
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

/** Weights per block of the int4 precision's 4-bit matrices (one float32 scale each, along the input axis). */
export const INT4_BLOCK = 128;

/**
 * Symmetric 4-bit block quantization of a `[rows, cols]` row-major matrix in `MatMulNBits`'
 * layout: each row cut into `ceil(cols / block)` blocks of `block` values (the last one padded
 * with zeros), each block with one scale (`max |w| / 7`: nothing clipped; 1 for an all-zero
 * block) and its values `round(w / scale)` in [−7, 7] stored as unsigned nibbles `q + 8` (the
 * operator's implicit zero point), two to a byte, the even-indexed value in the low nibble.
 * `packed` is `[rows, blocks, block / 2]`, `scales` `[rows · blocks]`. (Scales that clip the
 * largest values for a smaller squared error gave 0.2–1.8 dB more SNR on the tiny models. On the
 * full-size model, least squares and a 4-candidate search agreed with float32 on 42–79 % of
 * codebook-1 codes, against 94–99 % here; a 20-candidate search agreed on 92–97 %, but a graph
 * took 3 s to build instead of 0.4.)
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
      const scale = max > 0 ? max / 7 : 1;
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
  if (layers.length === 0 || (initial !== null && initial.length !== layers.length)) {
    throw new Error(`addInt4LstmStack: ${layers.length} layers and ${initial?.length ?? "no"} initial states`);
  }
  const body = g.subgraph(`${hint}.step`);
  const states: Array<[string, string]> = layers.map((_, l) => [body.bodyInput(`${hint}.h${l}_in`, OnnxDataType.FLOAT, ["batch", H]), body.bodyInput(`${hint}.c${l}_in`, OnnxDataType.FLOAT, ["batch", H])]);
  let x = body.bodyInput(`${hint}.x_in`, OnnxDataType.FLOAT, ["batch", layers[0]!.w.length / (4 * H)]);
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
