import { packedByteLength, packInto, unpackInto } from "../ecdc/bit-packer.js";
import { CodecError } from "../errors.js";
import {
  MAX_PAYLOAD_FRAMES,
  PAYLOAD_BITS_PER_CODE,
  PAYLOAD_FIXED_HEADER_BYTES,
  PAYLOAD_FLAGS,
  PAYLOAD_HOP_SAMPLES,
  PAYLOAD_LENGTH_BYTES,
  PAYLOAD_MODELS,
  PAYLOAD_RESERVED_FLAGS,
  PAYLOAD_SCALE_BYTES,
  PAYLOAD_VERSION,
} from "./constants.js";

/*
 * The frame payload: what one encoded frame (or chunk) message carries inside the packets of
 * `@encstream/packet` (which fragments it and numbers it). Version 1, all integers big-endian:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 1 | version = 1 |
 * | 1 | 1 | flags: 0x01 48 kHz model (else 24 kHz), 0x02 chunked (else stream), 0x04 LM-coded body, 0x08 end of stream, 0x10 first of stream, 0x20 length present; 0xc0 reserved = 0 |
 * | 2 | 1 | K, codebooks per frame: 1–32 (24 kHz), 1–16 (48 kHz); bandwidth = K × 10 bits × frame rate |
 * | 3 | 2 | F, frames: 1–1024 |
 * | 5 | 4 | only with 0x20: audio length in samples per channel, in ((F − 1) × 320, F × 320) (written only when shorter than F × 320); else F × 320 |
 * | next | 4 | only for 48 kHz: the chunk's scale, float32, finite and > 0 |
 * | next | rest | body: without 0x04 exactly ceil(K × F × 10 / 8) bytes, the codes frame by frame (K codes of frame 0, then frame 1, …), 10 bits each LSB first, the last byte's unused high bits 0 (the `.ecdc` packing); with 0x04 the LM-coded bytes (at least 1) |
 *
 * 24 kHz stream, 6 kbps, one frame: 5 + 10 = 15 bytes; 12 kbps: 5 + 20 = 25 bytes.
 */

/** Which published model's codes a payload carries. */
export type PayloadModelKind = "24k" | "48k";

/** Frame-exact streaming (stateful decoder) or independent chunks joined by overlap-add. */
export type PayloadMode = "stream" | "chunked";

/** What {@link encodePayload} writes. */
export interface FramePayload {
  readonly modelKind: PayloadModelKind;
  readonly mode: PayloadMode;
  /** K: codebooks per frame (sets the bandwidth). */
  readonly numCodebooks: number;
  /** F: frames carried. */
  readonly numFrames: number;
  /** Codebook-major codes, `codes[k * numFrames + f]`, each in [0, 1024). Not retained. */
  readonly codes: Uint16Array;
  /** Samples per channel the frames carry (the receiver trims to it). @default numFrames × 320 */
  readonly lengthSamples?: number;
  /** The chunk's scale; required for "48k" (finite, > 0), absent or null for "24k". @default null */
  readonly scale?: number | null;
  /** First payload of a stream: the receiver resets its decoder. @default false */
  readonly firstOfStream?: boolean;
  /** Last payload of the stream. @default false */
  readonly endOfStream?: boolean;
}

/** A payload's header fields (everything but the codes). */
export interface PayloadHeader {
  readonly version: number;
  readonly modelKind: PayloadModelKind;
  readonly mode: PayloadMode;
  readonly numCodebooks: number;
  readonly numFrames: number;
  /** Samples per channel carried (`numFrames × 320` when the payload has no length field). */
  readonly lengthSamples: number;
  /** The 48 kHz scale, or null. */
  readonly scale: number | null;
  readonly lmCoded: boolean;
  readonly firstOfStream: boolean;
  readonly endOfStream: boolean;
  /** K × 10 bits × frame rate, in kbps (24 kHz: K = 2, 4, 8, 16, 32 for 1.5–24 kbps; 48 kHz: K = 2, 4, 8, 16 for 3–24). */
  readonly bandwidthKbps: number;
  /** Offset of the body (codes) in the payload bytes. */
  readonly bodyOffset: number;
}

/** A decoded payload: the header and the codes (with non-null codes, it fits a stream decoder's `push` and `decodeChunk`). */
export interface DecodedPayload extends PayloadHeader {
  /**
   * Codebook-major codes, `[numCodebooks × numFrames]`, a fresh array; null only for an LM-coded
   * payload that the LM coder cannot decode yet (its LM context was lost: conceal its frames,
   * e.g. `decoder.pushMissing(numFrames)`).
   */
  readonly codes: Uint16Array | null;
}

/**
 * Hook for LM arithmetic coding of a payload's codes; the body is whatever `encode` returns.
 * Independent payloads: `{ encode: (c, k) => encodeCodesWithLm(c, lm, k), decode: (b, k, f) =>
 * decodeCodesWithLm(b, lm, k, f) }`. With the LM context carried from payload to payload
 * (`LmStreamEncoder` / `LmStreamDecoder`, keyframes), `decode` returns null while it waits for a
 * keyframe. The coder is called in payload order, once per payload.
 */
export interface PayloadLmCoder {
  /** Codebook-major codes → coded bytes (at least 1). */
  encode(codes: Uint16Array, numCodebooks: number, numFrames: number): Uint8Array;
  /** Coded bytes (exactly the body) → codebook-major codes, or null when they cannot be decoded now. Throws CodecError for bad data. */
  decode(bytes: Uint8Array, numCodebooks: number, numFrames: number): Uint16Array | null;
}

/** Options of {@link encodePayload} and {@link decodePayload}. */
export interface PayloadCodingOptions {
  /** Code the body with the language model (encode), or read LM-coded bodies (decode). @default undefined (bit-packed; LM-coded payloads are refused) */
  readonly lmCoder?: PayloadLmCoder;
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${String(v)}`);
  if (v < min || v > max) throw new RangeError(`${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

const bandwidthOf = (kind: PayloadModelKind, k: number) => (k * PAYLOAD_BITS_PER_CODE * PAYLOAD_MODELS[kind].frameRateHz) / 1000;

/**
 * Write a frame payload (byte table in the source and the README).
 *
 * @returns a fresh array: 5 header bytes (+4 with a length, +4 at 48 kHz) and the body
 * @throws TypeError / RangeError naming the field for a payload that cannot be written (a count
 *   out of range, a code ≥ 1024, a missing or non-finite 48 kHz scale, a stream-mode 48 kHz payload)
 */
export function encodePayload(payload: FramePayload, options: PayloadCodingOptions = {}): Uint8Array {
  if (typeof payload !== "object" || payload === null) throw new TypeError("payload must be an object");
  const { modelKind: kind, mode } = payload;
  if (kind !== "24k" && kind !== "48k") throw new RangeError(`modelKind must be "24k" or "48k", got ${JSON.stringify(kind)}`);
  if (mode !== "stream" && mode !== "chunked") throw new RangeError(`mode must be "stream" or "chunked", got ${JSON.stringify(mode)}`);
  if (kind === "48k" && mode === "stream") throw new RangeError(`mode must be "chunked" for modelKind "48k" (frame-exact streaming needs the causal 24 kHz model)`);
  const k = checkInt("numCodebooks", payload.numCodebooks, 1, PAYLOAD_MODELS[kind].maxCodebooks);
  const f = checkInt("numFrames", payload.numFrames, 1, MAX_PAYLOAD_FRAMES);
  if (!(payload.codes instanceof Uint16Array)) throw new TypeError("codes must be a Uint16Array");
  if (payload.codes.length !== k * f) throw new RangeError(`codes must hold numCodebooks × numFrames = ${k * f} codes, got ${payload.codes.length}`);
  const full = f * PAYLOAD_HOP_SAMPLES;
  const length = payload.lengthSamples === undefined ? full : checkInt("lengthSamples", payload.lengthSamples, full - PAYLOAD_HOP_SAMPLES + 1, full);
  // the length field is written only when it says something (the encoding stays canonical)
  const scale = payload.scale ?? null;
  if (kind === "48k") {
    if (typeof scale !== "number" || !Number.isFinite(Math.fround(scale)) || !(Math.fround(scale) > 0)) {
      throw new RangeError(`scale must be a finite number > 0 (as float32) for modelKind "48k", got ${String(scale)}`);
    }
  } else if (scale !== null) {
    throw new RangeError(`scale must be null for modelKind "24k", got ${String(scale)}`);
  }
  const codes = payload.codes;
  const body = options.lmCoder ? options.lmCoder.encode(codes, k, f) : null;
  if (body !== null && (!(body instanceof Uint8Array) || body.length === 0)) throw new TypeError("lmCoder.encode must return a non-empty Uint8Array");
  let flags = 0;
  if (kind === "48k") flags |= PAYLOAD_FLAGS.model48k;
  if (mode === "chunked") flags |= PAYLOAD_FLAGS.chunked;
  if (body !== null) flags |= PAYLOAD_FLAGS.lmCoded;
  if (payload.endOfStream) flags |= PAYLOAD_FLAGS.endOfStream;
  if (payload.firstOfStream) flags |= PAYLOAD_FLAGS.firstOfStream;
  if (length !== full) flags |= PAYLOAD_FLAGS.hasLength;
  const headerBytes = PAYLOAD_FIXED_HEADER_BYTES + (length !== full ? PAYLOAD_LENGTH_BYTES : 0) + (kind === "48k" ? PAYLOAD_SCALE_BYTES : 0);
  const bodyBytes = body ? body.length : packedByteLength(k * f, PAYLOAD_BITS_PER_CODE);
  const out = new Uint8Array(headerBytes + bodyBytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = PAYLOAD_VERSION;
  out[1] = flags;
  out[2] = k;
  view.setUint16(3, f, false);
  let o = PAYLOAD_FIXED_HEADER_BYTES;
  if (length !== full) {
    view.setUint32(o, length, false);
    o += PAYLOAD_LENGTH_BYTES;
  }
  if (kind === "48k") {
    view.setFloat32(o, scale!, false);
    o += PAYLOAD_SCALE_BYTES;
  }
  if (body) out.set(body, o);
  else packInto(k * f, (i) => codes[(i % k) * f + Math.floor(i / k)]!, PAYLOAD_BITS_PER_CODE, out, o);
  return out;
}

function fail(code: "truncated" | "corrupt" | "unsupported", message: string): CodecError {
  return new CodecError(code, `frame payload: ${message}`);
}

/**
 * Read a payload's header and check it against the bytes present, without reading the codes.
 *
 * @param bytes the whole payload (a reassembled message); only read
 * @throws CodecError `truncated` (bytes end inside the header or the body), `unsupported` (another
 *   version, reserved flags, a 48 kHz stream payload), `corrupt` (a count or length out of range, a
 *   bad scale, bytes after a bit-packed body)
 */
export function parsePayloadHeader(bytes: Uint8Array): PayloadHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
  if (bytes.length < 1) throw fail("truncated", "empty");
  if (bytes[0] !== PAYLOAD_VERSION) throw fail("unsupported", `version ${bytes[0]}, this reader knows version ${PAYLOAD_VERSION}`);
  if (bytes.length < PAYLOAD_FIXED_HEADER_BYTES) throw fail("truncated", `${bytes.length} bytes, the header alone has ${PAYLOAD_FIXED_HEADER_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = bytes[1]!;
  if ((flags & PAYLOAD_RESERVED_FLAGS) !== 0) throw fail("unsupported", `reserved flag bits set (flags 0x${flags.toString(16).padStart(2, "0")})`);
  const kind: PayloadModelKind = flags & PAYLOAD_FLAGS.model48k ? "48k" : "24k";
  const mode: PayloadMode = flags & PAYLOAD_FLAGS.chunked ? "chunked" : "stream";
  if (kind === "48k" && mode === "stream") throw fail("unsupported", "a 48 kHz payload in stream mode (frame-exact streaming exists for the causal 24 kHz model only)");
  const k = bytes[2]!;
  const maxK = PAYLOAD_MODELS[kind].maxCodebooks;
  if (k < 1 || k > maxK) throw fail("corrupt", `${k} codebooks, a ${kind} payload has 1 to ${maxK}`);
  const f = view.getUint16(3, false);
  if (f < 1 || f > MAX_PAYLOAD_FRAMES) throw fail("corrupt", `${f} frames, a payload has 1 to ${MAX_PAYLOAD_FRAMES}`);
  const hasLength = (flags & PAYLOAD_FLAGS.hasLength) !== 0;
  const bodyOffset = PAYLOAD_FIXED_HEADER_BYTES + (hasLength ? PAYLOAD_LENGTH_BYTES : 0) + (kind === "48k" ? PAYLOAD_SCALE_BYTES : 0);
  if (bytes.length < bodyOffset) throw fail("truncated", `${bytes.length} bytes, the header has ${bodyOffset}`);
  let o = PAYLOAD_FIXED_HEADER_BYTES;
  const full = f * PAYLOAD_HOP_SAMPLES;
  let lengthSamples = full;
  if (hasLength) {
    lengthSamples = view.getUint32(o, false);
    o += PAYLOAD_LENGTH_BYTES;
    if (lengthSamples >= full || lengthSamples <= full - PAYLOAD_HOP_SAMPLES) {
      throw fail("corrupt", `audio length ${lengthSamples} does not fit ${f} frame(s) (${full - PAYLOAD_HOP_SAMPLES + 1} to ${full - 1} samples; a full length is not written)`);
    }
  }
  let scale: number | null = null;
  if (kind === "48k") {
    scale = view.getFloat32(o, false);
    if (!Number.isFinite(scale) || !(scale > 0)) throw fail("corrupt", `scale ${scale} is not a finite number > 0`);
  }
  const lmCoded = (flags & PAYLOAD_FLAGS.lmCoded) !== 0;
  const bodyBytes = bytes.length - bodyOffset;
  if (lmCoded) {
    if (bodyBytes < 1) throw fail("truncated", "an LM-coded payload without body");
  } else {
    const need = packedByteLength(k * f, PAYLOAD_BITS_PER_CODE);
    if (bodyBytes < need) throw fail("truncated", `${k} × ${f} codes need ${need} bytes of body, ${bodyBytes} present`);
    if (bodyBytes > need) throw fail("corrupt", `${bodyBytes - need} byte(s) after the ${need}-byte body`);
  }
  return {
    version: PAYLOAD_VERSION,
    modelKind: kind,
    mode,
    numCodebooks: k,
    numFrames: f,
    lengthSamples,
    scale,
    lmCoded,
    firstOfStream: (flags & PAYLOAD_FLAGS.firstOfStream) !== 0,
    endOfStream: (flags & PAYLOAD_FLAGS.endOfStream) !== 0,
    bandwidthKbps: bandwidthOf(kind, k),
    bodyOffset,
  };
}

/**
 * Read a payload: header and codes. Never reads past `bytes`; every count is checked before
 * anything is allocated.
 *
 * @param bytes the whole payload; only read
 * @returns the header fields and fresh codebook-major codes
 * @throws CodecError as {@link parsePayloadHeader}, plus `corrupt` for non-zero padding bits,
 *   `lm-unavailable` for an LM-coded payload without `options.lmCoder`, and whatever the LM coder
 *   throws for bad coded bytes (`truncated`, `lm-desync`)
 */
export function decodePayload(bytes: Uint8Array, options: PayloadCodingOptions = {}): DecodedPayload {
  const header = parsePayloadHeader(bytes);
  const { numCodebooks: k, numFrames: f, bodyOffset } = header;
  let codes: Uint16Array | null;
  if (header.lmCoded) {
    if (!options.lmCoder) throw new CodecError("lm-unavailable", "frame payload: the codes are LM-coded and no LM coder was given");
    codes = options.lmCoder.decode(bytes.subarray(bodyOffset), k, f);
    if (codes !== null && (!(codes instanceof Uint16Array) || codes.length !== k * f)) throw new TypeError(`lmCoder.decode must return ${k * f} codes or null, got ${String((codes as { length?: number })?.length)}`);
  } else {
    const count = k * f;
    const frameMajor = new Uint16Array(count);
    unpackInto(bytes, bodyOffset, count, PAYLOAD_BITS_PER_CODE, frameMajor, "frame payload");
    const usedBits = (count * PAYLOAD_BITS_PER_CODE) % 8;
    if (usedBits !== 0 && bytes[bytes.length - 1]! >> usedBits !== 0) throw fail("corrupt", "padding bits after the last code are not 0");
    codes = new Uint16Array(count);
    for (let i = 0; i < count; i++) codes[(i % k) * f + Math.floor(i / k)] = frameMajor[i]!;
  }
  return { ...header, codes };
}

/**
 * The payload model kind of a config: "24k" for a 24 kHz mono model, "48k" for 48 kHz stereo.
 * @throws RangeError for any other model (the payload format names only the two published kinds)
 */
export function payloadModelKindOf(config: { readonly sampleRateHz: number; readonly audioChannels: number }): PayloadModelKind {
  for (const kind of ["24k", "48k"] as const) {
    const m = PAYLOAD_MODELS[kind];
    if (config.sampleRateHz === m.sampleRateHz && config.audioChannels === m.channels) return kind;
  }
  throw new RangeError(`config must be a 24 kHz mono or 48 kHz stereo model for frame payloads, got ${config.sampleRateHz} Hz × ${config.audioChannels} channel(s)`);
}
