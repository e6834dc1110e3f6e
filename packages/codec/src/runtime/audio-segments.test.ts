import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { interleavePlanar, linearOverlapAdd, segmentOffsets, segmentScale } from "./audio-segments.js";

describe("segmentOffsets", () => {
  test.each([
    [120000, 47520, [0, 47520, 95040]],
    [47520, 47520, [0]],
    [47521, 47520, [0, 47520]],
    [36000, null, [0]],
  ])("length %i stride %s → %j", (len, stride, expected) => {
    expect(segmentOffsets(len, stride)).toEqual(expected);
  });
});

describe("segmentScale", () => {
  test("1e-8 + RMS of the channel mean", () => {
    const left = new Float32Array([1, -1, 1, -1]);
    const right = new Float32Array([0, 0, 0, 0]);
    expect(segmentScale([left, right])).toBe(Math.fround(1e-8 + 0.5));
    expect(segmentScale([left, Float32Array.from(left, (v) => -v)])).toBe(Math.fround(1e-8));
  });
});

describe("interleavePlanar", () => {
  test("channel-major, zero-padded, divided by the scale", () => {
    const out = interleavePlanar([new Float32Array([1, 2]), new Float32Array([3, 4])], 3, 2);
    expect([...out]).toEqual([0.5, 1, 0, 1.5, 2, 0]);
  });
});

describe("linearOverlapAdd", () => {
  test("one segment is returned unchanged", () => {
    const seg = [new Float32Array([1, 2, 3, 4, 5])];
    expect([...linearOverlapAdd([seg], 4)[0]!]).toEqual([1, 2, 3, 4, 5]);
  });

  test("two segments crossfade linearly over the overlap (hand-computed triangle weights)", () => {
    // length 4 → t = 1/5..4/5, weights 0.2 0.4 0.4 0.2; stride 2: overlap on samples 2, 3
    const a = [new Float32Array([1, 1, 1, 1])];
    const b = [new Float32Array([0, 0, 0, 0])];
    const out = linearOverlapAdd([a, b], 2)[0]!;
    expect(out.length).toBe(6);
    expect(out[0]).toBe(1);
    expect(out[2]).toBeCloseTo(0.4 / (0.4 + 0.2), 6);
    expect(out[3]).toBeCloseTo(0.2 / (0.2 + 0.4), 6);
    expect(out[5]).toBe(0);
  });

  test("property: overlapping copies of the same constant give that constant everywhere", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.integer({ min: 1, max: 5 }), fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: 1, max: 2 }), (len, n, value, channels) => {
        const stride = Math.max(1, Math.floor(len * 0.75));
        const segs = Array.from({ length: n }, () => Array.from({ length: channels }, () => new Float32Array(len).fill(value)));
        const out = linearOverlapAdd(segs, stride);
        expect(out).toHaveLength(channels);
        expect(out[0]!.length).toBe(stride * (n - 1) + len);
        for (const ch of out) for (const v of ch) expect(Math.abs(v - Math.fround(value))).toBeLessThan(1e-6);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
