import { describe, expect, test } from "vitest";
import { RingBuffer } from "./ring-buffer.js";

const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);

describe("RingBuffer", () => {
  test("reads back what was written, in order, across the wrap", () => {
    const ring = new RingBuffer(2, 128);
    const out = [new Float32Array(100), new Float32Array(100)];
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      expect(ring.write([ramp(next, 70), ramp(1000 + next, 70)])).toBe(70);
      next += 70;
      // Read it in two pieces of odd sizes, so the read position wraps at varying places.
      for (const want of [43, 27]) {
        const got = ring.read(out, 0, want);
        expect(got).toBe(want);
        for (let i = 0; i < got; i++) {
          expect(out[0]![i]).toBe(expected + i);
          expect(out[1]![i]).toBe(1000 + expected + i);
        }
        expected += got;
      }
      expect(ring.level).toBe(0);
    }
  });
  test("a full ring keeps what fits and counts the rest; a short read says how many", () => {
    const ring = new RingBuffer(1, 128);
    expect(ring.write([ramp(0, 200)])).toBe(128);
    expect(ring.overflowSamples).toBe(72);
    const out = [new Float32Array(256)];
    expect(ring.read(out, 10, 256)).toBe(128);
    expect(out[0]![10]).toBe(0);
    expect(out[0]![137]).toBe(127);
    expect(ring.level).toBe(0);
    expect(ring.skip()).toBe(false);
  });
  test("mono audio fills every channel; skip drops one sample", () => {
    const ring = new RingBuffer(2, 128);
    ring.write([ramp(5, 4)]);
    expect(ring.skip()).toBe(true);
    const out = [new Float32Array(3), new Float32Array(3)];
    expect(ring.read(out, 0, 3)).toBe(3);
    expect([...out[0]!]).toEqual([6, 7, 8]);
    expect([...out[1]!]).toEqual([6, 7, 8]);
  });
  test.each([
    [0, 128],
    [9, 128],
    [1, 100],
    [1, 128.5],
  ])("channels %d, capacity %d is a RangeError", (channels, capacity) => {
    expect(() => new RingBuffer(channels, capacity)).toThrow(RangeError);
  });
});
