import { describe, expect, test } from "vitest";
import { allotFrames } from "./frame-allotment.js";

describe("allotFrames", () => {
  test.each([
    { total: 3, known: [undefined], want: [3] },
    { total: 7, known: [undefined, undefined], want: [4, 3] },
    { total: 7, known: [undefined, 2], want: [5, 2] },
    { total: 7, known: [6, undefined], want: [6, 1] },
    // a copy that disagrees with the timestamps is set aside
    { total: 7, known: [7, undefined], want: [4, 3] },
    { total: 4, known: [3, 3], want: [2, 2] },
    { total: 4, known: [1, 3], want: [1, 3] },
    { total: 0, known: [], want: [] },
  ])("$total frames over $known → $want", ({ total, known, want }) => {
    expect(allotFrames(total, known, 16)).toEqual(want);
  });

  test.each([
    { total: 1, known: [undefined, undefined] },
    { total: 33, known: [undefined, undefined] },
    { total: 2.5, known: [undefined] },
    { total: 1, known: [] },
  ])("no split of $total frames over $known", ({ total, known }) => {
    expect(allotFrames(total, known, 16)).toBeUndefined();
  });

  test("every split sums to the total and keeps each message within 1..max", () => {
    for (let n = 1; n <= 6; n++) {
      for (let total = n; total <= n * 4; total++) {
        const split = allotFrames(total, Array.from({ length: n }, (_, i) => (i % 2 === 0 ? undefined : (i % 4) + 1)), 4)!;
        expect(split.reduce((a, b) => a + b, 0)).toBe(total);
        expect(split.every((f) => f >= 1 && f <= 4)).toBe(true);
      }
    }
  });
});
