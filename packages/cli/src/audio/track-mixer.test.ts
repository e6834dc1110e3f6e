import { describe, expect, test } from "vitest";
import { TrackMixer, Upsampler2x } from "./track-mixer.js";

function ramp(n: number, seed = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.05 * seed) * 0.5);
}

describe("Upsampler2x", () => {
  test("no delay: output sample 2n is input sample n, and twice as many samples come out", () => {
    const x = ramp(1000);
    const u = new Upsampler2x();
    const y = new Float32Array([...u.push(x), ...u.end()]);
    expect(y.length).toBe(2000);
    for (let n = 0; n < 1000; n++) expect(y[2 * n]).toBe(x[n]);
    // a slow sine's interpolated samples lie close to the sine between them
    for (let n = 10; n < 990; n++) expect(Math.abs(y[2 * n + 1]! - Math.sin((n + 0.5) * 0.05) * 0.5)).toBeLessThan(1e-3);
  });

  test.each([[1], [7], [333]])("pieces of %i samples give the same output as one piece", (piece) => {
    const x = ramp(1000, 3);
    const whole = new Upsampler2x();
    const expected = new Float32Array([...whole.push(x), ...whole.end()]);
    const u = new Upsampler2x();
    const parts: number[] = [];
    for (let at = 0; at < x.length; at += piece) parts.push(...u.push(x.subarray(at, at + piece)));
    parts.push(...u.end());
    expect(Float32Array.from(parts)).toEqual(expected);
  });
});

describe("TrackMixer", () => {
  test("adds tracks by sample position, whatever the blocks, a 24 kHz mono track on the even samples of a 48 kHz stereo mix", async () => {
    const out: Float32Array[][] = [];
    const mixer = new TrackMixer({ sampleRateHz: 48_000, channels: 2, discoveryMs: 0, write: async (a) => void out.push(a) });
    const a = mixer.addTrack(24_000, 1);
    const b = mixer.addTrack(48_000, 2);
    const x = ramp(600, 2);
    const l = ramp(1200, 5);
    const r = ramp(1200, 7);
    await b.write([l.subarray(0, 100), r.subarray(0, 100)]);
    await a.write([x.subarray(0, 450)]);
    await b.write([l.subarray(100), r.subarray(100)]);
    await a.write([x.subarray(450)]);
    await a.end();
    await b.end();
    await mixer.finish();
    const left = Float32Array.from(out.flatMap((o) => [...o[0]!]));
    const right = Float32Array.from(out.flatMap((o) => [...o[1]!]));
    expect(left.length).toBe(1200);
    for (let n = 0; n < 600; n++) {
      expect(left[2 * n]).toBe(Math.fround(x[n]! + l[2 * n]!));
      expect(right[2 * n]).toBe(Math.fround(x[n]! + r[2 * n]!));
    }
  });

  test("holds the first mix for the tracks to appear; a track that comes after the mix passed its start loses what is behind", async () => {
    const out: Float32Array[][] = [];
    const mixer = new TrackMixer({ sampleRateHz: 24_000, channels: 1, discoveryMs: 60_000, write: async (a) => void out.push(a) });
    const a = mixer.addTrack(24_000, 1);
    await a.write([new Float32Array(100).fill(0.25)]);
    expect(out.length).toBe(0); // held: another track may still appear
    await a.end();
    expect(out.flatMap((o) => [...o[0]!]).length).toBe(100); // every track has ended: mixed
    const late = mixer.addTrack(24_000, 1);
    await late.write([new Float32Array(150).fill(0.5)]);
    await late.end();
    await mixer.finish();
    const mix = out.flatMap((o) => [...o[0]!]);
    expect(mix.length).toBe(150);
    expect(mix.slice(100)).toEqual(new Array(50).fill(0.5));
    expect(mixer.lateSamples).toBe(100);
  });

  test("clamps the sum to [-1, 1]; refuses a rate it cannot reach", async () => {
    const out: Float32Array[][] = [];
    const mixer = new TrackMixer({ sampleRateHz: 24_000, channels: 1, discoveryMs: 0, write: async (a) => void out.push(a) });
    const a = mixer.addTrack(24_000, 1);
    const b = mixer.addTrack(24_000, 1);
    await a.write([Float32Array.of(0.8, -0.8)]);
    await b.write([Float32Array.of(0.8, -0.8)]);
    await mixer.finish();
    expect([...out[0]![0]!]).toEqual([1, -1]);
    expect(() => mixer.addTrack(16_000, 1)).toThrow(/^sampleRateHz must be 24000/);
  });
});
