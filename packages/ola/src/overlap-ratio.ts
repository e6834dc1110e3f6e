import { MAX_OVERLAP_PERCENT, MIN_OVERLAP_PERCENT } from "./constants.js";
import { assertChunkSamples, assertOverlapRatio } from "./internal/validate.js";

/**
 * Converts the command line's overlap in percent (1–50) to the `overlapRatio` (0.01–0.5) that
 * {@link computeOverlapSamples}, `Chunker` and `OverlapAdd` take.
 *
 * @param percent Overlap in percent of the chunk length, a finite number in [1, 50].
 * @returns `percent / 100`.
 * @throws RangeError when `percent` is not a number in [1, 50].
 */
export function percentToOverlapRatio(percent: number): number {
  if (
    typeof percent !== "number" ||
    !(percent >= MIN_OVERLAP_PERCENT && percent <= MAX_OVERLAP_PERCENT)
  ) {
    throw new RangeError(
      `percent must be in [${MIN_OVERLAP_PERCENT}, ${MAX_OVERLAP_PERCENT}], got ${String(percent)}`,
    );
  }
  return percent / 100;
}

/**
 * The number of samples two consecutive chunks share: `round(chunkSamples × overlapRatio)`,
 * capped at `floor(chunkSamples / 2)` so that no sample lies in more than two chunks. The cap
 * only changes the result for an odd `chunkSamples` at `overlapRatio` 0.5 (e.g. 3 × 0.5 rounds
 * to 2, capped to 1). The hop between chunk starts is `chunkSamples - overlapSamples`.
 * Small chunks at small ratios round to 0 (no crossfade; chunks then simply concatenate).
 *
 * @param chunkSamples Chunk length in samples per channel, an integer in [2, 2^24].
 * @param overlapRatio Overlap as a fraction of the chunk, in [0.01, 0.5].
 * @throws RangeError naming the parameter when either is out of range.
 */
export function computeOverlapSamples(chunkSamples: number, overlapRatio: number): number {
  assertChunkSamples(chunkSamples);
  assertOverlapRatio(overlapRatio);
  return Math.min(Math.round(chunkSamples * overlapRatio), Math.floor(chunkSamples / 2));
}
