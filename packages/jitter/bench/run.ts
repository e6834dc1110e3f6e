/**
 * Push/pop throughput of JitterBuffer against a naive baseline, both measured in this run.
 *
 * Baseline ("naive Map+sort"): frames in a Map keyed by sequence number; every pop copies the
 * keys, sorts them by wrapped distance from the playout point and takes the first one if it is
 * due (else a missing marker). Same prefill, window and late/duplicate rules for the workloads
 * below, no history, slide or resync. Both buffers must produce the same output (checked).
 *
 * Workloads (deterministic PRNG, sequence numbers start at 2^32 - 1000 so they wrap):
 * - in-order: push one frame, pop one frame, depth steady at the prefill (8 frames).
 * - network: 2 % loss, 1 % duplicates, each packet delayed by 0-3 frame periods; per tick the
 *   arrivals are pushed, then one pop.
 *
 * Run: npx tsx bench/run.ts   (ops = pushes + pops; best of 5 timed runs after a warm-up)
 */
import { JitterBuffer, type PopResult, type PushResult } from "../src/index.js";

const CAPACITY = 16;
const PREFILL = 8;
const START = 0xffff_ffff - 999;

class NaiveJitterBuffer<T> {
  readonly #frames = new Map<number, T>();
  #next = 0;
  #highest = 0;
  #started = false;
  #playing = false;

  push(seq: number, frame: T): PushResult {
    if (!this.#started) {
      this.#started = true;
      this.#next = seq;
      this.#highest = seq;
    }
    const d = (seq - this.#next) | 0;
    if (d < 0) return "late";
    if (d >= CAPACITY) return "too-far-ahead";
    if (this.#frames.has(seq)) return "duplicate";
    this.#frames.set(seq, frame);
    if (((seq - this.#highest) | 0) > 0) this.#highest = seq;
    if (!this.#playing && ((this.#highest - this.#next) | 0) + 1 >= PREFILL) this.#playing = true;
    return "accepted";
  }

  pop(): PopResult<T> {
    if (!this.#playing) return { kind: "empty" };
    if (this.#frames.size === 0) {
      this.#playing = false;
      return { kind: "empty" };
    }
    const next = this.#next;
    const keys = [...this.#frames.keys()].sort((a, b) => ((a - next) | 0) - ((b - next) | 0));
    this.#next = (next + 1) >>> 0;
    if (keys[0] === next) {
      const frame = this.#frames.get(next) as T;
      this.#frames.delete(next);
      return { kind: "frame", seq: next, frame };
    }
    return { kind: "missing", seq: next };
  }
}

interface Buffer {
  push(seq: number, frame: Uint8Array): PushResult;
  pop(): PopResult<Uint8Array>;
}

/** Mulberry32: a small seeded PRNG so both buffers see the same network. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** arrivals[tick] = sequence numbers arriving during that tick. */
function networkSchedule(frames: number): number[][] {
  const rand = prng(0x5eed);
  const ticks: number[][] = Array.from({ length: frames + 8 }, () => []);
  for (let i = 0; i < frames; i++) {
    if (rand() < 0.02) continue; // lost
    const copies = rand() < 0.01 ? 2 : 1;
    for (let c = 0; c < copies; c++) (ticks[i + Math.floor(rand() * 4)] as number[]).push((START + i) >>> 0);
  }
  return ticks;
}

const PAYLOAD = new Uint8Array(64);

function runInOrder(buf: Buffer, frames: number): { ops: number; checksum: number } {
  let checksum = 0;
  for (let i = 0; i < PREFILL - 1; i++) buf.push((START + i) >>> 0, PAYLOAD);
  for (let i = PREFILL - 1; i < frames; i++) {
    buf.push((START + i) >>> 0, PAYLOAD);
    const r = buf.pop();
    if (r.kind === "frame") checksum = (checksum + r.seq) >>> 0;
  }
  return { ops: frames + (frames - PREFILL + 1), checksum };
}

function runNetwork(buf: Buffer, ticks: number[][]): { ops: number; checksum: number } {
  let ops = 0;
  let checksum = 0;
  for (const arrivals of ticks) {
    for (const seq of arrivals) buf.push(seq, PAYLOAD);
    const r = buf.pop();
    ops += arrivals.length + 1;
    if (r.kind === "frame") checksum = (checksum + r.seq) >>> 0;
    else if (r.kind === "missing") checksum = (checksum + 7 * r.seq) >>> 0;
  }
  return { ops, checksum };
}

function measure(run: () => { ops: number; checksum: number }): { opsPerSec: number; checksum: number } {
  run(); // warm-up
  let best = 0;
  let checksum = 0;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const r = run();
    const seconds = (performance.now() - t0) / 1000;
    best = Math.max(best, r.ops / seconds);
    checksum = r.checksum;
  }
  return { opsPerSec: best, checksum };
}

function format(opsPerSec: number): string {
  return `${(opsPerSec / 1e6).toFixed(2)} M ops/s`;
}

const FRAMES = 200_000;
const schedule = networkSchedule(FRAMES);
const options = { capacity: CAPACITY, prefillFrames: PREFILL };
const workloads: [name: string, run: (make: () => Buffer) => { opsPerSec: number; checksum: number }][] = [
  ["in-order push+pop", (make) => measure(() => runInOrder(make(), FRAMES))],
  ["network (2% loss, 1% dup, 0-3 frames delay)", (make) => measure(() => runNetwork(make(), schedule))],
];

console.log(`@encstream/jitter bench: ${FRAMES} frames per run, capacity ${CAPACITY}, prefill ${PREFILL}`);
console.log("baseline = naive Map+sort jitter buffer (written in this file)\n");
for (const [name, run] of workloads) {
  const ours = run(() => new JitterBuffer<Uint8Array>(options));
  const naive = run(() => new NaiveJitterBuffer<Uint8Array>());
  if (ours.checksum !== naive.checksum) {
    throw new Error(`${name}: outputs differ (checksum ${ours.checksum} vs ${naive.checksum})`);
  }
  console.log(
    `${name.padEnd(46)} JitterBuffer ${format(ours.opsPerSec).padStart(15)}   ` +
      `naive ${format(naive.opsPerSec).padStart(15)}   ratio ${(ours.opsPerSec / naive.opsPerSec).toFixed(1)}x`,
  );
}
