import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A fresh temporary directory for this test file, removed after its tests. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `encstream-cli-${prefix}-`));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export { seededRandom } from "./support/seeded-random.js";

/** `frames` samples of a sine of `frequencyHz` at `sampleRateHz`, amplitude `amplitude`. */
export function sine(frames: number, frequencyHz: number, sampleRateHz: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz);
  return out;
}

/** Largest absolute difference between two equally long arrays over `[from, to)`. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  let worst = 0;
  for (let i = from; i < to; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/** SNR of `test` against `reference` (equally long), dB: 10·log10(Σ reference² / Σ (reference − test)²). */
export function snrDb(reference: ArrayLike<number>, test: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    const v = reference[i] as number;
    signal += v * v;
    noise += (v - (test[i] as number)) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

/** The arrays joined end to end. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
