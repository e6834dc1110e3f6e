import { describe, expect, test } from "vitest";
import { readSafetensors } from "../weights/safetensors.js";
import { markovCodes } from "./internal/random-lm.js";
import { loadLmWeights, type LmWeights } from "./lm-weights.js";
import { StreamingLm } from "./streaming-lm.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const lmOf = (tiny: string, pastContext?: number): LmWeights =>
  loadLmWeights(readSafetensors(fixtureBytes(`${tiny}/lm.safetensors`)), pastContext === undefined ? {} : { pastContext });

/** Codes of frame t of a codebook-major [K, F] matrix. */
const frameOf = (codes: ArrayLike<number>, K: number, F: number, t: number): number[] => Array.from({ length: K }, (_, k) => codes[k * F + t]!);

describe("StreamingLm golden probabilities (lm_vectors.safetensors)", () => {
  // VECTORS-README: LM probabilities within 1e-5 of probs_first_steps.
  test.each(["tiny24", "tiny48"])("%s: 12 streamed steps within 1e-5 of the reference", (tiny) => {
    const v = readSafetensors(fixtureBytes(`${tiny}/lm_vectors.safetensors`));
    const codes = v.get("codes_bw6")!;
    const ref = v.get("probs_first_steps")!; // [12, 1024, K]
    const [, K, F] = codes.dims as [number, number, number];
    const lm = new StreamingLm(lmOf(tiny), K);
    let maxErr = 0;
    for (let t = 0; t < 12; t++) {
      const p = lm.step(t === 0 ? null : frameOf(codes.data, K, F, t - 1));
      for (let c = 0; c < 1024; c++) {
        for (let k = 0; k < K; k++) maxErr = Math.max(maxErr, Math.abs(p[k * 1024 + c]! - ref.data[(t * 1024 + c) * K + k]!));
      }
    }
    // Measured: 7.0e-9 (tiny24) and 6.1e-9 (tiny48).
    expect(maxErr).toBeLessThan(1e-5);
    expect(maxErr).toBeLessThan(2e-8);
  });
});

/**
 * A direct transcription of the reference forward pass in binary64 with Math.* functions, keeping
 * every layer's past inputs as a list and re-projecting them each step, with the reference's
 * explicit causal mask `0 <= delta <= past_context`. Independent of StreamingLm's ring buffers.
 */
function naiveLm(w: LmWeights, K: number) {
  const { dim, numHeads, pastContext: P, cardinality: card, maxPeriod } = w.hyper;
  const hd = dim / numHeads;
  const pasts: number[][][] = w.layers.map(() => [new Array<number>(dim).fill(0)]);
  let offset = 0;
  const lin = (W: Float32Array, b: Float32Array, x: number[], rows: number): number[] =>
    Array.from({ length: rows }, (_, r) => x.reduce((s, xi, j) => s + W[r * x.length + j]! * xi, b[r]!));
  const ln = (x: number[], g: Float32Array, b: Float32Array): number[] => {
    const m = x.reduce((a, v) => a + v, 0) / x.length;
    const v = x.reduce((a, xi) => a + (xi - m) ** 2, 0) / x.length;
    return x.map((xi, i) => ((xi - m) / Math.sqrt(v + 1e-5)) * g[i]! + b[i]!);
  };
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): independent of det-math.
  const erf = (x: number): number => {
    const s = Math.sign(x);
    const a = Math.abs(x);
    const t = 1 / (1 + 0.3275911 * a);
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
    return s * y;
  };
  const softmax = (z: number[]): number[] => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  };
  return (prev: number[] | null): number[][] => {
    let x = new Array<number>(dim).fill(0);
    for (let k = 0; k < K; k++) {
      const row = prev === null ? 0 : prev[k]! + 1;
      for (let j = 0; j < dim; j++) x[j]! += w.embeddings[k]![row * dim + j]!;
    }
    x = ln(x, w.normInWeight, w.normInBias);
    const half = dim / 2;
    for (let i = 0; i < half; i++) {
      const phase = offset / maxPeriod ** (i / (half - 1));
      x[i]! += Math.cos(phase);
      x[half + i]! += Math.sin(phase);
    }
    w.layers.forEach((lw, l) => {
      const past = pasts[l]!;
      const keysIn = [...past, x];
      const H = past.length;
      const q = lin(lw.inProjWeight, lw.inProjBias, x, 3 * dim).slice(0, dim);
      const kv = keysIn.map((xi) => lin(lw.inProjWeight, lw.inProjBias, xi, 3 * dim));
      const attn = new Array<number>(dim).fill(0);
      for (let h = 0; h < numHeads; h++) {
        const valid = kv.map((_, j) => H - j >= 0 && H - j <= P);
        const scores = kv.map((r, j) => (valid[j] ? r.slice(dim + h * hd, dim + (h + 1) * hd).reduce((s, kd, d) => s + kd * q[h * hd + d]!, 0) / Math.sqrt(hd) : -Infinity));
        const p = softmax(scores);
        kv.forEach((r, j) => {
          for (let d = 0; d < hd; d++) attn[h * hd + d]! += p[j]! * r[2 * dim + h * hd + d]!;
        });
      }
      const sa = lin(lw.outProjWeight, lw.outProjBias, attn, dim);
      pasts[l] = [...past, x].slice(-P);
      let y = ln(x.map((v, i) => v + sa[i]!), lw.norm1Weight, lw.norm1Bias);
      const h1 = lin(lw.linear1Weight, lw.linear1Bias, y, w.hyper.hiddenDim).map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
      const ff = lin(lw.linear2Weight, lw.linear2Bias, h1, dim);
      y = ln(y.map((v, i) => v + ff[i]!), lw.norm2Weight, lw.norm2Bias);
      x = y;
    });
    offset++;
    return Array.from({ length: K }, (_, k) => softmax(lin(w.headWeights[k]!, w.headBiases[k]!, x, card)));
  };
}

describe("StreamingLm against a direct transcription of the reference", () => {
  test("past context 5 over 40 steps: the ring buffer forgets exactly what the reference's mask drops", () => {
    const w = lmOf("tiny24", 5);
    const K = 4;
    const codes = markovCodes(K, 40, 1024, 7);
    const lm = new StreamingLm(w, K);
    const ref = naiveLm(w, K);
    let maxErr = 0;
    for (let t = 0; t < 40; t++) {
      const prev = t === 0 ? null : frameOf(codes, K, 40, t - 1);
      const p = lm.step(prev);
      const r = ref(prev);
      for (let k = 0; k < K; k++) for (let c = 0; c < 1024; c++) maxErr = Math.max(maxErr, Math.abs(p[k * 1024 + c]! - r[k]![c]!));
    }
    expect(maxErr).toBeLessThan(1e-6);
  });

  test("with a different past context the probabilities differ after the context fills (the test can fail)", () => {
    const K = 2;
    const codes = markovCodes(K, 12, 1024, 3);
    const a = new StreamingLm(lmOf("tiny24", 5), K);
    const b = new StreamingLm(lmOf("tiny24", 6), K);
    let firstDiff = -1;
    for (let t = 0; t < 12 && firstDiff < 0; t++) {
      const prev = t === 0 ? null : frameOf(codes, K, 12, t - 1);
      const pa = a.step(prev).slice();
      const pb = b.step(prev);
      if (pa.some((v, i) => v !== pb[i])) firstDiff = t;
    }
    // Step t attends to min(t + 1, P) past inputs: 5 vs 6 first differ at t = 5.
    expect(firstDiff).toBe(5);
  });
});

describe("StreamingLm state", () => {
  test("reset() restarts the segment: the same inputs give bit-identical probabilities", () => {
    const w = lmOf("tiny48");
    const lm = new StreamingLm(w, 4);
    const codes = markovCodes(4, 12, 1024, 11);
    const run = () => {
      const out: Float32Array[] = [];
      for (let t = 0; t < 12; t++) out.push(lm.step(t === 0 ? null : frameOf(codes, 4, 12, t - 1)).slice());
      return out;
    };
    const first = run();
    expect(lm.offset).toBe(12);
    lm.reset();
    expect(lm.offset).toBe(0);
    expect(run()).toEqual(first);
  });

  test("misuse is a RangeError naming the parameter", () => {
    const w = lmOf("tiny24");
    expect(() => new StreamingLm(w, 0)).toThrow(/^numCodebooks must be/);
    expect(() => new StreamingLm(w, 33)).toThrow(/^numCodebooks must be/);
    const lm = new StreamingLm(w, 2);
    expect(() => lm.step([1])).toThrow(/^previous must hold 2 codes/);
    expect(() => lm.step([1, 1024])).toThrow(/^previous\[1\] must be a code/);
  });

  test("probabilities are a distribution for every codebook", () => {
    const lm = new StreamingLm(lmOf("tiny24"), 8);
    const p = lm.step(null);
    for (let k = 0; k < 8; k++) {
      let s = 0;
      for (let c = 0; c < 1024; c++) s += p[k * 1024 + c]!;
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
  });
});

/** FNV-1a over the float32 bit patterns. */
function fnv1a(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

describe("StreamingLm output is frozen (coding format stability)", () => {
  // Files and streams coded by one version must decode with the next: the probabilities of a
  // fixed model and input must keep their exact bits. Changing these hashes is a format change.
  test("tiny24, 8 codebooks, 20 steps of Markov codes", () => {
    const lm = new StreamingLm(lmOf("tiny24"), 8);
    const codes = markovCodes(8, 20, 1024, 5);
    const hashes: string[] = [];
    for (let t = 0; t < 20; t++) hashes.push(fnv1a(lm.step(t === 0 ? null : frameOf(codes, 8, 20, t - 1))));
    expect(hashes.filter((_, i) => i % 5 === 4)).toEqual(["42558022", "2ec9374d", "150fcb0b", "2dcd002d"]);
  });
});

describe("StreamingLm.stepMany (the encoder's blocks of frames)", () => {
  /** Bit-equal float arrays (a byte compare: toEqual on large typed arrays is slow). */
  const sameBits = (x: Float32Array, y: Float32Array): boolean =>
    Buffer.compare(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), new Uint8Array(y.buffer, y.byteOffset, y.byteLength)) === 0;

  test.each([
    ["tiny24", 8, 5],
    ["tiny48", 4, 12],
    ["tiny24", 32, undefined],
  ] as const)("%s, K = %i, past context %s: blocks of 1 to 16 frames give step()'s probabilities bit for bit, past the ring's wrap", (tiny, K, past) => {
    const w = lmOf(tiny, past);
    const F = 70;
    const codes = markovCodes(K, F, 1024, 5 + K);
    const byStep = new StreamingLm(w, K);
    const byBlock = new StreamingLm(w, K);
    const card = byStep.cardinality;
    const sizes = [1, 16, 3, 7, 16, 2, 9, 16];
    let t = 0;
    for (let b = 0; t < F; b++) {
      const n = Math.min(sizes[b % sizes.length]!, F - t);
      const inputs = Array.from({ length: n }, (_, i) => (t + i === 0 ? null : frameOf(codes, K, F, t + i - 1)));
      const many = byBlock.stepMany(inputs);
      for (let i = 0; i < n; i++) {
        const one = byStep.step(inputs[i]!);
        expect(sameBits(many.subarray(i * K * card, (i + 1) * K * card), one), `frame ${t + i}`).toBe(true);
      }
      t += n;
      expect(byBlock.offset).toBe(t);
    }
    // Mixing the two on one instance continues the same sequence.
    byBlock.reset();
    byStep.reset();
    expect(sameBits(byBlock.stepMany([null, frameOf(codes, K, F, 0)]).subarray(K * card, 2 * K * card), (byStep.step(null), byStep.step(frameOf(codes, K, F, 0))))).toBe(true);
    expect(sameBits(byBlock.step(frameOf(codes, K, F, 1)), byStep.step(frameOf(codes, K, F, 1)))).toBe(true);
  });

  test("frame counts and codes out of range are RangeErrors that leave the state as it was", () => {
    const lm = new StreamingLm(lmOf("tiny24"), 2);
    expect(() => lm.stepMany([])).toThrow(RangeError);
    expect(() => lm.stepMany(Array.from({ length: 17 }, () => null))).toThrow(/^previous must hold 1 to 16 frames, got 17/);
    expect(() => lm.stepMany([null, [1, 1024]])).toThrow(/^previous\[1\] must be a code/);
    expect(lm.offset).toBe(0);
  });
});
