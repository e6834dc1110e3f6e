/**
 * Seeded properties of chunking and joining together: what a sender's `Chunker` cuts and a
 * receiver's `OverlapAdd` joins comes back with the input's exact length and samples, and lost
 * chunks are replaced by the documented fade-out, silence and fade-in.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { assertSamplesClose, concatPlanar, makeNoise } from "../test/helpers.js";
import { type Chunk, splitIntoChunks } from "./chunker.js";
import { OverlapAdd } from "./overlap-add.js";
import { computeOverlapSamples, percentToOverlapRatio } from "./overlap-ratio.js";

const TOLERANCE = 1e-6;

/** Random stream shapes: 1–2 channels, 0–4000 samples, chunks of 2–500, 1–50 % overlap. */
const streamShape = fc.record({
  channels: fc.integer({ min: 1, max: 2 }),
  length: fc.integer({ min: 0, max: 4000 }),
  chunkSamples: fc.integer({ min: 2, max: 500 }),
  overlapRatio: fc.oneof(
    fc.integer({ min: 1, max: 50 }).map(percentToOverlapRatio),
    fc.double({ min: 0.01, max: 0.5, noNaN: true }),
  ),
  seed: fc.integer(),
});

interface Joined {
  output: Float32Array[];
  /** Samples returned after each call, cumulated. */
  emittedAfter: number[];
}

/** Joins the chunks through an OverlapAdd; `lost` chunk indices are reported with pushMissing. */
function join(
  chunks: readonly Chunk[],
  shape: { channels: number; chunkSamples: number; overlapRatio: number },
  lost: ReadonlySet<number> = new Set(),
  useChunkCount = true,
): Joined {
  const ola = new OverlapAdd(shape);
  const pieces: Float32Array[][] = [];
  const emittedAfter: number[] = [];
  let emitted = 0;
  const record = (piece: Float32Array[]) => {
    pieces.push(piece);
    emitted += (piece[0] as Float32Array).length;
    emittedAfter.push(emitted);
  };
  for (let k = 0; k < chunks.length; k++) {
    const chunk = chunks[k] as Chunk;
    if (!lost.has(k)) {
      record(ola.push(chunk.samples, chunk));
      continue;
    }
    // A run of lost chunks k..last, reported in one call.
    let last = k;
    while (lost.has(last + 1) && last + 1 < chunks.length) last++;
    const full = (chunks[last] as Chunk).samples[0]?.length === shape.chunkSamples;
    if (useChunkCount && full) {
      record(ola.pushMissing({ chunks: last - k + 1 }));
    } else {
      // New audio the lost chunks carried: their lengths less the overlaps they begin with.
      let samples = 0;
      for (let j = k; j <= last; j++) {
        const lostChunk = chunks[j] as Chunk;
        samples += (lostChunk.samples[0] as Float32Array).length - (lostChunk.hasOverlap ? ola.overlapSamples : 0);
      }
      record(ola.pushMissing({ samples }));
    }
    for (let j = k; j < last; j++) emittedAfter.push(emitted);
    k = last;
  }
  record(ola.flush());
  return { output: concatPlanar(pieces, shape.channels), emittedAfter };
}

/** Positions that lie in two chunks (the overlaps), as a per-sample flag. */
function overlapMask(chunks: readonly Chunk[], length: number, overlap: number): Uint8Array {
  const mask = new Uint8Array(length);
  for (const chunk of chunks) {
    if (chunk.hasOverlap) mask.fill(1, chunk.startSample, chunk.startSample + overlap);
  }
  return mask;
}

describe("chunk then overlap-add", () => {
  test("lossless chunks come back with the exact length, the exact samples outside overlaps, and within 1e-6 inside", () => {
    fc.assert(
      fc.property(streamShape, (shape) => {
        const input = makeNoise(shape.channels, shape.length, shape.seed);
        const chunks = splitIntoChunks(input, shape);
        const overlap = computeOverlapSamples(shape.chunkSamples, shape.overlapRatio);
        const { output, emittedAfter } = join(chunks, shape);
        const mask = overlapMask(chunks, shape.length, overlap);
        for (let c = 0; c < shape.channels; c++) {
          const x = input[c] as Float32Array;
          const y = output[c] as Float32Array;
          if (y.length !== shape.length) throw new Error(`length ${y.length}, expected ${shape.length}`);
          for (let i = 0; i < x.length; i++) {
            const error = Math.abs((y[i] as number) - (x[i] as number));
            if (mask[i] === 0 ? error !== 0 : !(error <= TOLERANCE)) {
              throw new Error(`channel ${c} sample ${i}: ${y[i]} vs ${x[i]} (in overlap: ${mask[i]})`);
            }
          }
        }
        // Each push returns exactly what no later chunk touches: all but the last overlap so far.
        chunks.forEach((chunk, k) => {
          const end = chunk.startSample + (chunk.samples[0] as Float32Array).length;
          expect(emittedAfter[k]).toBe(end - Math.min(overlap, end));
        });
      }),
      { seed: 0x01a, numRuns: 200 },
    );
  });

  test("a constant signal stays that constant", () => {
    fc.assert(
      fc.property(streamShape, fc.float({ min: -1, max: 1, noNaN: true }), (shape, value) => {
        const input = Array.from({ length: shape.channels }, () => new Float32Array(shape.length).fill(value));
        const { output } = join(splitIntoChunks(input, shape), shape);
        output.forEach((channel, c) =>
          assertSamplesClose(channel, input[c] as Float32Array, TOLERANCE, `constant ${value}`),
        );
      }),
      { seed: 0xc0, numRuns: 200 },
    );
  });

  test("lost chunks: exact length; fade-out, exact silence and fade-in where documented", () => {
    fc.assert(
      fc.property(
        streamShape,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (shape, lostPicks, useChunkCount) => {
          const input = makeNoise(shape.channels, shape.length, shape.seed);
          const chunks = splitIntoChunks(input, shape);
          fc.pre(chunks.length > 0);
          const lost = new Set(lostPicks.map((pick) => pick % chunks.length));
          const n = computeOverlapSamples(shape.chunkSamples, shape.overlapRatio);
          const { output } = join(chunks, shape, lost, useChunkCount);
          const fadeIn = (i: number) => (i + 1) / (n + 1);
          // Reference, written position by position: a lost chunk counts as zeros; where two
          // chunks overlap, y = earlier × (1 - fadeIn) + later × fadeIn.
          const data = (k: number, c: number, p: number): number => {
            const chunk = chunks[k] as Chunk;
            return lost.has(k) ? 0 : ((chunk.samples[c] as Float32Array)[p - chunk.startSample] as number);
          };
          for (let c = 0; c < shape.channels; c++) {
            const y = output[c] as Float32Array;
            if (y.length !== shape.length) throw new Error(`length ${y.length}, expected ${shape.length}`);
            const expected = new Float64Array(shape.length);
            chunks.forEach((chunk, k) => {
              const start = chunk.startSample;
              const end = start + (chunk.samples[0] as Float32Array).length;
              const ownFrom = chunk.hasOverlap ? start + n : start;
              for (let p = ownFrom; p < end; p++) expected[p] = data(k, c, p);
              if (chunk.hasOverlap) {
                for (let p = start; p < ownFrom; p++) {
                  const i = p - start;
                  expected[p] = data(k - 1, c, p) * (1 - fadeIn(i)) + data(k, c, p) * fadeIn(i);
                }
              }
            });
            assertSamplesClose(y, expected, TOLERANCE, `channel ${c}`);
            // The part of a lost chunk that no neighbour overlaps is exact silence.
            for (const k of lost) {
              const chunk = chunks[k] as Chunk;
              const from = chunk.startSample + (chunk.hasOverlap ? n : 0);
              const to = chunk.startSample + (chunk.samples[0] as Float32Array).length - (k + 1 < chunks.length ? n : 0);
              for (let p = from; p < to; p++) {
                if (y[p] !== 0) throw new Error(`lost chunk ${k}: sample ${p} is ${y[p]}, not silence`);
              }
            }
          }
        },
      ),
      { seed: 0x1055, numRuns: 200 },
    );
  });

  test("one lost chunk between two received ones: its span is fade-out, chunkSamples − 2 × overlap zeros, fade-in", () => {
    fc.assert(
      fc.property(streamShape, fc.nat(), (shape, pick) => {
        const input = makeNoise(shape.channels, shape.length, shape.seed);
        const chunks = splitIntoChunks(input, shape);
        fc.pre(chunks.length >= 3);
        const k = 1 + (pick % (chunks.length - 2)); // has a neighbour on each side; full length
        const n = computeOverlapSamples(shape.chunkSamples, shape.overlapRatio);
        const { output } = join(chunks, shape, new Set([k]));
        const start = (chunks[k] as Chunk).startSample;
        for (let c = 0; c < shape.channels; c++) {
          const x = input[c] as Float32Array;
          const y = output[c] as Float32Array;
          expect(y.length).toBe(shape.length);
          const span = Array.from(y.subarray(start, start + shape.chunkSamples));
          const fadeOut = Array.from({ length: n }, (_, i) => (x[start + i] as number) * (1 - (i + 1) / (n + 1)));
          const zeros = new Array<number>(shape.chunkSamples - 2 * n).fill(0);
          const tail = start + shape.chunkSamples - n;
          const fadeIn = Array.from({ length: n }, (_, i) => (x[tail + i] as number) * ((i + 1) / (n + 1)));
          assertSamplesClose(Float32Array.from(span), [...fadeOut, ...zeros, ...fadeIn], TOLERANCE, "lost span");
          expect(span.slice(n, shape.chunkSamples - n).every((v) => v === 0)).toBe(true);
          // Outside the lost span the audio is untouched.
          assertSamplesClose(y.subarray(0, start), x.subarray(0, start), TOLERANCE, "before");
          assertSamplesClose(y.subarray(start + shape.chunkSamples), x.subarray(start + shape.chunkSamples), TOLERANCE, "after");
        }
      }),
      { seed: 0x9a9, numRuns: 150 },
    );
  });
});
