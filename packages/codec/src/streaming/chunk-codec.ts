import { CodecError } from "../errors.js";
import type { EncodecModel, EncodedFrame, EncodeOptions } from "../runtime/encodec-model.js";

/**
 * One independently coded chunk of audio (chunked streaming): its codes, its scale (48 kHz) and
 * its length, so that the receiver trims the decoded audio exactly.
 */
export interface EncodedChunk extends EncodedFrame {
  /** Samples per channel of the chunk; the codes cover `numFrames × hop ≥ lengthSamples`. */
  readonly lengthSamples: number;
}

/**
 * Encode one chunk on its own, as offline encoding does with one segment: at 48 kHz the chunk is
 * normalized by its own scale (returned in `scale`); no state is shared with other chunks. Join
 * the decoded chunks with an overlap-add (e.g. `@encstream/ola`).
 *
 * @param model an offline model (24 or 48 kHz)
 * @param audio planar channels at the model's rate; at 48 kHz at most `model.segmentLengthSamples` (1 s) long; not retained
 * @returns codes of `ceil(length / hop)` frames, owned by the caller
 * @throws RangeError / TypeError for an unsupported bandwidth or audio of the wrong shape or length
 */
export async function encodeChunk(model: EncodecModel, audio: readonly Float32Array[], options: EncodeOptions): Promise<EncodedChunk> {
  const frame = await model.encodeSegment(audio, options);
  return { ...frame, lengthSamples: audio[0]!.length };
}

/**
 * Decode one chunk: the codes' audio (multiplied by the chunk's scale at 48 kHz), trimmed to the
 * chunk's `lengthSamples` (the codes cover whole frames, so the raw output can be up to one hop
 * longer).
 *
 * @returns planar audio of `chunk.lengthSamples` samples per channel, owned by the caller
 * @throws CodecError `corrupt` when `lengthSamples` does not fit `numFrames` (it must lie in
 *   `((numFrames − 1) × hop, numFrames × hop]`) or a code is not below the codebook size;
 *   TypeError / RangeError for a malformed chunk
 */
export async function decodeChunk(model: EncodecModel, chunk: EncodedChunk): Promise<Float32Array[]> {
  const hop = model.hopLengthSamples;
  const { numFrames: f, lengthSamples: n } = chunk ?? ({} as EncodedChunk);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`chunk.lengthSamples must be a positive integer, got ${n}`);
  if (Number.isInteger(f) && (n > f * hop || n <= (f - 1) * hop)) {
    throw new CodecError("corrupt", `a chunk of ${f} frame(s) covers ${(f - 1) * hop + 1} to ${f * hop} samples, not ${n}`);
  }
  const audio = await model.decodeSegment(chunk);
  return audio.map((ch) => (ch.length === n ? ch : ch.slice(0, n)));
}
