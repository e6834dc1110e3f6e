import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compareSeq, isSeq, seqAdd, seqDiff, seqGreaterThan, seqLessThan } from "./sequence-number.js";

const FC = { seed: 1982, numRuns: 500 } as const;
const seqArb = fc.integer({ min: 0, max: 0xffff_ffff });

describe("seqDiff", () => {
  test.each([
    // a,           b,           a - b
    [5, 5, 0],
    [6, 5, 1],
    [5, 6, -1],
    [0, 0xffff_ffff, 1], // wrap: 0 follows 2^32 - 1
    [0xffff_ffff, 0, -1],
    [2, 0xffff_fffd, 5],
    [0x7fff_ffff, 0, 0x7fff_ffff], // largest forward distance
    [0x8000_0001, 0, -0x7fff_ffff], // just past half the space: behind
    [0x8000_0000, 0, -0x8000_0000], // exactly half: undefined order, reported as -2^31
  ])("seqDiff(%i, %i) = %i", (a, b, expected) => {
    expect(seqDiff(a, b)).toBe(expected);
  });

  test("is antisymmetric away from the half-range point", () => {
    fc.assert(
      fc.property(seqArb, seqArb, (a, b) => {
        const d = seqDiff(a, b);
        if (d !== -0x8000_0000) expect(seqDiff(b, a)).toBe(-d);
      }),
      FC,
    );
  });

  test("seqAdd(b, seqDiff(a, b)) === a", () => {
    fc.assert(
      fc.property(seqArb, seqArb, (a, b) => {
        expect(seqAdd(b, seqDiff(a, b))).toBe(a);
      }),
      FC,
    );
  });
});

describe("seqAdd", () => {
  test.each([
    [0xffff_fffb, 5, 0], // 2^32 - 5 + 5 wraps to 0
    [0xffff_fffb, 7, 2],
    [1, -2, 0xffff_ffff],
    [0, 0x1_0000_0000, 0], // a full lap
    [10, -0x1_0000_0003, 7],
  ])("seqAdd(%i, %i) = %i", (seq, n, expected) => {
    expect(seqAdd(seq, n)).toBe(expected);
  });

  test("adding within half the space moves forward by exactly n", () => {
    fc.assert(
      fc.property(seqArb, fc.integer({ min: -0x7fff_ffff, max: 0x7fff_ffff }), (seq, n) => {
        expect(seqDiff(seqAdd(seq, n), seq)).toBe(n);
      }),
      FC,
    );
  });
});

describe("seqLessThan / seqGreaterThan (RFC 1982)", () => {
  test.each([
    [1, 2, true, false],
    [2, 1, false, true],
    [7, 7, false, false],
    [0xffff_ffff, 0, true, false], // across the wrap
    [0xffff_fffe, 3, true, false],
    [0, 0x8000_0000, false, false], // exactly half apart: neither
    [0x8000_0000, 0, false, false],
    [0, 0x7fff_ffff, true, false],
  ])("%i vs %i: less %s, greater %s", (a, b, less, greater) => {
    expect(seqLessThan(a, b)).toBe(less);
    expect(seqGreaterThan(a, b)).toBe(greater);
  });

  test("exactly one of <, =, > holds unless the two are 2^31 apart", () => {
    fc.assert(
      fc.property(seqArb, seqArb, (a, b) => {
        const n = Number(seqLessThan(a, b)) + Number(seqGreaterThan(a, b)) + Number(a === b);
        expect(n).toBe(((a - b + 0x1_0000_0000) % 0x1_0000_0000) === 0x8000_0000 ? 0 : 1);
      }),
      FC,
    );
  });

  test("compareSeq sorts a window that straddles the wrap", () => {
    const window = [3, 0xffff_fffe, 0, 1, 0xffff_ffff, 2];
    expect([...window].sort(compareSeq)).toEqual([0xffff_fffe, 0xffff_ffff, 0, 1, 2, 3]);
  });
});

describe("argument checks", () => {
  test.each([
    ["a", () => seqDiff(-1, 0), RangeError],
    ["b", () => seqDiff(0, 0x1_0000_0000), RangeError],
    ["a", () => seqLessThan(1.5, 0), RangeError],
    ["b", () => seqGreaterThan(0, Number.NaN), RangeError],
    ["a", () => seqDiff("1" as unknown as number, 0), TypeError],
    ["seq", () => seqAdd(-3, 1), RangeError],
    ["n", () => seqAdd(3, 0.5), RangeError],
  ])("names %s first", (name, call, errorClass) => {
    expect(call).toThrow(errorClass);
    expect(call).toThrow(new RegExp(`^${name} must be`));
  });

  test.each([
    [0, true],
    [0xffff_ffff, true],
    [0x1_0000_0000, false],
    [-1, false],
    [2.5, false],
    ["3", false],
    [Number.NaN, false],
  ])("isSeq(%s) = %s", (value, expected) => {
    expect(isSeq(value)).toBe(expected);
  });
});
