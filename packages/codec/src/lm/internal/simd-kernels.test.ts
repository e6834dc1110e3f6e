import { describe, expect, test } from "vitest";
import { mulberry32 } from "../../internal/mulberry32.js";
import { AttentionCache, attentionScoresJs, attentionValuesJs } from "./simd-attention.js";
import { MATVEC_MAX_BATCH, MatVecBank, matVecF32Js } from "./simd-matvec.js";

const randomF32 = (n: number, seed: number, scale = 1) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
};

describe("WebAssembly SIMD kernels give the bits of their JavaScript emulation", () => {
  test.each([
    [4, 4],
    [8, 16],
    [600, 200],
    [1024, 200],
    [200, 800],
  ])("matrix %i x %i", (rows, cols) => {
    const spec = { weight: randomF32(rows * cols, rows, 0.3), bias: randomF32(rows, cols), rows, cols };
    const bank = new MatVecBank([spec]);
    expect(bank.accelerated).toBe(true); // Node 20 has WebAssembly SIMD
    const x = randomF32(cols, 99, 2);
    const viaWasm = new Float32Array(rows);
    bank.run(0, x, viaWasm);
    const viaJs = new Float32Array(rows);
    matVecF32Js(spec.weight, 0, spec.bias, 0, rows, cols, x, viaJs, 0);
    expect(viaWasm).toEqual(viaJs);
    // and the canonical order is float32, not a binary64 sum (the test can tell them apart)
    const wide = Array.from({ length: rows }, (_, r) => Math.fround(x.reduce((s, xj, j) => s + spec.weight[r * cols + j]! * xj, 0) + spec.bias[r]!));
    if (cols >= 200) expect(Array.from(viaJs)).not.toEqual(wide);
  });

  test.each([
    [8, 16, 1],
    [600, 200, 5],
    [1024, 200, MATVEC_MAX_BATCH],
    [200, 800, 7],
  ])("matrix %i x %i times %i vectors at once: each output has the bits of the one-vector product", (rows, cols, n) => {
    const spec = { weight: randomF32(rows * cols, rows + 1, 0.3), bias: randomF32(rows, cols + 1), rows, cols };
    const x = randomF32(n * cols, 98, 2);
    // The SIMD kernel, and (one row fewer: not a multiple of 4) the JavaScript one.
    for (const r of [rows, rows - 1]) {
      const bank = new MatVecBank([{ ...spec, rows: r, weight: spec.weight.subarray(0, r * cols), bias: spec.bias.subarray(0, r) }]);
      expect(bank.accelerated).toBe(r % 4 === 0);
      const many = new Float32Array(n * r + 3).fill(-7);
      bank.runMany(0, x, n, many, 3);
      const one = new Float32Array(n * r + 3).fill(-7);
      for (let t = 0; t < n; t++) bank.run(0, x.subarray(t * cols, (t + 1) * cols), one, 3 + t * r);
      expect(many).toEqual(one);
    }
    const bank = new MatVecBank([spec]);
    expect(() => bank.runMany(0, x, MATVEC_MAX_BATCH + 1, new Float32Array(rows * (MATVEC_MAX_BATCH + 1)))).toThrow(RangeError);
  });

  test("a matrix whose size is not a multiple of 4 runs in JavaScript with the same order", () => {
    const spec = { weight: randomF32(15, 1), bias: randomF32(5, 2), rows: 5, cols: 3 };
    const bank = new MatVecBank([spec]);
    expect(bank.accelerated).toBe(false);
    const out = new Float32Array(5);
    bank.run(0, randomF32(3, 3), out);
    const want = new Float32Array(5);
    matVecF32Js(spec.weight, 0, spec.bias, 0, 5, 3, randomF32(3, 3), want, 0);
    expect(out).toEqual(want);
  });

  test.each([
    [1, 3],
    [5, 9],
    [263, 263],
  ])("attention over %i of %i slots (dim 200, 8 heads)", (count, cap) => {
    const dim = 200;
    const heads = 8;
    const hd = dim / heads;
    const att = new AttentionCache(2, dim, heads, cap);
    expect(att.accelerated).toBe(true);
    att.kt[1]!.set(randomF32(att.kt[1]!.length, 4));
    att.vt[1]!.set(randomF32(att.vt[1]!.length, 5));
    att.q.set(randomF32(dim, 6, 3));
    const count4 = (count + 3) & ~3;
    const scale = Math.fround(1 / Math.sqrt(hd));
    att.computeScores(1, count4, hd, scale);
    const scores = new Float32Array(att.scores.length);
    attentionScoresJs(att.q, att.kt[1]!, 0, count4, att.capPad, heads, hd, scale, scores);
    for (let h = 0; h < heads; h++) {
      expect(att.scores.subarray(h * att.capPad, h * att.capPad + count)).toEqual(scores.subarray(h * att.capPad, h * att.capPad + count));
    }
    const p = randomF32(att.probs.length, 7);
    for (let h = 0; h < heads; h++) p.fill(0, h * att.capPad + count, (h + 1) * att.capPad);
    att.probs.set(p);
    att.computeValues(1, count4, hd);
    const out = new Float32Array(dim);
    attentionValuesJs(p, att.vt[1]!, 0, count4, att.capPad, dim, hd, out);
    expect(att.out).toEqual(out);
  });
});
