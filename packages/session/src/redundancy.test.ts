import { decodePayload, encodePayload } from "@encstream/codec";
import { describe, expect, test } from "vitest";
import { RedundancyHistory, RedundancyStore } from "./redundancy.js";

const unit = (seq: number, k = 8, f = 1) => ({
  seq,
  codes: Uint16Array.from({ length: k * f }, (_, i) => (seq * 37 + i) % 1024),
  numCodebooks: k,
  numFrames: f,
  lengthSamples: f * 320,
  scale: null,
});

describe("RedundancyHistory (sender)", () => {
  test("carries the first K_r codebooks of the D previous units, nearest first", () => {
    const h = new RedundancyHistory(2, 2);
    expect(h.redundancyFor(0)).toBeNull();
    h.add(unit(0));
    h.add(unit(1));
    h.add(unit(2));
    const r = h.redundancyFor(3)!;
    expect(r.numCodebooks).toBe(2);
    expect(r.units.map((u) => u.distance)).toEqual([1, 2]);
    expect(r.units[0]!.codes).toEqual(unit(2).codes.slice(0, 2)); // K = 8, F = 1: rows 0 and 1
    expect(r.units[1]!.codes).toEqual(unit(1).codes.slice(0, 2));
  });

  test("K_r never exceeds what the protected units have", () => {
    const h = new RedundancyHistory(1, 4);
    h.add(unit(0, 2));
    expect(h.redundancyFor(1)!.numCodebooks).toBe(2);
    expect(() => new RedundancyHistory(9, 2)).toThrow(RangeError);
  });
});

describe("RedundancyStore (receiver)", () => {
  test("a lost unit is rebuilt from the redundancy of a later payload, through the real payload bytes", () => {
    const h = new RedundancyHistory(2, 2);
    const payloads: Uint8Array[] = [];
    for (let seq = 0; seq < 5; seq++) {
      const u = unit(seq, 8, 3);
      payloads.push(encodePayload({ modelKind: "24k", mode: "stream", ...u, redundancy: h.redundancyFor(seq) }));
      h.add(u);
    }
    const store = new RedundancyStore();
    for (const seq of [0, 1, 4]) store.add(seq, decodePayload(payloads[seq]!).redundancy, 0); // 2 and 3 lost
    const r2 = store.take(2)!;
    expect(r2).toMatchObject({ numCodebooks: 2, numFrames: 3, lengthSamples: 960 });
    const want = unit(2, 8, 3).codes; // codebook-major [8 × 3]: rows 0 and 1 are its first 6 codes
    expect(r2.codes).toEqual(want.slice(0, 6));
    expect(store.take(3)).toBeDefined();
    expect(store.take(2)).toBeUndefined(); // taken once
  });

  test("redundancy for units already played is not kept; the store is bounded", () => {
    const store = new RedundancyStore();
    const red = { numCodebooks: 2, units: [{ distance: 1, numFrames: 1, codes: new Uint16Array(2), lengthSamples: 320, scale: null }] };
    store.add(10, red, 10); // stands for 9, already played
    expect(store.size).toBe(0);
    for (let seq = 0; seq < 1000; seq++) store.add(seq, red, undefined);
    expect(store.size).toBeLessThanOrEqual(256);
    store.forgetBefore(990); // held: units 990–998 (unit 999's redundancy would come with seq 1000)
    expect(store.size).toBe(9);
    // a deep jitter buffer's receiver gives a larger bound: the oldest go only beyond it
    const deep = new RedundancyStore(600);
    for (let seq = 1; seq <= 1000; seq++) deep.add(seq, red, undefined);
    expect(deep.size).toBe(600);
    expect(deep.take(400)).toBeDefined();
    expect(deep.take(399)).toBeUndefined();
    expect(() => new RedundancyStore(0)).toThrow(RangeError);
  });
});
