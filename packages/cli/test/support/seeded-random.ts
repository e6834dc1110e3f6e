/**
 * A seeded pseudo-random generator (mulberry32) returning numbers in [0, 1): the same sequence for
 * the same seed on every run, so a test's or benchmark's losses and signals are reproducible.
 * No test-framework import here, so benchmarks share it.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
