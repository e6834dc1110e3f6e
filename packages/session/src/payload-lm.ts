import { LmStreamDecoder, LmStreamEncoder, type LmWeights, type PayloadLmCoder, type PayloadMode } from "@encstream/codec";
import { MAX_LM_KEYFRAME_INTERVAL_FRAMES, STREAM_LM_KEYFRAME_INTERVAL_FRAMES } from "./constants.js";

/**
 * The sender's LM coder for payloads: `LmStreamEncoder` (the codec's LM stream format: keyframe
 * flag, payload counter, CRC-16 of the codes, arithmetic-coded codes). Chunked payloads are all
 * keyframes (each chunk stands alone, as its audio does); stream payloads carry the LM context
 * from frame to frame and reset it every `keyframeIntervalFrames` frames (default
 * {@link STREAM_LM_KEYFRAME_INTERVAL_FRAMES}): a lost payload costs the receiver every payload up
 * to the next keyframe. Payloads must be encoded in sequence order, each once.
 *
 * @param keyframeIntervalFrames frames between keyframes in stream mode, 1 to
 *   {@link MAX_LM_KEYFRAME_INTERVAL_FRAMES} (1: every payload stands alone)
 * @throws RangeError for an interval out of range
 */
export function createLmPayloadEncoder(
  lm: LmWeights,
  numCodebooks: number,
  mode: PayloadMode,
  keyframeIntervalFrames: number = STREAM_LM_KEYFRAME_INTERVAL_FRAMES,
): PayloadLmCoder {
  if (!Number.isInteger(keyframeIntervalFrames) || keyframeIntervalFrames < 1 || keyframeIntervalFrames > MAX_LM_KEYFRAME_INTERVAL_FRAMES) {
    throw new RangeError(`keyframeIntervalFrames must be an integer in [1, ${MAX_LM_KEYFRAME_INTERVAL_FRAMES}], got ${keyframeIntervalFrames}`);
  }
  const encoder = new LmStreamEncoder(lm, numCodebooks, {
    keyframeIntervalFrames: mode === "chunked" ? 1 : keyframeIntervalFrames,
  });
  return {
    encode: (codes) => encoder.encode(codes),
    decode: () => {
      throw new Error("createLmPayloadEncoder: an encoder does not decode");
    },
  };
}

/**
 * The receiver's LM coder for one stream: `LmStreamDecoder`, given the payloads in playout order.
 * A payload whose LM context was lost (an earlier payload since its keyframe never came) decodes
 * to null: conceal it. Call {@link LmPayloadDecoder.markLost} for every unit played as missing.
 */
export class LmPayloadDecoder implements PayloadLmCoder {
  readonly #lm: LmWeights;
  #decoder: LmStreamDecoder | undefined;
  #numCodebooks = 0;

  constructor(lm: LmWeights) {
    this.#lm = lm;
  }

  encode(): Uint8Array {
    throw new Error("LmPayloadDecoder: a decoder does not encode");
  }

  /** @throws CodecError `corrupt` / `truncated` / `lm-desync` for bad coded bytes (the next keyframe resynchronises) */
  decode(bytes: Uint8Array, numCodebooks: number, numFrames: number): Uint16Array | null {
    if (this.#decoder === undefined || numCodebooks !== this.#numCodebooks) {
      this.#decoder = new LmStreamDecoder(this.#lm, numCodebooks);
      this.#numCodebooks = numCodebooks;
    }
    const result = this.#decoder.decode(bytes, numFrames);
    return result.kind === "decoded" ? result.codes : null;
  }

  /** A unit was lost: the next payload must be a keyframe. */
  markLost(): void {
    this.#decoder?.markLost();
  }
}
