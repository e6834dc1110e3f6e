/** The two halves of a triangular crossfade of `n` samples. */
export interface TriangularWindow {
  /** Weight of the incoming chunk at each overlap position: `(i + 1) / (n + 1)`, rising. */
  readonly fadeIn: Float64Array;
  /** Weight of the outgoing chunk at each overlap position: `1 - fadeIn[i]`, falling. */
  readonly fadeOut: Float64Array;
}

/**
 * Builds the triangular (linear) crossfade windows for an overlap of `n` samples.
 *
 * `fadeIn[i] = (i + 1) / (n + 1)` and `fadeOut[i] = 1 - fadeIn[i]` for `i` in `[0, n)`. The
 * sample positions leave out both end points (0 and 1), so no sample of either chunk is weighted
 * to nothing, and the window is symmetric: `fadeOut[i] === fadeIn[n - 1 - i]` up to rounding.
 * `fadeIn[i] + fadeOut[i]` is exactly 1 in double precision, so crossfading two copies of the
 * same signal gives that signal back (to rounding of the products).
 *
 * The arrays are fresh and owned by the caller. Double precision keeps the sum exact; the
 * crossfade itself is computed in doubles and stored as `Float32Array` audio.
 *
 * @param n Overlap length in samples; an integer ≥ 0 (0 gives empty windows).
 * @throws RangeError when `n` is not a non-negative safe integer.
 */
export function triangularWindow(n: number): TriangularWindow {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`n must be a non-negative integer, got ${String(n)}`);
  }
  const fadeIn = new Float64Array(n);
  const fadeOut = new Float64Array(n);
  const denominator = n + 1;
  for (let i = 0; i < n; i++) {
    const rising = (i + 1) / denominator;
    fadeIn[i] = rising;
    fadeOut[i] = 1 - rising;
  }
  return { fadeIn, fadeOut };
}
