import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { concatFloat32, maxAbsDiff, seededRandom, sine } from "../../test/helpers.js";
import { Resampler } from "./resampler.js";

/** Runs `input` through a fresh resampler in pieces of the given sizes (cycled), then flushes. */
async function resampleInPieces(
  input: Float32Array[],
  inputRateHz: number,
  outputRateHz: number,
  pieceSizes: readonly number[],
): Promise<Float32Array[]> {
  const resampler = await Resampler.create({ channels: input.length, inputRateHz, outputRateHz });
  try {
    const frames = (input[0] as Float32Array).length;
    const outputs: Float32Array[][] = [];
    for (let at = 0, k = 0; at < frames; k++) {
      const size = Math.min(pieceSizes[k % pieceSizes.length] as number, frames - at);
      outputs.push(resampler.process(input.map((channel) => channel.subarray(at, at + size))));
      at += size;
    }
    outputs.push(resampler.flush());
    expect(resampler.inputFrames).toBe(frames);
    return input.map((_, c) => {
      const joined = concatFloat32(outputs.map((o) => o[c] as Float32Array));
      expect(resampler.outputFrames).toBe(joined.length);
      return joined;
    });
  } finally {
    resampler.destroy();
  }
}

describe("Resampler", () => {
  test.each([
    { from: 48_000, to: 24_000 },
    { from: 44_100, to: 24_000 },
    { from: 22_050, to: 48_000 },
    { from: 8_000, to: 24_000 },
  ])("keeps a 1 kHz sine from $from Hz to $to Hz, aligned in time", async ({ from, to }) => {
    const frames = from / 2;
    const [out] = await resampleInPieces([sine(frames, 1_000, from, 0.8)], from, to, [frames]);
    const expected = sine(Math.ceil((frames * to) / from), 1_000, to, 0.8);
    expect(out).toHaveLength(expected.length);
    // Away from the first and last 10 ms, where the filter sees the signal start and stop abruptly.
    const edge = to / 100;
    expect(maxAbsDiff(out as Float32Array, expected, edge, expected.length - edge)).toBeLessThan(1e-3);
  });

  test("removes content above the new Nyquist frequency", async () => {
    const frames = 48_000;
    const [out] = await resampleInPieces([sine(frames, 15_000, 48_000, 0.8)], 48_000, 24_000, [frames]);
    // 15 kHz cannot exist at 24 kHz (Nyquist 12 kHz); only a faint alias may remain.
    expect(maxAbsDiff(out as Float32Array, new Float32Array(24_000), 64, 24_000 - 64)).toBeLessThan(1e-3);
  });

  test("output length is ceil(in × out / in rate) and does not depend on how the input is cut", async () => {
    const rates = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rates),
        fc.constantFrom(...rates),
        fc.integer({ min: 0, max: 3_000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer(),
        async (from, to, frames, pieces, channels, seed) => {
          const random = seededRandom(seed);
          const input = Array.from({ length: channels }, () => Float32Array.from({ length: frames }, () => random() * 2 - 1));
          const whole = await resampleInPieces(input, from, to, [Math.max(frames, 1)]);
          const cut = await resampleInPieces(input, from, to, pieces);
          for (let c = 0; c < channels; c++) {
            expect(whole[c]).toHaveLength(Math.ceil((frames * to) / from));
            expect(cut[c]).toEqual(whole[c]);
          }
        },
      ),
      { numRuns: 60, seed: 20_250_101 },
    );
  });

  test("channels are resampled independently", async () => {
    const left = sine(4_800, 500, 48_000);
    const right = sine(4_800, 3_000, 48_000);
    const [both0, both1] = await resampleInPieces([left, right], 48_000, 24_000, [1_000]);
    const [alone1] = await resampleInPieces([right], 48_000, 24_000, [1_000]);
    expect(both1).toEqual(alone1);
    expect(both0).not.toEqual(both1);
  });

  test.each([
    [{ channels: 0, inputRateHz: 48_000, outputRateHz: 24_000 }, /^channels must be an integer in \[1, 64\], got 0$/],
    [{ channels: 1, inputRateHz: 999, outputRateHz: 24_000 }, /^inputRateHz must be an integer in \[1000, 768000\], got 999$/],
    [{ channels: 1, inputRateHz: 48_000, outputRateHz: 24_000.5 }, /^outputRateHz must be an integer/],
    [{ channels: 1, inputRateHz: 48_000, outputRateHz: 24_000, quality: 11 }, /^quality must be an integer in \[0, 10\], got 11$/],
  ])("create(%o) throws RangeError", async (options, message) => {
    await expect(Resampler.create(options)).rejects.toThrow(RangeError);
    await expect(Resampler.create(options)).rejects.toThrow(message);
  });

  test("misuse: ragged or wrong channel count, use after flush or destroy", async () => {
    const resampler = await Resampler.create({ channels: 2, inputRateHz: 48_000, outputRateHz: 24_000 });
    expect(() => resampler.process([new Float32Array(4)])).toThrow(/^input must have 2 channel\(s\), got 1$/);
    expect(() => resampler.process([new Float32Array(4), new Float32Array(3)])).toThrow(/^input\[1\] must have 4 samples/);
    resampler.flush();
    expect(() => resampler.process([new Float32Array(4), new Float32Array(4)])).toThrow(/after flush/);
    resampler.destroy();
    resampler.destroy();
    expect(() => resampler.flush()).toThrow(/after destroy/);
  });
});
