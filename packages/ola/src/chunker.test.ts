import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { assertSamplesClose, makeNoise } from "../test/helpers.js";
import { Chunker, splitIntoChunks } from "./chunker.js";
import { isOlaError } from "./errors.js";

/** A ramp 0, 1, 2, … so every sample names its own position. */
function ramp(length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => i);
}

describe("splitIntoChunks", () => {
  test.each([
    // chunkSamples 10 at 20 %: overlap 2, hop 8; chunk k covers [8k, 8k + 10).
    { length: 0, expected: [] as [number, boolean, number][] },
    { length: 7, expected: [[0, false, 7]] as [number, boolean, number][] },
    { length: 10, expected: [[0, false, 10]] as [number, boolean, number][] },
    { length: 11, expected: [[0, false, 10], [8, true, 3]] as [number, boolean, number][] },
    { length: 18, expected: [[0, false, 10], [8, true, 10]] as [number, boolean, number][] },
    {
      length: 19, // the third chunk carries only sample 18
      expected: [[0, false, 10], [8, true, 10], [16, true, 3]] as [number, boolean, number][],
    },
  ])("$length samples → chunks (startSample, hasOverlap, length) $expected", ({ length, expected }) => {
    const chunks = splitIntoChunks([ramp(length)], { chunkSamples: 10, overlapRatio: 0.2 });
    expect(chunks.map((c) => [c.startSample, c.hasOverlap, (c.samples[0] as Float32Array).length])).toEqual(
      expected,
    );
    chunks.forEach((chunk, index) => {
      expect(chunk.index).toBe(index);
      // Each sample of the ramp holds its own position: the chunk is the input at startSample.
      expect(Array.from(chunk.samples[0] as Float32Array)).toEqual(
        Array.from(ramp(length).subarray(chunk.startSample, chunk.startSample + (chunk.samples[0] as Float32Array).length)),
      );
    });
  });

  test("chunks are copies: changing the input later does not change them", () => {
    const input = [ramp(30), ramp(30)];
    const chunks = splitIntoChunks(input, { chunkSamples: 10, overlapRatio: 0.5 });
    (input[0] as Float32Array).fill(-1);
    expect((chunks[1]?.samples[0] as Float32Array)[0]).toBe(5);
    expect(chunks[1]?.samples[0]?.buffer).not.toBe(chunks[1]?.samples[1]?.buffer);
  });

  test("overlapRatio defaults to 1 %", () => {
    const chunks = splitIntoChunks([ramp(250)], { chunkSamples: 100 });
    expect(chunks.map((c) => c.startSample)).toEqual([0, 99, 198]);
  });

  test("overlapRatio out of range is a RangeError naming it", () => {
    expect(() => splitIntoChunks([ramp(10)], { chunkSamples: 10, overlapRatio: 0.7 })).toThrow(
      new RangeError("overlapRatio must be in [0.01, 0.5], got 0.7"),
    );
  });

  test.each([
    { audio: [] as Float32Array[], error: TypeError },
    { audio: "x" as unknown as Float32Array[], error: TypeError },
    { audio: [new Float64Array(4)] as unknown as Float32Array[], error: TypeError },
    { audio: Array.from({ length: 33 }, () => new Float32Array(1)), error: RangeError },
  ])("bad audio argument %# is a $error.name", ({ audio, error }) => {
    expect(() => splitIntoChunks(audio, { chunkSamples: 10 })).toThrow(error);
  });

  test("channels of different lengths are an OlaError ragged-channels", () => {
    let thrown: unknown;
    try {
      splitIntoChunks([new Float32Array(5), new Float32Array(6)], { chunkSamples: 10 });
    } catch (error) {
      thrown = error;
    }
    expect(isOlaError(thrown) && thrown.code).toBe("ragged-channels");
  });

  test("every chunk is the input at its start, overlaps by round(chunk × ratio), and covers the input", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 2, max: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer(),
        (channels, length, chunkSamples, percent, seed) => {
          const input = makeNoise(channels, length, seed);
          const chunks = splitIntoChunks(input, { chunkSamples, overlapRatio: percent / 100 });
          const overlap = Math.min(Math.round((chunkSamples * percent) / 100), Math.floor(chunkSamples / 2));
          const hop = chunkSamples - overlap;
          let coveredTo = 0;
          const problems: string[] = [];
          chunks.forEach((chunk, k) => {
            const chunkLength = (chunk.samples[0] as Float32Array).length;
            const isLast = k === chunks.length - 1;
            const expectedLength = isLast ? Math.min(chunkSamples, length - k * hop) : chunkSamples;
            if (chunk.index !== k || chunk.startSample !== k * hop || chunk.hasOverlap !== k > 0) {
              problems.push(`chunk ${k}: index ${chunk.index}, start ${chunk.startSample}, overlap ${chunk.hasOverlap}`);
            }
            if (chunk.samples.length !== channels || chunkLength !== expectedLength) {
              problems.push(`chunk ${k}: ${chunk.samples.length} channels of ${chunkLength}`);
            }
            // Chunk k starts `overlap` samples before the previous one ends and brings new audio.
            if (k > 0 && chunk.startSample + overlap !== coveredTo) problems.push(`chunk ${k}: bad overlap`);
            if (chunk.startSample + chunkLength <= coveredTo) problems.push(`chunk ${k}: nothing new`);
            coveredTo = chunk.startSample + chunkLength;
            for (let c = 0; c < channels; c++) {
              const expected = (input[c] as Float32Array).subarray(chunk.startSample, coveredTo);
              assertSamplesClose(chunk.samples[c] as Float32Array, expected, 0, `chunk ${k} channel ${c}`);
            }
          });
          expect(problems).toEqual([]);
          expect(coveredTo).toBe(length);
        },
      ),
      { seed: 0xc4a2, numRuns: 150 },
    );
  });
});

describe("Chunker", () => {
  test("pushing the audio in pieces of any size gives the same chunks as splitting it at once", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (channels, length, chunkSamples, overlapRatio, cuts, seed) => {
          const input = makeNoise(channels, length, seed);
          const whole = splitIntoChunks(input, { chunkSamples, overlapRatio });
          const chunker = new Chunker({ chunkSamples, overlapRatio });
          const streamed = [];
          let read = 0;
          for (const cut of cuts) {
            const end = Math.min(length, read + cut);
            streamed.push(...chunker.push(input.map((channel) => channel.subarray(read, end))));
            read = end;
          }
          streamed.push(...chunker.push(input.map((channel) => channel.subarray(read))));
          streamed.push(...chunker.end());
          expect(streamed.length).toBe(whole.length);
          streamed.forEach((chunk, k) => {
            const reference = whole[k] as (typeof whole)[number];
            expect([chunk.index, chunk.startSample, chunk.hasOverlap]).toEqual([
              reference.index,
              reference.startSample,
              reference.hasOverlap,
            ]);
            chunk.samples.forEach((channel, c) =>
              assertSamplesClose(channel, reference.samples[c] as Float32Array, 0, `chunk ${k} channel ${c}`),
            );
          });
        },
      ),
      { seed: 0x5eed, numRuns: 150 },
    );
  });

  test("returns each chunk as soon as it is complete", () => {
    const chunker = new Chunker({ chunkSamples: 10, overlapRatio: 0.2 });
    expect(chunker.overlapSamples).toBe(2);
    expect(chunker.hopSamples).toBe(8);
    expect(chunker.push([ramp(9)])).toEqual([]);
    expect(chunker.bufferedSamples).toBe(9);
    const [first] = chunker.push([new Float32Array([9])]);
    expect(first?.startSample).toBe(0);
    expect(chunker.bufferedSamples).toBe(2); // the overlap, kept for the next chunk
    expect(chunker.push([new Float32Array(7)])).toEqual([]);
    expect(chunker.push([new Float32Array(1)]).map((c) => c.index)).toEqual([1]);
    expect(chunker.chunkCount).toBe(2);
    expect(chunker.end()).toEqual([]); // nothing new after chunk 1
  });

  test("end() resets for a new stream, which may have another channel count", () => {
    const chunker = new Chunker({ chunkSamples: 4, overlapRatio: 0.5 });
    expect(chunker.push([ramp(5)]).length).toBe(1);
    expect(chunker.end().map((c) => [c.index, c.startSample])).toEqual([[1, 2]]);
    const next = chunker.push([ramp(4), ramp(4)]);
    expect(next.map((c) => [c.index, c.startSample, c.hasOverlap, c.samples.length])).toEqual([[0, 0, false, 2]]);
  });

  test("a push with another channel count is an OlaError and consumes nothing", () => {
    const chunker = new Chunker({ chunkSamples: 4, overlapRatio: 0.5 });
    chunker.push([ramp(3)]);
    expect(() => chunker.push([ramp(3), ramp(3)])).toThrow(expect.objectContaining({ code: "channel-mismatch" }));
    expect(chunker.bufferedSamples).toBe(3);
    expect(chunker.push([new Float32Array([3])]).map((c) => Array.from(c.samples[0] as Float32Array))).toEqual([
      [0, 1, 2, 3],
    ]);
  });

  test("options must be an object", () => {
    expect(() => new Chunker(undefined as unknown as { chunkSamples: number })).toThrow(TypeError);
  });
});
