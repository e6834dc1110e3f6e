import { CodecError } from "../../errors.js";
import { AC_EXHAUSTED, AC_NO_SYMBOL, type ArithmeticDecoder, type ArithmeticEncoder } from "../arithmetic-coder.js";
import { LM_MAX_FRAMES } from "../constants.js";
import { buildQuantizedCdf as buildCdf } from "../quantized-cdf.js";
import type { StreamingLm } from "../streaming-lm.js";
import { MATVEC_MAX_BATCH } from "./simd-matvec.js";

const buildQuantizedCdf = buildCdf;
/** Frames the encoder runs the LM over at once (at most MATVEC_MAX_BATCH). */
const PUSH_BLOCK_FRAMES = MATVEC_MAX_BATCH;

/**
 * Check `codes` as a codebook-major `[numCodebooks, numFrames]` matrix of codes in [0, cardinality).
 * @returns numFrames
 */
export function checkCodeMatrix(codes: ArrayLike<number>, numCodebooks: number, cardinality: number, name = "codes"): number {
  if (!Number.isInteger(numCodebooks) || numCodebooks < 1) throw new RangeError(`numCodebooks must be a positive integer, got ${numCodebooks}`);
  if (codes.length % numCodebooks !== 0) {
    throw new RangeError(`${name} must hold numCodebooks (${numCodebooks}) x numFrames values, got ${codes.length}`);
  }
  const numFrames = codes.length / numCodebooks;
  if (numFrames > LM_MAX_FRAMES) throw new RangeError(`${name} must hold at most ${LM_MAX_FRAMES} frames, got ${numFrames}`);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= cardinality) throw new RangeError(`${name}[${i}] must be an integer in [0, ${cardinality}), got ${c}`);
  }
  return numFrames;
}

/**
 * Run the LM over frames `[from, to)` of `codes` (codebook-major `[K, numFrames]`: `codes[k * numFrames + t]`), pushing each code
 * with its quantized CDF. `lm` continues from its current state; `previous` holds the codes of
 * the frame before `from` (or is null at the start of a segment) and is updated to frame `to - 1`.
 */
export function pushFrames(
  lm: StreamingLm,
  encoder: ArithmeticEncoder,
  codes: ArrayLike<number>,
  numFrames: number,
  from: number,
  to: number,
  previous: Int32Array | null,
  cdf: Uint32Array,
): Int32Array | null {
  const K = lm.numCodebooks;
  const card = lm.cardinality;
  // Every frame's input is known: run the LM over blocks of frames (same bits as frame by frame).
  const inputs: (Int32Array | null)[] = [];
  let prev = previous;
  for (let t0 = from; t0 < to; t0 += PUSH_BLOCK_FRAMES) {
    const n = Math.min(PUSH_BLOCK_FRAMES, to - t0);
    inputs.length = n;
    for (let i = 0; i < n; i++) {
      inputs[i] = prev;
      const cur = new Int32Array(K);
      for (let k = 0; k < K; k++) cur[k] = codes[k * numFrames + t0 + i]!;
      prev = cur;
    }
    const probs = lm.stepMany(inputs);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) {
        buildQuantizedCdf(probs, (i * K + k) * card, card, cdf);
        encoder.push(codes[k * numFrames + t0 + i]!, cdf);
      }
    }
  }
  if (previous !== null && prev !== null && prev !== previous) {
    previous.set(prev);
    return previous;
  }
  return prev;
}

/**
 * Decode frames `[from, to)` into `out` (codebook-major `[K, numFrames]`: `codes[k * numFrames + t]`), mirroring {@link pushFrames}.
 * @throws CodecError `truncated` when the bits run out, `lm-desync` when they match no symbol
 */
export function pullFrames(
  lm: StreamingLm,
  decoder: ArithmeticDecoder,
  out: Uint16Array,
  numFrames: number,
  from: number,
  to: number,
  previous: Int32Array | null,
  cdf: Uint32Array,
  source: string,
): Int32Array | null {
  const K = lm.numCodebooks;
  const card = lm.cardinality;
  let prev = previous;
  for (let t = from; t < to; t++) {
    const probs = lm.step(prev);
    const cur = prev ?? new Int32Array(K);
    for (let k = 0; k < K; k++) {
      buildQuantizedCdf(probs, k * card, card, cdf);
      const s = decoder.pull(cdf, card);
      if (s === AC_EXHAUSTED) {
        throw new CodecError("truncated", `${source}: the coded data ended at frame ${t}, codebook ${k} of ${numFrames} frames (truncated data, or a different language model)`);
      }
      if (s === AC_NO_SYMBOL) {
        throw new CodecError("lm-desync", `${source}: the coded bits match no code at frame ${t}, codebook ${k}: corrupt data, or probabilities that differ from the encoder's`);
      }
      out[k * numFrames + t] = s;
      cur[k] = s;
    }
    prev = cur;
  }
  return prev;
}

