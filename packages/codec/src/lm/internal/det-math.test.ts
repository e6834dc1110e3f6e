import { describe, expect, test } from "vitest";
import { detCos, detErf, detExp, detGelu, detSin, pow2 } from "./det-math.js";

// Expected values: correctly rounded results computed with mpmath at 200-bit precision.
const EXP: [number, number][] = [
  [-745.0, 5e-324],
  [-700.5, 5.980196118639791e-305],
  [-100.25, 2.897198083210148e-44],
  [-20.0, 2.061153622438558e-9],
  [-3.5, 0.0301973834223185],
  [-1.0, 0.36787944117144233],
  [-0.5, 0.6065306597126334],
  [-1e-5, 0.9999900000499998],
  [0.0, 1.0],
  [1e-8, 1.00000001],
  [0.3465, 1.4141094938303624],
  [0.75, 2.117000016612675],
  [1.0, 2.718281828459045],
  [2.302585092994046, 10.000000000000002],
  [10.5, 36315.502674246636],
  [88.7, 3.325986980250579e38],
  [500.0, 1.4035922178528375e217],
  [709.7, 1.6549840276802644e308],
];

const TRIG: [number, number, number][] = [
  [0.0, 1.0, 0.0],
  [1e-7, 0.999999999999995, 9.999999999999982e-8],
  [0.5, 0.8775825618903728, 0.479425538604203],
  [0.7853981633974483, 0.7071067811865476, 0.7071067811865475],
  [1.0, 0.5403023058681398, 0.8414709848078965],
  [1.5707963267948966, 6.123233995736766e-17, 1.0],
  [3.0, -0.9899924966004454, 0.1411200080598672],
  [3.141592653589793, -1.0, 1.2246467991473532e-16],
  [6.283185307179586, 1.0, -2.4492935982947064e-16],
  [10.0, -0.8390715290764524, -0.5440211108893698],
  [100.0, 0.8623188722876839, -0.5063656411097588],
  [1234.5, -0.989373592132422, 0.14539565052293643],
  [54321.0, -0.9614487583720007, 0.2749841541342666],
  [262.0, -0.31740011602352985, -0.9482917095220488],
  [1000000.0, 0.9367521275331447, -0.34999350217129294],
  [-2.5, -0.8011436155469337, -0.5984721441039565],
];

const ERF: [number, number][] = [
  [0.0, 0.0],
  [1e-6, 1.1283791670951364e-6],
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [0.8, 0.7421009647076605],
  [1.0, 0.8427007929497149],
  [1.5, 0.9661051464753108],
  [2.0, 0.9953222650189527],
  [2.4999, 0.9995928300996666],
  [2.5, 0.999593047982555],
  [3.0, 0.9999779095030014],
  [4.0, 0.9999999845827421],
  [5.5, 0.9999999999999927],
  [5.99, 1.0],
  [6.0, 1.0],
  [7.0, 1.0],
  [-0.3, -0.3286267594591274],
  [-2.7, -0.9998656672600594],
];

/** Distance in units of the last place of `expected` (relative, 2^-52 of its magnitude). */
function ulps(actual: number, expected: number): number {
  if (actual === expected) return 0;
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  return Math.abs(actual - expected) / (scale * 2 ** -52);
}

describe("deterministic elementary functions", () => {
  test.each(EXP)("detExp(%d) is within 2 ulp", (x, want) => {
    const got = detExp(x);
    if (want < 2.3e-308) expect(Math.abs(got - want)).toBeLessThanOrEqual(2 * 5e-324);
    else expect(ulps(got, want)).toBeLessThanOrEqual(2);
  });

  test("detExp edge cases", () => {
    expect(detExp(Number.NaN)).toBeNaN();
    expect(detExp(710)).toBe(Number.POSITIVE_INFINITY);
    expect(detExp(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(detExp(-746)).toBe(0);
  });

  test.each(TRIG)("detCos/detSin(%d) are within 2e-16 absolute", (x, c, s) => {
    expect(Math.abs(detCos(x) - c)).toBeLessThanOrEqual(2e-16);
    expect(Math.abs(detSin(x) - s)).toBeLessThanOrEqual(2e-16);
  });

  test.each(ERF)("detErf(%d) is within 1e-15 absolute", (x, want) => {
    expect(Math.abs(detErf(x) - want)).toBeLessThanOrEqual(1e-15);
  });

  test("detGelu matches x * (1 + erf(x / sqrt 2)) / 2 and is odd-symmetric around the identity", () => {
    expect(detGelu(0)).toBe(0);
    expect(Math.abs(detGelu(1) - 0.8413447460685429)).toBeLessThanOrEqual(2e-16);
    for (const x of [0.1, 0.7, 1.9, 3.3, 8]) expect(detGelu(x) - detGelu(-x)).toBeCloseTo(x, 14);
  });

  test("pow2 is exact over the whole exponent range", () => {
    expect(pow2(0)).toBe(1);
    expect(pow2(10)).toBe(1024);
    expect(pow2(-1)).toBe(0.5);
    expect(pow2(1023)).toBe(2 ** 1023);
    expect(pow2(-1074)).toBe(5e-324);
    expect(pow2(-1060)).toBe(2 ** -1060);
    expect(pow2(1024)).toBe(Number.POSITIVE_INFINITY);
    expect(pow2(-1075)).toBe(0);
  });
});
