/**
 * How a stream encoder or decoder begins:
 * - `"exact"`: as the offline path, whose causal convolutions reflect the first samples at t = 0.
 *   The first output comes once the startup frames are in (`StreamingCodec.encoderStartupFrames` /
 *   `decoderStartupFrames`, 7 frames = 93 ms for encodec_24khz), then one frame per frame.
 * - `"zero-state"`: zero left context, output from the first frame. Equal to offline from a few
 *   frames on (the README gives the measured difference); use it where the startup delay matters
 *   more than the first 100 ms.
 */
export type StreamStart = "exact" | "zero-state";

/**
 * Codes of consecutive frames: what a stream decoder takes (a {@link StreamFrame}, a decoded
 * payload, or an offline `EncodedFrame` with `lengthSamples` added all fit).
 */
export interface CodeBlock {
  /** Codebook-major codes: codebook `k` of frame `f` at `codes[k * numFrames + f]`, each below the model's codebook size. Not retained. */
  readonly codes: Uint16Array;
  /** K, codebooks per frame (with `frameCodebooks`, the most any frame of the block uses); may change from block to block. */
  readonly numCodebooks: number;
  /** F, frames in the block. */
  readonly numFrames: number;
  /**
   * Per-frame bitrate: frame `f` uses only its first `frameCodebooks[f]` codebooks, each count in
   * [1, numCodebooks]; the codes of the other rows are ignored. @default null (every frame uses numCodebooks)
   */
  readonly frameCodebooks?: Uint8Array | null;
  /**
   * Samples of audio the block carries, at most `numFrames × hop`: fewer only at the end of a
   * stream, where the decoder trims the block's last samples. @default numFrames × hop
   */
  readonly lengthSamples?: number;
}

/** One frame out of a stream encoder. */
export interface StreamFrame extends CodeBlock {
  /** Position of the frame in the stream, from 0. */
  readonly index: number;
  /** One code per codebook. */
  readonly codes: Uint16Array;
  readonly numFrames: 1;
  /** Input samples the frame covers: the hop (320), or fewer for the last frame of a stream. */
  readonly lengthSamples: number;
}
