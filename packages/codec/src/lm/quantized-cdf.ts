import { LM_MIN_RANGE, LM_ROUNDOFF, LM_TOTAL_RANGE } from "./constants.js";

const ROUNDOFF_F32 = Math.fround(LM_ROUNDOFF);
const TOTAL_RANGE = LM_TOTAL_RANGE;
const MIN_RANGE = LM_MIN_RANGE;

/**
 * Turn a probability distribution into the integer CDF the arithmetic coder splits its range by,
 * exactly as the reference's `build_stable_quantized_cdf(pdf, 24, roundoff=1e-8, min_range=2)`
 * does on a float32 pdf:
 *
 *   p'     = float32(floor(float32(p / roundoff)) * roundoff)
 *   r_i    = floor(float32(((1 - alpha) * 2^24) * p')) + min_range,  alpha = min_range * n / 2^24
 *   cdf_i  = r_0 + ... + r_i
 *
 * Every float32 step is a single correctly rounded IEEE operation, reproduced bit for bit with
 * `Math.fround` over binary64 (exact for one +, *, / of float32 operands). One safeguard the
 * reference lacks: should the quantized ranges sum past 2^24 (a pdf summing above 1 by rounding),
 * the excess is taken from the widest symbol so every interval stays inside the coder's range;
 * for any pdf summing to at most 1 the output is the reference's unchanged.
 *
 * @param pdf probabilities (float32 values); `n` of them from `pdfOffset`
 * @param cdf receives `n` cumulative integer bounds; `cdf[n - 1] <= 2^24`
 * @throws RangeError when `n` is too large for the range (`min_range * n > 2^24`)
 */
export function buildQuantizedCdf(pdf: Float32Array, pdfOffset: number, n: number, cdf: Uint32Array): void {
  const totalRange = TOTAL_RANGE;
  const alpha = (MIN_RANGE * n) / totalRange;
  if (alpha > 1) throw new RangeError(`n must be at most ${totalRange / MIN_RANGE}, got ${n}`);
  const scale = Math.fround((1 - alpha) * totalRange);
  let acc = 0;
  let widest = 0;
  let widestRange = -1;
  for (let i = 0; i < n; i++) {
    const p = pdf[pdfOffset + i]!;
    const q = Math.fround(Math.floor(Math.fround(p / ROUNDOFF_F32)) * ROUNDOFF_F32);
    // A NaN or negative probability (never produced by the model) gets the minimum range.
    const scaled = Math.floor(Math.fround(scale * q));
    const r = (scaled > 0 ? scaled : 0) + MIN_RANGE;
    if (r > widestRange) {
      widestRange = r;
      widest = i;
    }
    acc += r;
    cdf[i] = acc;
  }
  const excess = acc - totalRange;
  if (excess > 0) {
    // Only reachable when sum(pdf) > 1; the widest range is far above min_range then.
    for (let i = widest; i < n; i++) cdf[i] = cdf[i]! - excess;
  }
}
