/** Test helpers shared by the package's tests and benchmark (not part of the package). */

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Planar noise in [-1, 1): `channels` arrays of `length` samples, reproducible from `seed`. */
export function makeNoise(channels: number, length: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  return Array.from({ length: channels }, () => {
    const channel = new Float32Array(length);
    for (let i = 0; i < length; i++) channel[i] = random() * 2 - 1;
    return channel;
  });
}

/** Appends planar pieces channel by channel into one planar signal. */
export function concatPlanar(pieces: readonly Float32Array[][], channels: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const total = pieces.reduce((sum, piece) => sum + (piece[c] as Float32Array).length, 0);
    const channel = new Float32Array(total);
    let offset = 0;
    for (const piece of pieces) {
      const part = piece[c] as Float32Array;
      channel.set(part, offset);
      offset += part.length;
    }
    out.push(channel);
  }
  return out;
}

/**
 * Throws unless `actual` and `expected` have the same length and every sample differs by at most
 * `tolerance` (0: bit-for-bit equal values). A plain loop: `expect().toEqual` is slow on audio.
 */
export function assertSamplesClose(
  actual: Float32Array,
  expected: ArrayLike<number>,
  tolerance = 0,
  label = "samples",
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs((actual[i] as number) - (expected[i] as number));
    if (!(error <= tolerance)) {
      throw new Error(`${label}[${i}] = ${actual[i]}, expected ${expected[i]} (tolerance ${tolerance})`);
    }
  }
}
