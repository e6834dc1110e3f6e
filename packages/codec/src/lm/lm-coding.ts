import { CodecError } from "../errors.js";
import { ArithmeticDecoder, ArithmeticEncoder } from "./arithmetic-coder.js";
import { BitReader, BitWriter } from "./bit-io.js";
import { LM_MAX_FRAMES } from "./constants.js";
import { checkCodeMatrix, pullFrames, pushFrames } from "./internal/code-frames.js";
import type { LmWeights } from "./lm-weights.js";
import { StreamingLm } from "./streaming-lm.js";

export { LM_MAX_FRAMES } from "./constants.js";

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
