import { describe, expect, test } from "vitest";
import { MAX_GAP_SAMPLES } from "./constants.js";
import { isOlaError } from "./errors.js";
import { OverlapAdd } from "./overlap-add.js";

const mono = (...values: number[]) => [Float32Array.from(values)];
const values = (audio: Float32Array[]) => audio.map((channel) => Array.from(channel));

function expectClose(actual: Float32Array[], expected: number[][]): void {
  expect(actual.map((channel) => channel.length)).toEqual(expected.map((channel) => channel.length));
  actual.forEach((channel, c) =>
    channel.forEach((value, i) => expect(value).toBeCloseTo((expected[c] as number[])[i] as number, 6)),
  );
}

describe("OverlapAdd.push", () => {
  // chunkSamples 6 at 50 %: overlap 3, fadeIn = [1/4, 2/4, 3/4], fadeOut = [3/4, 2/4, 1/4].
  const options = { channels: 1, chunkSamples: 6, overlapRatio: 0.5 };

  test("crossfades the overlap with triangular windows and holds the last overlap back", () => {
    const ola = new OverlapAdd(options);
    expect(ola.overlapSamples).toBe(3);
    expect(ola.hopSamples).toBe(3);
    expect(values(ola.push(mono(1, 1, 1, 1, 1, 1), { hasOverlap: false }))).toEqual([[1, 1, 1]]);
    expect(ola.heldSamples).toBe(3);
    // Held ones fade out while the zeros of the new chunk fade in: 1·3/4 + 0·1/4, …
    expect(values(ola.push(mono(0, 0, 0, 5, 6, 7), { hasOverlap: true }))).toEqual([[0.75, 0.5, 0.25]]);
    expect(values(ola.flush())).toEqual([[5, 6, 7]]);
    expect(ola.heldSamples).toBe(0);
  });

  test("a chunk shorter than two overlaps keeps part of its crossfade held", () => {
    const ola = new OverlapAdd(options);
    ola.push(mono(2, 2, 2, 2, 2, 2), { hasOverlap: false });
    // joined: [2·3/4 + 4·1/4, 2·2/4 + 4·2/4, 2·1/4 + 4·3/4, 9] = [2.5, 3, 3.5, 9]; the last 3 are held
    expect(values(ola.push(mono(4, 4, 4, 9), { hasOverlap: true }))).toEqual([[2.5]]);
    expect(values(ola.flush())).toEqual([[3, 3.5, 9]]);
  });

  test("a first chunk with overlap fades in from silence and keeps all its samples", () => {
    const ola = new OverlapAdd(options);
    expect(values(ola.push(mono(4, 4, 4, 4, 4), { hasOverlap: true }))).toEqual([[1, 2]]);
    expect(values(ola.flush())).toEqual([[3, 4, 4]]);
  });

  test("a chunk without overlap after others is appended after the held samples", () => {
    const ola = new OverlapAdd(options);
    ola.push(mono(1, 2, 3, 4, 5, 6), { hasOverlap: false });
    expect(values(ola.push(mono(7, 8), { hasOverlap: false }))).toEqual([[4, 5]]);
    expect(values(ola.flush())).toEqual([[6, 7, 8]]);
  });

  test("flush ends the stream: the next chunk with overlap fades in again", () => {
    const ola = new OverlapAdd(options);
    ola.push(mono(8, 8, 8, 8, 8, 8), { hasOverlap: false });
    ola.flush();
    expect(values(ola.push(mono(4, 4, 4, 4, 4, 4), { hasOverlap: true }))).toEqual([[1, 2, 3]]);
  });

  test("stereo channels are crossfaded independently", () => {
    const ola = new OverlapAdd({ ...options, channels: 2 });
    ola.push([Float32Array.of(1, 1, 1, 1, 1, 1), Float32Array.of(0, 0, 0, 0, 0, 0)], { hasOverlap: false });
    const out = ola.push([new Float32Array(6), new Float32Array(6).fill(1)], { hasOverlap: true });
    expect(values(out)).toEqual([
      [0.75, 0.5, 0.25],
      [0.25, 0.5, 0.75],
    ]);
  });

  test("outputs are fresh arrays and inputs are not kept", () => {
    const ola = new OverlapAdd(options);
    const input = mono(1, 2, 3, 4, 5, 6);
    const first = ola.push(input, { hasOverlap: false });
    (input[0] as Float32Array).fill(0);
    (first[0] as Float32Array).fill(0);
    expect(values(ola.flush())).toEqual([[4, 5, 6]]);
  });

  test("with an overlap of 0 samples chunks are concatenated", () => {
    const ola = new OverlapAdd({ channels: 1, chunkSamples: 10, overlapRatio: 0.01 });
    expect(ola.overlapSamples).toBe(0);
    expect(values(ola.push(mono(1, 2), { hasOverlap: false }))).toEqual([[1, 2]]);
    expect(values(ola.push(mono(3), { hasOverlap: true }))).toEqual([[3]]);
    expect(values(ola.flush())).toEqual([[]]);
  });

  test("a chunk with overlap shorter than the overlap is an OlaError and changes nothing", () => {
    const ola = new OverlapAdd(options);
    ola.push(mono(1, 2, 3, 4, 5, 6), { hasOverlap: false });
    let thrown: unknown;
    try {
      ola.push(mono(9, 9), { hasOverlap: true });
    } catch (error) {
      thrown = error;
    }
    expect(isOlaError(thrown) && thrown.code).toBe("chunk-too-short");
    expect(ola.heldSamples).toBe(3);
    expect(values(ola.flush())).toEqual([[4, 5, 6]]);
  });

  test.each([
    { samples: [new Float32Array(6), new Float32Array(6)], code: "channel-mismatch" },
    { samples: [] as Float32Array[], error: TypeError },
    { samples: [new Int16Array(6)] as unknown as Float32Array[], error: TypeError },
  ])("bad chunk %# is rejected", ({ samples, code, error }) => {
    const ola = new OverlapAdd(options);
    if (code) expect(() => ola.push(samples, { hasOverlap: false })).toThrow(expect.objectContaining({ code }));
    else expect(() => ola.push(samples, { hasOverlap: false })).toThrow(error);
  });

  test("info.hasOverlap must be a boolean", () => {
    const ola = new OverlapAdd(options);
    expect(() => ola.push(mono(1), {} as { hasOverlap: boolean })).toThrow(TypeError);
  });

  test.each([
    [{ channels: 0, chunkSamples: 10 }, /^channels must be/],
    [{ channels: 33, chunkSamples: 10 }, /^channels must be/],
    [{ channels: 1, chunkSamples: 1 }, /^chunkSamples must be/],
    [{ channels: 1, chunkSamples: 10, overlapRatio: 0.7 }, /^overlapRatio must be in \[0\.01, 0\.5\], got 0\.7$/],
  ])("options %o are a RangeError naming the parameter", (bad, message) => {
    expect(() => new OverlapAdd(bad)).toThrow(RangeError);
    expect(() => new OverlapAdd(bad)).toThrow(message);
  });
});

describe("OverlapAdd.pushMissing", () => {
  // chunkSamples 10 at 20 %: overlap 2 (fadeIn = [1/3, 2/3]), hop 8.
  const options = { channels: 1, chunkSamples: 10, overlapRatio: 0.2 };
  const ones = (n: number) => [new Float32Array(n).fill(1)];

  test("a lost middle chunk: fade-out over its overlap, zeros, next chunk fades in; length stays exact", () => {
    const ola = new OverlapAdd(options);
    const out = [
      ola.push(ones(10), { hasOverlap: false }), // chunk 0: [0, 10)
      ola.pushMissing(), // chunk 1: [8, 18), lost
      ola.push(ones(10), { hasOverlap: true }), // chunk 2: [16, 26)
      ola.flush(),
    ];
    expectClose(out[0] as Float32Array[], [[1, 1, 1, 1, 1, 1, 1, 1]]);
    // The lost chunk returns its hop (8 samples): the held ones faded out, then exact zeros.
    expectClose(out[1] as Float32Array[], [[2 / 3, 1 / 3, 0, 0, 0, 0, 0, 0]]);
    expect(Array.from((out[1] as Float32Array[])[0] as Float32Array).slice(2)).toEqual([0, 0, 0, 0, 0, 0]);
    // The next chunk fades in from silence over its overlap.
    expectClose(out[2] as Float32Array[], [[1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1]]);
    expectClose(out[3] as Float32Array[], [[1, 1]]);
    expect(out.reduce((sum, part) => sum + (part[0] as Float32Array).length, 0)).toBe(26);
  });

  test("several lost chunks at once give hop × count samples", () => {
    const ola = new OverlapAdd(options);
    ola.push(ones(10), { hasOverlap: false });
    const [gap] = ola.pushMissing({ chunks: 3 });
    expect(gap?.length).toBe(24);
    expect(Array.from(gap as Float32Array).slice(2).every((v) => v === 0)).toBe(true);
  });

  test("a lost first chunk counts its full length (a first chunk has no overlap)", () => {
    const ola = new OverlapAdd(options);
    const [gap] = ola.pushMissing({ chunks: 1 });
    expect(Array.from(gap as Float32Array)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ola.heldSamples).toBe(2);
    expectClose(ola.push(ones(10), { hasOverlap: true }), [[1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1]]);
  });

  test("{ samples } grows the output by exactly that many samples", () => {
    const ola = new OverlapAdd(options);
    ola.push(ones(10), { hasOverlap: false });
    const [gap] = ola.pushMissing({ samples: 5 });
    expectClose([gap as Float32Array], [[2 / 3, 1 / 3, 0, 0, 0]]);
    expect(values(ola.flush())).toEqual([[0, 0]]);
  });

  test.each([
    { chunks: 0 },
    { chunks: 1.5 },
    { samples: -1 },
    { samples: MAX_GAP_SAMPLES + 1 },
    { chunks: 3_000_000 },
    {},
    null,
  ])("gap %o is a RangeError naming gap and changes nothing", (gap) => {
    const ola = new OverlapAdd(options);
    ola.push(ones(10), { hasOverlap: false });
    expect(() => ola.pushMissing(gap as { chunks: number })).toThrow(RangeError);
    expect(() => ola.pushMissing(gap as { chunks: number })).toThrow(/^gap/);
    expect(ola.heldSamples).toBe(2);
    expect(values(ola.flush())).toEqual([[1, 1]]);
  });
});
