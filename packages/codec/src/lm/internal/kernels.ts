/**
 * Dense kernels of the language model. Every sum has a fixed evaluation order written out in
 * the code (no reassociation happens in JavaScript), so the result is the same bit pattern on
 * every JavaScript engine. Accumulation is in binary64; results are stored to float32
 * buffers, like the float32 tensors of the reference implementation.
 */

import { detExp } from "./det-math.js";

/**
 * out[r] = bias[r] + sum_j w[r * cols + j] * x[j] for r < rows, stored as float32.
 * `w` is row-major `[rows, cols]`. Each row is summed in index order (one binary64 accumulator);
 * eight rows are interleaved so the CPU overlaps their dependency chains and reuses x[j].
 */
export function matVec(w: Float32Array, bias: Float32Array, rows: number, cols: number, x: Float64Array, out: Float32Array, outOffset = 0): void {
  let r = 0;
  for (; r + 7 < rows; r += 8) {
    const b0 = r * cols;
    const b1 = b0 + cols;
    const b2 = b1 + cols;
    const b3 = b2 + cols;
    const b4 = b3 + cols;
    const b5 = b4 + cols;
    const b6 = b5 + cols;
    const b7 = b6 + cols;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let a5 = 0;
    let a6 = 0;
    let a7 = 0;
    for (let j = 0; j < cols; j++) {
      const xj = x[j]!;
      a0 += w[b0 + j]! * xj;
      a1 += w[b1 + j]! * xj;
      a2 += w[b2 + j]! * xj;
      a3 += w[b3 + j]! * xj;
      a4 += w[b4 + j]! * xj;
      a5 += w[b5 + j]! * xj;
      a6 += w[b6 + j]! * xj;
      a7 += w[b7 + j]! * xj;
    }
    const o = outOffset + r;
    out[o] = a0 + bias[r]!;
    out[o + 1] = a1 + bias[r + 1]!;
    out[o + 2] = a2 + bias[r + 2]!;
    out[o + 3] = a3 + bias[r + 3]!;
    out[o + 4] = a4 + bias[r + 4]!;
    out[o + 5] = a5 + bias[r + 5]!;
    out[o + 6] = a6 + bias[r + 6]!;
    out[o + 7] = a7 + bias[r + 7]!;
  }
  for (; r < rows; r++) {
    const b0 = r * cols;
    let a0 = 0;
    for (let j = 0; j < cols; j++) a0 += w[b0 + j]! * x[j]!;
    out[outOffset + r] = a0 + bias[r]!;
  }
}

/**
 * LayerNorm over `n` values (biased variance, `eps` inside the square root), in place on a
 * float32 buffer; the input is also copied to `scratch` as binary64 for the next matVec.
 */
export function layerNorm(x: Float32Array, gain: Float32Array, bias: Float32Array, n: number, eps: number, scratch: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - mean;
    sq += d * d;
  }
  const rstd = 1 / Math.sqrt(sq / n + eps);
  for (let i = 0; i < n; i++) {
    const y = (x[i]! - mean) * rstd * gain[i]! + bias[i]!;
    x[i] = y;
    scratch[i] = x[i]!;
  }
}

/**
 * Softmax of `n` float32 logits at `src[srcOffset..]` into float32 `dst[dstOffset..]`:
 * e_i = exp(float32(l_i - max)), p_i = e_i / sum(e) with the sum taken in index order.
 * `tmp` holds at least `n` binary64 values.
 */
export function softmax(src: Float32Array, srcOffset: number, n: number, dst: Float32Array, dstOffset: number, tmp: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = src[srcOffset + i]!;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = detExp(Math.fround(src[srcOffset + i]! - max));
    tmp[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) dst[dstOffset + i] = tmp[i]! / sum;
}
