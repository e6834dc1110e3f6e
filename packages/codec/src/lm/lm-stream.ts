import { CodecError, isCodecError } from "../errors.js";
import { ArithmeticDecoder, ArithmeticEncoder } from "./arithmetic-coder.js";
import { BitReader, BitWriter } from "./bit-io.js";
import { crc16OfCodes } from "./internal/crc16.js";
import { LM_MAX_FRAMES } from "./constants.js";
import { checkCodeMatrix, pullFrames, pushFrames } from "./internal/code-frames.js";
import type { LmWeights } from "./lm-weights.js";
import { StreamingLm } from "./streaming-lm.js";

/**
 * LM-coded stream payloads. One payload carries the codes of one or more consecutive frames:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | bit 7: keyframe (the LM state was reset before this payload); bits 0–6: payloads since the last keyframe, mod 128 (0 on a keyframe) |
 * | 1 | 2 | CRC-16/CCITT-FALSE, big-endian, of byte 0 then the payload's codes as big-endian uint16, codebook-major (absent with `checksum: false`) |
 * | 1 or 3 | … | the codes, arithmetic-coded with the LM; the coder is flushed at the end of every payload |
 *
 * Reset policy: the arithmetic coder restarts with every payload, so each payload's bits stand
 * alone. The LM's context (key/value cache, position) carries over from payload to payload and
 * is reset at keyframes, which the encoder emits every `keyframeIntervalFrames` frames (and on
 * {@link LmStreamEncoder.requestKeyframe}). A lost payload therefore costs at most the payloads
 * up to the next keyframe; everything from that keyframe on decodes exactly. With
 * `keyframeIntervalFrames` <= frames per payload every payload is a keyframe and fully independent
 * (what the reference does per 1 s segment).
 */
export interface LmStreamOptions {
  /**
   * Frames from one LM reset to the next. Smaller recovers sooner after a loss; larger gives the
   * LM more context (better compression). 75 frames is 1 s at 24 kHz, 0.5 s at 48 kHz.
   * @default 75
   */
  keyframeIntervalFrames?: number;
  /**
   * Add a 2-byte CRC of the codes, so that a payload decoded with probabilities that differ from
   * the encoder's (or a corrupted payload) is reported as `lm-desync` instead of wrong codes.
   * Encoder and decoder must agree.
   * @default true
   */
  checksum?: boolean;
}

/** Flag bit of a keyframe payload. */
const KEYFRAME_FLAG = 0x80;
const INDEX_MASK = 0x7f;

function readOptions(options: LmStreamOptions): { interval: number; checksum: boolean } {
  const interval = options.keyframeIntervalFrames ?? 75;
  if (!Number.isInteger(interval) || interval < 1) throw new RangeError(`keyframeIntervalFrames must be a positive integer, got ${interval}`);
  return { interval, checksum: options.checksum ?? true };
}

/**
 * Encodes successive chunks of codes into self-delimiting LM stream payloads (see
 * {@link LmStreamOptions} for the layout and the reset policy). Holds the LM state between calls.
 */
export class LmStreamEncoder {
  private readonly lm: StreamingLm;
  private readonly interval: number;
  private readonly checksum: boolean;
  private readonly cdf: Uint32Array;
  private previous: Int32Array | null = null;
  private framesSinceKeyframe = 0;
  private index = 0;
  private forceKeyframe = true;

  /**
   * @param lm the language model (the decoder must use the same weights)
   * @param numCodebooks K codebooks per frame (set by the bandwidth)
   * @throws RangeError for a bad `numCodebooks` or option
   */
  constructor(lm: LmWeights, numCodebooks: number, options: LmStreamOptions = {}) {
    const o = readOptions(options);
    this.lm = new StreamingLm(lm, numCodebooks);
    this.interval = o.interval;
    this.checksum = o.checksum;
    this.cdf = new Uint32Array(lm.hyper.cardinality);
  }

  /** Make the next payload a keyframe (e.g. when a receiver joins or reports loss). */
  requestKeyframe(): void {
    this.forceKeyframe = true;
  }

  /**
   * Encode the codes of the next `codes.length / K` frames, codebook-major (`codes[k * F + t]`).
   *
   * @returns a new payload buffer
   * @throws RangeError for a malformed code matrix
   */
  encode(codes: ArrayLike<number>): Uint8Array {
    const K = this.lm.numCodebooks;
    const F = checkCodeMatrix(codes, K, this.lm.cardinality);
    const keyframe = this.forceKeyframe || this.framesSinceKeyframe >= this.interval;
    if (keyframe) {
      this.lm.reset();
      this.previous = null;
      this.framesSinceKeyframe = 0;
      this.index = 0;
      this.forceKeyframe = false;
    }
    const flags = (keyframe ? KEYFRAME_FLAG : 0) | (this.index & INDEX_MASK);
    const headerBytes = this.checksum ? 3 : 1;
    const writer = new BitWriter(headerBytes + Math.ceil((codes.length * 10) / 8) + 8);
    for (let i = 0; i < headerBytes; i++) for (let b = 0; b < 8; b++) writer.push(0);
    const encoder = new ArithmeticEncoder(writer);
    this.previous = pushFrames(this.lm, encoder, codes, F, 0, F, this.previous, this.cdf);
    encoder.finish();
    const out = writer.toBytes();
    out[0] = flags;
    if (this.checksum) {
      const crc = crc16OfCodes(flags, codes);
      out[1] = crc >>> 8;
      out[2] = crc & 0xff;
    }
    this.framesSinceKeyframe += F;
    this.index++;
    return out;
  }
}

/** Outcome of {@link LmStreamDecoder.decode}. */
export type LmStreamDecodeResult =
  | {
      readonly kind: "decoded";
      /** Codebook-major `[K, numFrames]` codes (a new buffer). */
      readonly codes: Uint16Array;
      /** True when this payload started a new LM context. */
      readonly keyframe: boolean;
    }
  | {
      /**
       * The payload continues an LM context this decoder does not have (a payload since the last
       * keyframe was lost, or the stream was joined midway): skip it until the next keyframe.
       */
      readonly kind: "needs-keyframe";
    };

/** Decodes payloads of an {@link LmStreamEncoder} in order, tolerating lost payloads. */
export class LmStreamDecoder {
  private readonly lm: StreamingLm;
  private readonly checksum: boolean;
  private readonly cdf: Uint32Array;
  private previous: Int32Array | null = null;
  private synced = false;
  private lastIndex = 0;

  /**
   * @param lm the language model the encoder used
   * @param numCodebooks K codebooks per frame
   * @param options must match the encoder's `checksum`; `keyframeIntervalFrames` is not needed
   * @throws RangeError for a bad `numCodebooks`
   */
  constructor(lm: LmWeights, numCodebooks: number, options: LmStreamOptions = {}) {
    this.checksum = readOptions(options).checksum;
    this.lm = new StreamingLm(lm, numCodebooks);
    this.cdf = new Uint32Array(lm.hyper.cardinality);
  }

  /** Report that payloads were lost (e.g. the jitter buffer gave up on a frame): wait for a keyframe. */
  markLost(): void {
    this.synced = false;
  }

  /**
   * Decode the next payload received, holding `numFrames` frames. Payloads must be given in
   * order; a gap in the payload counter is detected even without {@link markLost}.
   *
   * @returns the codes, or `needs-keyframe` while the LM context is missing
   * @throws CodecError `corrupt` (shorter than its header), `truncated` (coded bits end early),
   *   `lm-desync` (checksum mismatch, bits that match no code, or bytes left over: a corrupted
   *   payload or a different LM); after any error the decoder waits for the next keyframe
   * @throws RangeError when `numFrames` is out of range
   */
  decode(payload: Uint8Array, numFrames: number): LmStreamDecodeResult {
    if (!Number.isInteger(numFrames) || numFrames < 0 || numFrames > LM_MAX_FRAMES) {
      throw new RangeError(`numFrames must be an integer in [0, ${LM_MAX_FRAMES}], got ${numFrames}`);
    }
    const headerBytes = this.checksum ? 3 : 1;
    if (payload.byteLength < headerBytes) {
      this.synced = false;
      throw new CodecError("corrupt", `LM stream payload: ${payload.byteLength} bytes is shorter than its ${headerBytes}-byte header`);
    }
    const flags = payload[0]!;
    const keyframe = (flags & KEYFRAME_FLAG) !== 0;
    const index = flags & INDEX_MASK;
    if (keyframe) {
      if (index !== 0) {
        this.synced = false;
        throw new CodecError("corrupt", `LM stream payload: keyframe with payload index ${index} (must be 0)`);
      }
      this.lm.reset();
      this.previous = null;
      this.synced = true;
    } else if (!this.synced || index !== ((this.lastIndex + 1) & INDEX_MASK)) {
      this.synced = false;
      return { kind: "needs-keyframe" };
    }
    this.lastIndex = index;
    const K = this.lm.numCodebooks;
    const codes = new Uint16Array(K * numFrames);
    try {
      const reader = new BitReader(payload, headerBytes, payload.byteLength);
      const decoder = new ArithmeticDecoder(reader);
      this.previous = pullFrames(this.lm, decoder, codes, numFrames, 0, numFrames, this.previous, this.cdf, "LM stream payload");
      if (reader.position !== payload.byteLength) {
        throw new CodecError("lm-desync", `LM stream payload: ${payload.byteLength - reader.position} bytes left after ${numFrames} frames: corrupted, or decoded with other probabilities than the encoder's`);
      }
      if (this.checksum) {
        const want = (payload[1]! << 8) | payload[2]!;
        const got = crc16OfCodes(flags, codes);
        if (want !== got) {
          throw new CodecError("lm-desync", `LM stream payload: checksum of the decoded codes is 0x${got.toString(16)}, the encoder's 0x${want.toString(16)}: corrupted, or decoded with other probabilities than the encoder's`);
        }
      }
    } catch (e) {
      this.synced = false;
      if (isCodecError(e)) throw e;
      throw new CodecError("corrupt", "LM stream payload could not be decoded", { cause: e });
    }
    return { kind: "decoded", codes, keyframe };
  }
}
