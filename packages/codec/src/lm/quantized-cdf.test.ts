import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LM_TOTAL_RANGE } from "./constants.js";
import { buildQuantizedCdf } from "./quantized-cdf.js";

const rangesOf = (cdf: Uint32Array): number[] => Array.from(cdf, (v, i) => v - (i === 0 ? 0 : cdf[i - 1]!));

describe("buildQuantizedCdf", () => {
  test("a certain symbol takes all but the minimum ranges: 16775168 + 2, then 2 each, summing to 2^24", () => {
    // float32(1 / float32(1e-8)) = 1e8; 1e8 * float32(1e-8) rounds to float32 1.0.
    const pdf = new Float32Array(1024);
    pdf[0] = 1;
    const cdf = new Uint32Array(1024);
    buildQuantizedCdf(pdf, 0, 1024, cdf);
    expect(cdf[0]).toBe(16775170);
    expect(cdf[1]).toBe(16775172);
    expect(cdf[1023]).toBe(LM_TOTAL_RANGE);
  });

  test("probabilities below the 1e-8 roundoff get exactly the minimum range", () => {
    const pdf = new Float32Array(4).fill(9e-9);
    pdf[3] = 1 - 2.7e-8;
    const cdf = new Uint32Array(4);
    buildQuantizedCdf(pdf, 0, 4, cdf);
    expect(rangesOf(cdf).slice(0, 3)).toEqual([2, 2, 2]);
  });

  test("reads the pdf from an offset (codebook k of a [K, card] block)", () => {
    const pdf = new Float32Array(8);
    pdf.fill(0.25, 4, 8);
    const a = new Uint32Array(4);
    const b = new Uint32Array(4);
    buildQuantizedCdf(pdf, 4, 4, a);
    buildQuantizedCdf(new Float32Array(4).fill(0.25), 0, 4, b);
    expect(a).toEqual(b);
  });

  test("property: monotone, every range >= 2, total <= 2^24, for any float32 pdf summing to about 1 (or more)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 1024 }),
        fc.double({ min: 0.5, max: 1.5, noNaN: true }),
        (raw, mass) => {
          const sum = raw.reduce((a, v) => a + v, 0) || 1;
          const pdf = Float32Array.from(raw, (v) => (v / sum) * mass);
          const cdf = new Uint32Array(pdf.length);
          buildQuantizedCdf(pdf, 0, pdf.length, cdf);
          const r = rangesOf(cdf);
          expect(Math.min(...r)).toBeGreaterThanOrEqual(2);
          expect(cdf[pdf.length - 1]).toBeLessThanOrEqual(LM_TOTAL_RANGE);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  test("a pdf summing above 1 is trimmed from the widest symbol only", () => {
    const pdf = new Float32Array(1000).fill(1 / 990);
    pdf[500] = 0.05;
    const cdf = new Uint32Array(1000);
    buildQuantizedCdf(pdf, 0, 1000, cdf);
    expect(cdf[999]).toBe(LM_TOTAL_RANGE);
    const r = rangesOf(cdf);
    expect(r[0]).toBe(r[499]);
    expect(r[500]).toBeLessThan(Math.floor(0.05 * 16775168));
  });

  test("too many symbols for the range is a RangeError", () => {
    expect(() => buildQuantizedCdf(new Float32Array(1), 0, 2 ** 23 + 1, new Uint32Array(1))).toThrow(/^n must be at most/);
  });
});
