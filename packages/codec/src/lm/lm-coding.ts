import { CodecError } from "../errors.js";
import { AC_EXHAUSTED, AC_NO_SYMBOL, ArithmeticDecoder, ArithmeticEncoder } from "./arithmetic-coder.js";
import { BitReader, BitWriter } from "./bit-io.js";
import type { LmWeights } from "./lm-weights.js";
import { buildQuantizedCdf as buildCdf } from "./quantized-cdf.js";
import { StreamingLm } from "./streaming-lm.js";

const buildQuantizedCdf = buildCdf;

/** Most frames one call codes; bounds the allocation made from a caller's or a file's count. */
export const LM_MAX_FRAMES = 1 << 22;

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
  let prev = previous;
  for (let t = from; t < to; t++) {
    const probs = lm.step(prev);
    const cur = prev ?? new Int32Array(K);
    for (let k = 0; k < K; k++) {
      const code = codes[k * numFrames + t]!;
      buildQuantizedCdf(probs, k * card, card, cdf);
      encoder.push(code, cdf);
      cur[k] = code;
    }
    prev = cur;
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

/**
 * Entropy-code a segment of codes with the language model, as the reference `compress` does for
 * one segment: the LM starts from its initial state (zero input first, then 1 + previous codes),
 * one quantized CDF per codebook per frame, the arithmetic coder flushed at the end.
 *
 * @param codes codebook-major `[numCodebooks, numFrames]` codes in [0, 1024) (not retained)
 * @param lm the language model (`loadLmWeights`)
 * @param numCodebooks K, at most `lm.hyper.numCodebooks`
 * @returns a new buffer; the reference's `ArithmeticDecoder` (given equal probabilities) and
 *   {@link decodeCodesWithLm} read it back
 * @throws RangeError for a malformed code matrix
 */
export function encodeCodesWithLm(codes: ArrayLike<number>, lm: LmWeights, numCodebooks: number): Uint8Array {
  const model = new StreamingLm(lm, numCodebooks);
  const numFrames = checkCodeMatrix(codes, numCodebooks, model.cardinality);
  const writer = new BitWriter(Math.ceil((codes.length * 10) / 8) + 16);
  const encoder = new ArithmeticEncoder(writer);
  pushFrames(model, encoder, codes, numFrames, 0, numFrames, null, new Uint32Array(model.cardinality));
  encoder.finish();
  return writer.toBytes();
}

/** Result of {@link decodeCodesWithLmAt}. */
export interface LmDecodeResult {
  /** Codebook-major `[numCodebooks, numFrames]` codes (a new buffer the caller owns). */
  readonly codes: Uint16Array;
  /** Bytes the segment occupied from `offset` (the next segment starts at `offset + bytesRead`). */
  readonly bytesRead: number;
}

function checkFrames(numCodebooks: number, numFrames: number, lm: LmWeights): void {
  if (!Number.isInteger(numCodebooks) || numCodebooks < 1 || numCodebooks > lm.hyper.numCodebooks) {
    throw new RangeError(`numCodebooks must be an integer in [1, ${lm.hyper.numCodebooks}], got ${numCodebooks}`);
  }
  if (!Number.isInteger(numFrames) || numFrames < 0 || numFrames > LM_MAX_FRAMES) {
    throw new RangeError(`numFrames must be an integer in [0, ${LM_MAX_FRAMES}], got ${numFrames}`);
  }
}

/**
 * Decode one LM-coded segment that starts at `bytes[offset]` and may be followed by more data
 * (segments of an `.ecdc` file lie back to back). Reads only inside `bytes`.
 *
 * @throws CodecError `truncated` (data ends too soon) / `lm-desync` (bits match no code)
 * @throws RangeError when `offset`, `numCodebooks` or `numFrames` is out of range
 */
export function decodeCodesWithLmAt(bytes: Uint8Array, offset: number, lm: LmWeights, numCodebooks: number, numFrames: number, source = "LM-coded data"): LmDecodeResult {
  checkFrames(numCodebooks, numFrames, lm);
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.byteLength) {
    throw new RangeError(`offset must be an integer in [0, ${bytes.byteLength}], got ${offset}`);
  }
  const model = new StreamingLm(lm, numCodebooks);
  const reader = new BitReader(bytes, offset, bytes.byteLength);
  const decoder = new ArithmeticDecoder(reader);
  const out = new Uint16Array(numCodebooks * numFrames);
  pullFrames(model, decoder, out, numFrames, 0, numFrames, null, new Uint32Array(model.cardinality), source);
  return { codes: out, bytesRead: reader.position - offset };
}

/**
 * Decode the output of {@link encodeCodesWithLm}: exactly `bytes`, no more, no less.
 *
 * @returns codebook-major `[numCodebooks, numFrames]` codes (a new buffer)
 * @throws CodecError `truncated` / `lm-desync` (including bytes left over after the last code,
 *   which a matching encoder never produces)
 * @throws RangeError when `numCodebooks` or `numFrames` is out of range
 */
export function decodeCodesWithLm(bytes: Uint8Array, lm: LmWeights, numCodebooks: number, numFrames: number): Uint16Array {
  const { codes, bytesRead } = decodeCodesWithLmAt(bytes, 0, lm, numCodebooks, numFrames);
  if (bytesRead !== bytes.byteLength) {
    throw new CodecError("lm-desync", `LM-coded data: ${bytes.byteLength - bytesRead} of ${bytes.byteLength} bytes left after ${numFrames} frames: corrupt data, or probabilities that differ from the encoder's`);
  }
  return codes;
}
