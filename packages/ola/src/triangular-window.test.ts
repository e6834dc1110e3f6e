import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { triangularWindow } from "./triangular-window.js";

describe("triangularWindow", () => {
  test.each([
    { n: 0, fadeIn: [] as number[] },
    { n: 1, fadeIn: [1 / 2] },
    { n: 3, fadeIn: [1 / 4, 2 / 4, 3 / 4] },
    { n: 4, fadeIn: [1 / 5, 2 / 5, 3 / 5, 4 / 5] },
  ])("n = $n rises as (i + 1) / (n + 1)", ({ n, fadeIn }) => {
    const window = triangularWindow(n);
    expect(Array.from(window.fadeIn)).toEqual(fadeIn);
    expect(Array.from(window.fadeOut)).toEqual(fadeIn.map((w) => 1 - w));
  });

  test("windows sum to exactly 1, rise strictly, stay inside (0, 1) and mirror each other", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), (n) => {
        const { fadeIn, fadeOut } = triangularWindow(n);
        expect(fadeIn.length).toBe(n);
        expect(fadeOut.length).toBe(n);
        for (let i = 0; i < n; i++) {
          const rising = fadeIn[i] as number;
          const falling = fadeOut[i] as number;
          if (rising + falling !== 1) throw new Error(`sum at ${i} of ${n} is ${rising + falling}`);
          if (!(rising > 0 && rising < 1)) throw new Error(`fadeIn[${i}] = ${rising} outside (0, 1)`);
          if (i > 0 && !(rising > (fadeIn[i - 1] as number))) throw new Error(`not rising at ${i}`);
          const mirrored = fadeIn[n - 1 - i] as number;
          if (Math.abs(falling - mirrored) > 1e-15) throw new Error(`not mirrored at ${i} of ${n}`);
        }
      }),
      { seed: 0x7a1, numRuns: 300 },
    );
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("n = %s is a RangeError naming n", (n) => {
    expect(() => triangularWindow(n)).toThrow(RangeError);
    expect(() => triangularWindow(n)).toThrow(/^n must be a non-negative integer, got /);
  });
});
