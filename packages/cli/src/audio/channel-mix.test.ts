import { describe, expect, test } from "vitest";
import { mixChannels } from "./channel-mix.js";

const f = (...values: number[]) => Float32Array.from(values);
const G = Math.SQRT1_2;
const SIDE = 1 + 2 * G;

describe("mixChannels", () => {
  test.each([
    { name: "stereo → mono: mean", input: [f(1, 0.5), f(0, -0.5)], channels: 1, expected: [f(0.5, 0)] },
    { name: "mono → stereo: duplicate", input: [f(0.25, -1)], channels: 2, expected: [f(0.25, -1), f(0.25, -1)] },
    { name: "4 → 2: channel j is the mean of j and j + 2", input: [f(1), f(0.5), f(0), f(-0.5)], channels: 2, expected: [f(0.5), f(0)] },
    { name: "3 → 1: mean of all", input: [f(0.3), f(0.6), f(0.9)], channels: 1, expected: [f(0.6)] },
    { name: "2 → 3: channel j copies j mod 2", input: [f(0.1), f(0.2)], channels: 3, expected: [f(0.1), f(0.2), f(0.1)] },
    { name: "empty audio keeps its shape", input: [f(), f()], channels: 1, expected: [f()] },
    // 5.1 in WAVE order FL FR FC LFE BL BR; g = 1/√2, each side scaled by 1/(1 + 2g).
    { name: "5.1 → stereo: the centre on both sides", input: [f(0), f(0), f(1), f(0), f(0), f(0)], channels: 2, expected: [f(G / SIDE), f(G / SIDE)] },
    { name: "5.1 → stereo: the LFE left out", input: [f(0), f(0), f(0), f(1), f(0), f(0)], channels: 2, expected: [f(0), f(0)] },
    { name: "5.1 → stereo: front and surround on their own side", input: [f(1), f(0), f(0), f(0), f(0), f(-1)], channels: 2, expected: [f(1 / SIDE), f(-G / SIDE)] },
    { name: "5.1 → stereo: full scale everywhere stays full scale", input: [f(1), f(1), f(1), f(1), f(1), f(1)], channels: 2, expected: [f(1), f(1)] },
    { name: "5.1 → mono: the mean of the stereo downmix", input: [f(1), f(0), f(1), f(1), f(0), f(0)], channels: 1, expected: [f((1 + G) / SIDE / 2 + G / SIDE / 2)] },
    { name: "7.1 → stereo: side surrounds on their own side", input: [f(0), f(0), f(0), f(0), f(0), f(0), f(1), f(0)], channels: 2, expected: [f(G / (1 + 3 * G)), f(0)] },
    { name: "5.0 → stereo", input: [f(0), f(1), f(0), f(0), f(1)], channels: 2, expected: [f(0), f((1 + G) / SIDE)] },
  ])("$name", ({ input, channels, expected }) => {
    const out = mixChannels(input, channels);
    expect(out).toHaveLength(expected.length);
    out.forEach((channel, c) => {
      expect(channel).toHaveLength((expected[c] as Float32Array).length);
      channel.forEach((v, i) => expect(v).toBeCloseTo((expected[c] as Float32Array)[i] as number, 6));
    });
  });

  test("the same channel count returns the input arrays; other counts return copies", () => {
    const input = [f(1, 2)];
    expect(mixChannels(input, 1)[0]).toBe(input[0]);
    const up = mixChannels(input, 2);
    expect(up[0]).not.toBe(input[0]);
    (up[0] as Float32Array)[0] = 9;
    expect((input[0] as Float32Array)[0]).toBe(1);
  });

  test.each([
    { input: [f(1)], channels: 0, message: /^channels must be an integer in \[1, 64\], got 0$/ },
    { input: [], channels: 1, message: /^input must have at least one channel, got 0$/ },
    { input: [f(1, 2), f(1)], channels: 1, message: /^input\[1\] must have 2 samples like input\[0\], got 1$/ },
  ])("rejects $message", ({ input, channels, message }) => {
    expect(() => mixChannels(input, channels)).toThrow(RangeError);
    expect(() => mixChannels(input, channels)).toThrow(message);
  });
});
