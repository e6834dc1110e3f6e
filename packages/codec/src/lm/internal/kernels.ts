/**
 * Small kernels of the language model (the matrix products are in simd-matvec.ts). Every sum has
 * a fixed evaluation order written out in the code (no reassociation happens in JavaScript), so
 * the result is the same bit pattern on every JavaScript engine. Accumulation is in binary64;
 * results are stored to float32 buffers, like the float32 tensors of the reference.
 */

import { detExp as detExpImported } from "./det-math.js";

const detExp = detExpImported;

/** LayerNorm over `n` values (biased variance, `eps` inside the square root), in place on a float32 buffer. */
export function layerNorm(x: Float32Array, gain: Float32Array, bias: Float32Array, n: number, eps: number): void {
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
    x[i] = (x[i]! - mean) * rstd * gain[i]! + bias[i]!;
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
