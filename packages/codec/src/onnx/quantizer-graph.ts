import type { RawTensor } from "../weights/raw-tensor.js";
import { attr, type GraphBuilder } from "./graph-builder.js";
import { addInt8MatMul } from "./int8-graph.js";

function codebook(weights: ReadonlyMap<string, RawTensor>, i: number): RawTensor {
  const t = weights.get(`quantizer.layers.${i}.codebook.embed`);
  if (!t) throw new Error(`graph builder: prepared weights lack quantizer.layers.${i}.codebook.embed`);
  return t;
}

/**
 * Residual vector quantization, encode side, for the first `numQuantizers` codebooks:
 * per layer the nearest codeword by squared L2 distance, computed as the reference does
 * (`‖x‖² − 2·x·e + ‖e‖²`, first index on ties), then the codeword is subtracted from the
 * residual. `emb` is `[B, D, F]`; returns codes `[B, K, F]` int64.
 *
 * With `timeMajor` (the int8 precision's step graphs), `emb` is `[1, F, D]` and each layer is
 * leaner: the residual is `[F, D]`, and the distance is `‖e‖² − 2·x·e`, one matrix product
 * and its bias (which ONNX Runtime fuses into one `Gemm`) without the `‖x‖²` every codeword
 * shares. The nearest codeword is the same except where rounding decides between two nearly
 * as near. With `int8` as well (the int8 precision's step graphs), that product and its bias are
 * one `DynamicQuantizeMatMul` over `−2·Eᵀ` in int8, one scale per codeword, with the residual
 * quantized to uint8 per call: a quarter of the bytes, and a codeword nearly as near as the
 * nearest may be chosen instead of it.
 */
export function addRvqEncode(g: GraphBuilder, emb: string, weights: ReadonlyMap<string, RawTensor>, numQuantizers: number, timeMajor = false, int8 = false): string {
  let residual = timeMajor ? g.op("Reshape", [emb, g.int64([-1, codebook(weights, 0).dims[1]!])], {}, "rvq_in") : g.op("Transpose", [emb], { perm: attr.ints([0, 2, 1]) }, "rvq_in"); // [F, D] or [B, F, D]
  const codes: string[] = [];
  for (let i = 0; i < numQuantizers; i++) {
    const e = codebook(weights, i);
    const [n, d] = [e.dims[0]!, e.dims[1]!];
    const twiceT = new Float32Array(n * d); // (2·E)ᵀ, [D, N] (−2·Eᵀ with timeMajor)
    const norms = new Float32Array(n); // ‖e‖², [N]
    const sign = timeMajor ? -1 : 1;
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = e.data[k * d + j]!;
        twiceT[j * n + k] = sign * 2 * v;
        s += v * v;
      }
      norms[k] = s;
    }
    const p = `rvq${i}`;
    let dist: string;
    if (timeMajor && int8) {
      const rows = e.data.map((v) => -2 * v); // −2·E, [N, D]
      dist = addInt8MatMul(g, residual, rows, norms, n, d, `${p}.dist`);
    } else if (timeMajor) {
      dist = g.op("Add", [g.op("MatMul", [residual, g.initializer(`${p}.embed2T_neg`, twiceT, [d, n])], {}, `${p}.xe2`), g.initializer(`${p}.embed_sq`, norms, [n])], {}, `${p}.dist`); // [F, N]
    } else {
      const xx = g.op("ReduceSumSquare", [residual], { axes: attr.ints([2]), keepdims: attr.int(1) }, `${p}.xx`);
      const xe2 = g.op("MatMul", [residual, g.initializer(`${p}.embed2T`, twiceT, [d, n])], {}, `${p}.xe2`);
      dist = g.op("Add", [g.op("Sub", [xx, xe2]), g.initializer(`${p}.embed_sq`, norms, [n])], {}, `${p}.dist`);
    }
    const idx = g.op("ArgMin", [dist], { axis: attr.int(timeMajor ? 1 : 2), keepdims: attr.int(0), select_last_index: attr.int(0) }, `${p}.idx`); // [F] or [B, F]
    codes.push(timeMajor ? idx : g.op("Unsqueeze", [idx, g.int64([1])], {}, `${p}.code`));
    if (i < numQuantizers - 1) {
      const q = g.op("Gather", [g.initializer(`${p}.embed`, e.data, [n, d]), idx], { axis: attr.int(0) }, `${p}.q`);
      residual = g.op("Sub", [residual, q], {}, `${p}.residual`);
    }
  }
  if (timeMajor) {
    // The [F] codes of each layer one after the other are [K, F]: one Reshape makes [1, K, F].
    const stacked = codes.length === 1 ? codes[0]! : g.op("Concat", codes, { axis: attr.int(0) }, "codes_kf");
    return g.op("Reshape", [stacked, g.int64([1, numQuantizers, -1])], {}, "codes");
  }
  return codes.length === 1 ? codes[0]! : g.op("Concat", codes, { axis: attr.int(1) }, "codes");
}

/**
 * Residual vector quantization, decode side: the sum of each layer's codeword. `codes` is
 * `[B, K, F]` int64 with any K up to `numQuantizers` (known only at run time): all codebooks
 * sit in one `[nq·N + 1, D]` table and layer k's codes are offset by k·N. A code ≥ N (the
 * absent-codebook sentinel N, written by the runtime where a frame carries fewer codebooks than
 * the batch's K: per-frame bitrate) picks the table's last row, all zeros, so it adds nothing and
 * a frame's sum is exactly that of its own codebooks. Returns `[B, D, F]` (`[B, F, D]` with `timeMajor`).
 */
export function addRvqDecode(g: GraphBuilder, codes: string, weights: ReadonlyMap<string, RawTensor>, numQuantizers: number, timeMajor = false): string {
  const first = codebook(weights, 0);
  const [n, d] = [first.dims[0]!, first.dims[1]!];
  const table = new Float32Array((numQuantizers * n + 1) * d); // the last row stays 0
  for (let i = 0; i < numQuantizers; i++) table.set(codebook(weights, i).data, i * n * d);
  const offsetsAll = g.int64(Array.from({ length: numQuantizers }, (_, i) => i * n));
  const k = g.op("Shape", [codes], { start: attr.int(1), end: attr.int(2) }, "num_codebooks");
  const offsets = g.op("Reshape", [g.op("Slice", [offsetsAll, g.int64([0]), k, g.int64([0])]), g.int64([1, -1, 1])], {}, "code_offsets");
  const present = g.op("Less", [codes, g.int64([n])], {}, "code_present");
  const idx = g.op("Where", [present, g.op("Add", [codes, offsets]), g.int64([numQuantizers * n])], {}, "table_idx");
  const vectors = g.op("Gather", [g.initializer("rvq.table", table, [numQuantizers * n + 1, d]), idx], { axis: attr.int(0) }, "codewords"); // [B, K, F, D]
  const sum = g.op("ReduceSum", [vectors, g.int64([1])], { keepdims: attr.int(0) }, "quantized"); // [B, F, D]
  if (timeMajor) return sum;
  return g.op("Transpose", [sum], { perm: attr.ints([0, 2, 1]) }, "embeddings");
}
