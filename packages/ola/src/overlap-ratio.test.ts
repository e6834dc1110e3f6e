import { describe, expect, test } from "vitest";
import { computeOverlapSamples, percentToOverlapRatio } from "./overlap-ratio.js";

describe("percentToOverlapRatio", () => {
  test.each([
    { percent: 1, ratio: 0.01 },
    { percent: 10, ratio: 0.1 },
    { percent: 25, ratio: 0.25 },
    { percent: 50, ratio: 0.5 },
    { percent: 12.5, ratio: 0.125 },
  ])("$percent % is $ratio", ({ percent, ratio }) => {
    expect(percentToOverlapRatio(percent)).toBe(ratio);
  });

  test.each([0, 0.5, 50.01, 70, -1, Number.NaN])("%s % is a RangeError naming percent", (percent) => {
    expect(() => percentToOverlapRatio(percent)).toThrow(
      new RangeError(`percent must be in [1, 50], got ${String(percent)}`),
    );
  });

  test("a non-number is a RangeError too", () => {
    expect(() => percentToOverlapRatio("10" as unknown as number)).toThrow(RangeError);
  });
});

describe("computeOverlapSamples", () => {
  test.each([
    { chunkSamples: 48_000, overlapRatio: 0.01, overlap: 480 },
    { chunkSamples: 24_000, overlapRatio: 0.1, overlap: 2400 },
    { chunkSamples: 100, overlapRatio: 0.5, overlap: 50 },
    { chunkSamples: 101, overlapRatio: 0.25, overlap: 25 }, // 25.25 rounds down
    { chunkSamples: 102, overlapRatio: 0.25, overlap: 26 }, // 25.5 rounds up
    { chunkSamples: 3, overlapRatio: 0.5, overlap: 1 }, // round(1.5) = 2, capped to floor(3 / 2)
    { chunkSamples: 2, overlapRatio: 0.5, overlap: 1 },
    { chunkSamples: 40, overlapRatio: 0.01, overlap: 0 }, // too short to overlap at 1 %
  ])("$chunkSamples × $overlapRatio → $overlap", ({ chunkSamples, overlapRatio, overlap }) => {
    expect(computeOverlapSamples(chunkSamples, overlapRatio)).toBe(overlap);
  });

  test.each([0.7, 0.009, 0, 0.51, Number.NaN])("overlapRatio %s is a RangeError naming it", (ratio) => {
    expect(() => computeOverlapSamples(1000, ratio)).toThrow(
      new RangeError(`overlapRatio must be in [0.01, 0.5], got ${String(ratio)}`),
    );
  });

  test.each([1, 0, 2.5, -10, 2 ** 24 + 1, Number.NaN])("chunkSamples %s is a RangeError naming it", (n) => {
    expect(() => computeOverlapSamples(n, 0.1)).toThrow(/^chunkSamples must be an integer in \[2, 16777216\], got /);
  });
});
