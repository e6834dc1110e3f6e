import { describe, expect, test } from "vitest";
import { batchFrames } from "./frame-batcher.js";
import type { EncodedUnit, FrameEncoder } from "./frame-encoder.js";

/** A fake stream encoder: one 2-codebook frame per 320 samples pushed, codes = frame index. */
function fakeStream(): FrameEncoder {
  let fed = 0;
  let index = 0;
  const frames = (upTo: number, final: boolean): EncodedUnit[] => {
    const out: EncodedUnit[] = [];
    while ((index + 1) * 320 <= upTo || (final && index * 320 < upTo)) {
      const length = Math.min(320, upTo - index * 320);
      out.push({ seq: index, codes: Uint16Array.of(index, 100 + index), numCodebooks: 2, numFrames: 1, lengthSamples: length, scale: null, hasOverlap: false, startSample: index * 320, endSample: index * 320 + length });
      index++;
    }
    return out;
  };
  return {
    mode: "stream",
    stepSamples: 320,
    unitSamples: 320,
    overlapSamples: 0,
    numCodebooks: 2,
    nextBoundary: (n) => (Math.floor(n / 320) + 1) * 320,
    push: async (audio) => frames((fed += audio[0]!.length), false),
    end: async () => frames(fed, true),
    warmUp: async () => undefined,
  };
}

describe("batchFrames (--frames-per-packet)", () => {
  test("groups N frames per unit, renumbers, and ends with a short unit", async () => {
    const enc = batchFrames(fakeStream(), 3);
    expect([enc.stepSamples, enc.nextBoundary(0), enc.nextBoundary(960)]).toEqual([960, 960, 1920]);
    const units = [...(await enc.push([new Float32Array(320 * 7)])), ...(await enc.push([new Float32Array(100)])), ...(await enc.end())];
    expect(units.map((u) => [u.seq, u.numFrames, u.lengthSamples, u.startSample, u.endSample])).toEqual([
      [0, 3, 960, 0, 960],
      [1, 3, 960, 960, 1920],
      [2, 2, 420, 1920, 2340],
    ]);
    expect(units[1]!.codes).toEqual(Uint16Array.of(3, 4, 5, 103, 104, 105)); // codebook-major
  });

  test("N chosen per message (a function): each change applies at the next boundary; frames stay in order, none repeated or dropped", async () => {
    let n = 1;
    const enc = batchFrames(fakeStream(), () => n);
    const units: EncodedUnit[] = [];
    const plan = [1, 1, 3, 3, 2, 4, 16, 1, 5];
    let fed = 0;
    for (const want of plan) {
      n = want;
      expect(enc.stepSamples).toBe(320 * want);
      const until = enc.nextBoundary(fed);
      units.push(...(await enc.push([new Float32Array(until - fed)])));
      fed = until;
    }
    n = 4;
    units.push(...(await enc.push([new Float32Array(700)])), ...(await enc.end()));
    expect(units.map((u) => u.numFrames)).toEqual([...plan, 3]); // 700 samples: 2 whole frames and a short one, fewer than 4: one last message
    expect(units.map((u) => u.seq)).toEqual(units.map((_, i) => i));
    // contiguous: each message starts where the previous one ended, codes are the frame indices in order
    let frame = 0;
    for (const u of units) {
      expect(u.startSample).toBe(frame * 320);
      expect(Array.from(u.codes.subarray(0, u.numFrames))).toEqual(Array.from({ length: u.numFrames }, (_, i) => frame + i));
      frame += u.numFrames;
    }
    expect(units.at(-1)!.endSample).toBe(fed + 700);
  });

  test("a smaller N with frames held flushes them as several messages at once; out-of-range values are clamped", async () => {
    let n = 4;
    const enc = batchFrames(fakeStream(), () => n);
    expect(await enc.push([new Float32Array(320 * 3)])).toEqual([]); // 3 of 4 held
    expect(enc.nextBoundary(960)).toBe(1280); // one frame lacking
    n = 1;
    expect((await enc.push([new Float32Array(320)])).map((u) => [u.seq, u.numFrames])).toEqual([[0, 1], [1, 1], [2, 1], [3, 1]]);
    n = 99;
    expect(enc.stepSamples).toBe(320 * 16);
    n = Number.NaN;
    expect(enc.stepSamples).toBe(320);
  });

  test("N = 1 is the encoder itself; out of range or chunked throws", () => {
    const inner = fakeStream();
    expect(batchFrames(inner, 1)).toBe(inner);
    expect(() => batchFrames(inner, 17)).toThrow(RangeError);
    expect(() => batchFrames({ ...inner, mode: "chunked" }, 2)).toThrow(RangeError);
  });
});
