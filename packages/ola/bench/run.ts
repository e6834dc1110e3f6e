/**
 * Throughput of OverlapAdd, against two naive joins measured in the same run.
 *
 *   npx tsx bench/run.ts          (or: pnpm bench)
 *
 * Workload: 20 s of 48 kHz stereo noise, cut by splitIntoChunks (not timed), then joined chunk by
 * chunk and flushed. Figures are sample frames per second (one frame = one sample per channel;
 * both channels are processed) and the multiple of real time at 48 kHz stereo; each figure is the
 * median of several rounds after a warm-up, interleaved between the joins. Seconds are this
 * process's CPU seconds (user + system, garbage collector threads included), which other load on
 * a shared machine disturbs far less than wall-clock time; on an idle machine they are close.
 *
 * Baselines (same chunks, same output, checked equal):
 * - concat-per-chunk: streaming like OverlapAdd, but each chunk builds a fresh joined array
 *   (held tail + chunk), recomputes the window weights by division, and slices it into the output
 *   and a new held tail: two extra allocations and copies per chunk and channel.
 * - concat-all: a direct port of the seed's join, which grows the whole output by concatenation
 *   (`out = concat(out[:-n], crossfade, chunk[n:])`) for every chunk: quadratic in stream length.
 */
import { type Chunk, OverlapAdd, splitIntoChunks } from "../src/index.js";
import { makeNoise } from "../test/helpers.js";

const SAMPLE_RATE_HZ = 48_000;
const CHANNELS = 2;
const STREAM_SECONDS = 20;
const ROUNDS = 5;
const MIN_ROUND_MS = 150;

type Join = (chunks: readonly Chunk[], chunkSamples: number, overlapRatio: number) => Float32Array[];

const joinWithOverlapAdd: Join = (chunks, chunkSamples, overlapRatio) => {
  const ola = new OverlapAdd({ channels: CHANNELS, chunkSamples, overlapRatio });
  const pieces: Float32Array[][] = [];
  for (const chunk of chunks) pieces.push(ola.push(chunk.samples, chunk));
  pieces.push(ola.flush());
  return pieces[pieces.length - 1] as Float32Array[]; // keep the work observable, cheaply
};

function overlapOf(chunkSamples: number, overlapRatio: number): number {
  return Math.min(Math.round(chunkSamples * overlapRatio), Math.floor(chunkSamples / 2));
}

const joinConcatPerChunk: Join = (chunks, chunkSamples, overlapRatio) => {
  const n = overlapOf(chunkSamples, overlapRatio);
  let held: Float32Array[] = Array.from({ length: CHANNELS }, () => new Float32Array(0));
  const pieces: Float32Array[][] = [];
  for (const chunk of chunks) {
    const out: Float32Array[] = [];
    const nextHeld: Float32Array[] = [];
    for (let c = 0; c < CHANNELS; c++) {
      const x = chunk.samples[c] as Float32Array;
      const h = held[c] as Float32Array;
      let joined: Float32Array;
      if (chunk.hasOverlap) {
        joined = new Float32Array(x.length);
        joined.set(x);
        const pad = n - h.length;
        for (let i = 0; i < n; i++) {
          const w = (i + 1) / (n + 1);
          joined[i] = (i < pad ? 0 : (h[i - pad] as number)) * (1 - w) + (x[i] as number) * w;
        }
      } else {
        joined = new Float32Array(h.length + x.length);
        joined.set(h);
        joined.set(x, h.length);
      }
      const emit = joined.length - Math.min(n, joined.length);
      out.push(joined.slice(0, emit));
      nextHeld.push(joined.slice(emit));
    }
    pieces.push(out);
    held = nextHeld;
  }
  pieces.push(held);
  return held;
};

const joinConcatAll: Join = (chunks, chunkSamples, overlapRatio) => {
  const n = overlapOf(chunkSamples, overlapRatio);
  let output: Float32Array[] = Array.from({ length: CHANNELS }, () => new Float32Array(0));
  for (const chunk of chunks) {
    output = output.map((y, c) => {
      const x = chunk.samples[c] as Float32Array;
      const overlap = chunk.hasOverlap ? n : 0;
      const grown = new Float32Array(y.length + x.length - overlap);
      grown.set(y);
      const start = y.length - overlap;
      for (let i = 0; i < overlap; i++) {
        const w = (i + 1) / (n + 1);
        grown[start + i] = (y[start + i] as number) * (1 - w) + (x[i] as number) * w;
      }
      grown.set(x.subarray(overlap), y.length);
      return grown;
    });
  }
  return output;
};

/** Full output of a join (for the equality check), using OverlapAdd's streaming outputs. */
function collect(chunks: readonly Chunk[], chunkSamples: number, overlapRatio: number): Float32Array[] {
  const ola = new OverlapAdd({ channels: CHANNELS, chunkSamples, overlapRatio });
  const pieces = chunks.map((chunk) => ola.push(chunk.samples, chunk));
  pieces.push(ola.flush());
  return Array.from({ length: CHANNELS }, (_, c) => {
    const total = pieces.reduce((sum, piece) => sum + (piece[c] as Float32Array).length, 0);
    const channel = new Float32Array(total);
    let offset = 0;
    for (const piece of pieces) {
      channel.set(piece[c] as Float32Array, offset);
      offset += (piece[c] as Float32Array).length;
    }
    return channel;
  });
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((channel, c) => {
    const other = b[c] as Float32Array;
    if (other.length !== channel.length) worst = Number.POSITIVE_INFINITY;
    else for (let i = 0; i < channel.length; i++) worst = Math.max(worst, Math.abs((channel[i] as number) - (other[i] as number)));
  });
  return worst;
}

/** This process's CPU time (user + system, all threads) in milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Sample frames per CPU second of one round: repeat the join for at least MIN_ROUND_MS of CPU. */
function timeRound(join: Join, chunks: readonly Chunk[], chunkSamples: number, overlapRatio: number, frames: number): number {
  let runs = 0;
  const start = cpuMs();
  let elapsed = 0;
  do {
    join(chunks, chunkSamples, overlapRatio);
    runs++;
    elapsed = cpuMs() - start;
  } while (elapsed < MIN_ROUND_MS);
  return (runs * frames) / (elapsed / 1000);
}

/**
 * Median rate of each join over ROUNDS rounds after a warm-up round. Rounds of the joins are
 * interleaved, so load from other processes on the machine affects them alike.
 */
function measure(joins: readonly Join[], chunks: readonly Chunk[], chunkSamples: number, overlapRatio: number, frames: number): number[] {
  const rates = joins.map(() => [] as number[]);
  for (let round = -1; round < ROUNDS; round++) {
    joins.forEach((join, j) => {
      const rate = timeRound(join, chunks, chunkSamples, overlapRatio, frames);
      if (round >= 0) (rates[j] as number[]).push(rate);
    });
  }
  return rates.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)] as number);
}

const cases = [
  { label: "1 s chunks, 1 % overlap (48 kHz codec default)", chunkSeconds: 1, overlapRatio: 0.01, quadratic: true },
  { label: "100 ms chunks, 10 % overlap", chunkSeconds: 0.1, overlapRatio: 0.1, quadratic: true },
  // concat-all would take seconds per run here (2,000 copies of the growing output): left out.
  { label: "20 ms chunks, 50 % overlap", chunkSeconds: 0.02, overlapRatio: 0.5, quadratic: false },
];

const frames = STREAM_SECONDS * SAMPLE_RATE_HZ;
const input = makeNoise(CHANNELS, frames, 1);
const format = (rate: number) => `${(rate / 1e6).toFixed(1).padStart(8)} M frames/s ${(rate / SAMPLE_RATE_HZ).toFixed(0).padStart(7)}× real time`;

console.log(`OverlapAdd throughput: ${STREAM_SECONDS} s of ${SAMPLE_RATE_HZ / 1000} kHz stereo per run, median of ${ROUNDS} rounds, per CPU second`);
console.log(`node ${process.version}\n`);
for (const { label, chunkSeconds, overlapRatio, quadratic } of cases) {
  const chunkSamples = Math.round(chunkSeconds * SAMPLE_RATE_HZ);
  const chunks = splitIntoChunks(input, { chunkSamples, overlapRatio });
  const reference = collect(chunks, chunkSamples, overlapRatio);
  const check = Math.max(
    maxDifference(reference, input),
    quadratic ? maxDifference(reference, joinConcatAll(chunks, chunkSamples, overlapRatio)) : 0,
  );
  if (!(check <= 1e-6)) throw new Error(`${label}: outputs differ by ${check}`);
  const joins = quadratic
    ? [joinWithOverlapAdd, joinConcatPerChunk, joinConcatAll]
    : [joinWithOverlapAdd, joinConcatPerChunk];
  const [ola, perChunk, all] = measure(joins, chunks, chunkSamples, overlapRatio, frames) as [number, number, number?];
  console.log(`${label} (${chunks.length} chunks)`);
  console.log(`  OverlapAdd        ${format(ola)}`);
  console.log(`  concat-per-chunk  ${format(perChunk)}   OverlapAdd is ${(ola / perChunk).toFixed(2)}× this`);
  if (all !== undefined) console.log(`  concat-all (seed) ${format(all)}   OverlapAdd is ${(ola / all).toFixed(2)}× this`);
  console.log("");
}
