import { LmStreamDecoder, LmStreamEncoder, type LmWeights, type PayloadLmCoder, type PayloadMode } from "@encstream/codec";
import { STREAM_LM_KEYFRAME_INTERVAL_FRAMES } from "./constants.js";

/**
 * The sender's LM coder for payloads: `LmStreamEncoder` (the codec's LM stream format: keyframe
 * flag, payload counter, CRC-16 of the codes, arithmetic-coded codes). Chunked payloads are all
 * keyframes (each chunk stands alone, as its audio does); stream payloads carry the LM context
 * from frame to frame and reset it every {@link STREAM_LM_KEYFRAME_INTERVAL_FRAMES} frames.
 * Payloads must be encoded in sequence order, each once.
 */
export function createLmPayloadEncoder(lm: LmWeights, numCodebooks: number, mode: PayloadMode): PayloadLmCoder {
  const encoder = new LmStreamEncoder(lm, numCodebooks, {
    keyframeIntervalFrames: mode === "chunked" ? 1 : STREAM_LM_KEYFRAME_INTERVAL_FRAMES,
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
