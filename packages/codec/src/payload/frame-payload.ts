import { packedByteLength, packInto, unpackInto } from "../ecdc/bit-packer.js";
import { CodecError } from "../errors.js";
import {
  MAX_PAYLOAD_FRAMES,
  MAX_PAYLOAD_OVERLAP_SAMPLES,
  PAYLOAD_BITS_PER_CODE,
  PAYLOAD_FIXED_HEADER_BYTES,
  PAYLOAD_FLAGS,
  PAYLOAD_HOP_SAMPLES,
  PAYLOAD_LENGTH_BYTES,
  PAYLOAD_MODELS,
  PAYLOAD_OVERLAP_BYTES,
  PAYLOAD_RESERVED_FLAGS,
  PAYLOAD_SCALE_BYTES,
  PAYLOAD_V2_FIXED_HEADER_BYTES,
  PAYLOAD_VERSION,
} from "./constants.js";
import { PayloadCursor, payloadError } from "./payload-cursor.js";
import {
  checkLength,
  checkScale,
  encodeExtensions,
  extensionsByteLength,
  readExtensions,
  readLength,
  readScale,
  writeExtensions,
  type DecodedRedundancy,
  type PayloadExtension,
  type PayloadRedundancy,
} from "./payload-extensions.js";

/*
 * The frame payload: what one encoded frame (or chunk) message carries inside the packets of
 * `@encstream/packet` (which fragments it and numbers it). All integers big-endian.
 *
 * Version 2 (written by default):
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 1 | version = 2 |
 * | 1 | 1 | flags: 0x01 48 kHz model (else 24 kHz), 0x02 chunked (else stream), 0x04 LM-coded body, 0x08 end of stream, 0x10 first of stream, 0x20 length present, 0x40 per-frame K table present, 0x80 extensions present |
 * | 2 | 1 | K, codebooks per frame (with 0x40 the most of any frame): 1–32 (24 kHz), 1–16 (48 kHz); 0 only for comfort noise (extension 0x03), which has no body |
 * | 3 | 2 | F, frames: 1–1024 |
 * | 5 | 4 | media timestamp: the unit's first sample (per channel, at the model's rate) in the stream, modulo 2^32 |
 * | 9 | 4 | only with 0x20: audio length in samples per channel, in ((F − 1) × 320, F × 320) (written only when shorter than F × 320) |
 * | next | 4 | only for 48 kHz with K ≥ 1: the chunk's scale, float32, finite and > 0 |
 * | next | 4 | only for chunked: overlap with the previous chunk, samples per channel, 0–163840 |
 * | next | F | only with 0x40: K of each frame, 1 to K, the largest equal to K, not all equal (LM-coded payloads have none) |
 * | next | … | only with 0x80: extensions (count 1–16, then type, varint length, value each; see payload-extensions.ts) |
 * | next | rest | body: without 0x04 exactly ceil(ΣK × 10 / 8) bytes, the codes frame by frame (that frame's K codes), 10 bits each LSB first, the last byte's unused high bits 0; with 0x04 the LM-coded bytes (at least 1) |
 *
 * 24 kHz stream, 6 kbps, one frame: 9 + 10 = 19 bytes. Every optional field is written exactly
 * when it says something, so each payload has one encoding (decode then encode gives the same
 * bytes, unknown optional extensions included).
 *
 * Version 1 (still read, written with `version: 1`): bytes 0–4 as above with version = 1 and
 * flags 0x40/0x80 reserved; then the length (0x20), the 48 kHz scale and the body; no
 * timestamp, overlap, K table or extensions.
 */

/** Which published model's codes a payload carries. */
export type PayloadModelKind = "24k" | "48k";

/** Frame-exact streaming (stateful decoder) or independent chunks joined by overlap-add. */
export type PayloadMode = "stream" | "chunked";

/** Payload format versions this package reads. */
export type PayloadVersion = 1 | 2;

/** What {@link encodePayload} writes. */
export interface FramePayload {
  /** Format version to write. @default 2 */
  readonly version?: PayloadVersion;
  readonly modelKind: PayloadModelKind;
  readonly mode: PayloadMode;
  /** K: codebooks per frame (sets the bandwidth); with `frameCodebooks`, the largest of them; 0 for comfort noise. */
  readonly numCodebooks: number;
  /** F: frames carried. */
  readonly numFrames: number;
  /** Codebook-major codes, `codes[k * numFrames + f]`, each in [0, 1024) (rows beyond a frame's own K are not read). Empty for comfort noise. Not retained. */
  readonly codes: Uint16Array;
  /** Version 2: each frame's own K (1 to numCodebooks, the largest equal to numCodebooks); null / absent: every frame has numCodebooks. Not with an LM coder. @default null */
  readonly frameCodebooks?: Uint8Array | null;
  /** Samples per channel the frames carry (the receiver trims to it). @default numFrames × 320 */
  readonly lengthSamples?: number;
  /** The chunk's scale; required for "48k" with codes (finite, > 0), absent or null otherwise. @default null */
  readonly scale?: number | null;
  /** First payload of a stream: the receiver resets its decoder. @default false */
  readonly firstOfStream?: boolean;
  /** Last payload of the stream. @default false */
  readonly endOfStream?: boolean;
  /** Version 2: the unit's first sample in the stream (per channel), written modulo 2^32. @default 0 */
  readonly timestampSamples?: number | null;
  /** Version 2, chunked: overlap with the previous chunk in samples per channel, 0–163840 (stream mode: 0 or absent). @default 0 */
  readonly overlapSamples?: number | null;
  /** Version 2: track id, 0–255. @default 0 */
  readonly trackId?: number;
  /** Version 2: redundancy (FEC) blocks for previous units. @default null */
  readonly redundancy?: PayloadRedundancy | null;
  /** Version 2: a comfort noise (DTX) unit at this level, dBFS, an integer in [−127, 0]; needs numCodebooks 0 and empty codes. @default null */
  readonly comfortNoiseDb?: number | null;
  /** Version 2: optional extensions of types 0x04–0x7f, written as given (a decoded payload's unknown extensions). @default [] */
  readonly extensions?: readonly PayloadExtension[];
}

/** A payload's header fields (everything but the main codes). */
export interface PayloadHeader {
  readonly version: PayloadVersion;
  readonly modelKind: PayloadModelKind;
  readonly mode: PayloadMode;
  /** K (the largest per-frame K with a table; 0 for comfort noise). */
  readonly numCodebooks: number;
  readonly numFrames: number;
  /** Each frame's K when they differ, else null. */
  readonly frameCodebooks: Uint8Array | null;
  /** Samples per channel carried (`numFrames × 320` when the payload has no length field). */
  readonly lengthSamples: number;
  /** The 48 kHz scale, or null. */
  readonly scale: number | null;
  readonly lmCoded: boolean;
  readonly firstOfStream: boolean;
  readonly endOfStream: boolean;
  /** Media timestamp (the unit's first sample modulo 2^32); null in version 1. */
  readonly timestampSamples: number | null;
  /** Overlap with the previous chunk in samples (0 in stream mode); null in version 1, which does not say. */
  readonly overlapSamples: number | null;
  /** Track id (0 in version 1). */
  readonly trackId: number;
  /** Redundancy blocks, or null. */
  readonly redundancy: DecodedRedundancy | null;
  /** Comfort noise level (dBFS) of a DTX unit, or null for a unit with codes. */
  readonly comfortNoiseDb: number | null;
  /** Optional extensions this package does not know (types 0x04–0x7f), kept as bytes. */
  readonly extensions: readonly PayloadExtension[];
  /** K × 10 bits × frame rate, in kbps (24 kHz: K = 2, 4, 8, 16, 32 for 1.5–24 kbps; 48 kHz: K = 2, 4, 8, 16 for 3–24); with a K table, the largest K's. */
  readonly bandwidthKbps: number;
  /** Offset of the body (codes) in the payload bytes. */
  readonly bodyOffset: number;
}

/** A decoded payload: the header and the codes (with non-null codes, it fits a stream decoder's `push` and `decodeChunk`). */
export interface DecodedPayload extends PayloadHeader {
  /**
   * Codebook-major codes, `[numCodebooks × numFrames]`, a fresh array (rows beyond a frame's own
   * K are 0; empty for comfort noise); null only for an LM-coded payload that the LM coder
   * cannot decode yet (its LM context was lost: conceal its frames, e.g.
   * `decoder.pushMissing(numFrames)`).
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

/** Codes in the body: ΣK over the frames. */
function codeCountOf(k: number, f: number, table: Uint8Array | null): number {
  if (!table) return k * f;
  let n = 0;
  for (let j = 0; j < f; j++) n += table[j]!;
  return n;
}

/** The per-frame K table to write: null when absent or uniform (canonical), else checked. */
function checkFrameTable(table: Uint8Array | null | undefined, k: number, f: number, version: PayloadVersion): Uint8Array | null {
  if (table === undefined || table === null) return null;
  if (!(table instanceof Uint8Array)) throw new TypeError("frameCodebooks must be a Uint8Array or null");
  if (table.length !== f) throw new RangeError(`frameCodebooks must hold one K per frame (${f}), got ${table.length}`);
  let max = 0;
  for (let j = 0; j < f; j++) {
    if (table[j]! < 1 || table[j]! > k) throw new RangeError(`frameCodebooks[${j}] must be in [1, ${k}], got ${table[j]}`);
    max = Math.max(max, table[j]!);
  }
  if (max !== k) throw new RangeError(`numCodebooks must equal the largest frameCodebooks entry (${max}), got ${k}`);
  if (table.every((kj) => kj === k)) return null;
  if (version === 1) throw new RangeError("frameCodebooks needs version 2");
  return table;
}

/**
 * Write a frame payload (byte table in the source and the README).
 *
 * @returns a fresh array: the header fields, the extensions and the body
 * @throws TypeError / RangeError naming the field for a payload that cannot be written (a count
 *   out of range, a code ≥ 1024, a missing or non-finite 48 kHz scale, a stream-mode 48 kHz
 *   payload, a version 2 field with `version: 1`, a per-frame K table with an LM coder)
 */
export function encodePayload(payload: FramePayload, options: PayloadCodingOptions = {}): Uint8Array {
  if (typeof payload !== "object" || payload === null) throw new TypeError("payload must be an object");
  const { modelKind: kind, mode } = payload;
  const version = payload.version ?? PAYLOAD_VERSION;
  if (version !== 1 && version !== 2) throw new RangeError(`version must be 1 or 2, got ${String(version)}`);
  if (kind !== "24k" && kind !== "48k") throw new RangeError(`modelKind must be "24k" or "48k", got ${JSON.stringify(kind)}`);
  if (mode !== "stream" && mode !== "chunked") throw new RangeError(`mode must be "stream" or "chunked", got ${JSON.stringify(mode)}`);
  if (kind === "48k" && mode === "stream") throw new RangeError(`mode must be "chunked" for modelKind "48k" (frame-exact streaming needs the causal 24 kHz model)`);
  const noise = payload.comfortNoiseDb ?? null;
  const k = checkInt("numCodebooks", payload.numCodebooks, noise === null ? 1 : 0, noise === null ? PAYLOAD_MODELS[kind].maxCodebooks : 0);
  const f = checkInt("numFrames", payload.numFrames, 1, MAX_PAYLOAD_FRAMES);
  if (!(payload.codes instanceof Uint16Array)) throw new TypeError("codes must be a Uint16Array");
  if (payload.codes.length !== k * f) throw new RangeError(`codes must hold numCodebooks × numFrames = ${k * f} codes, got ${payload.codes.length}`);
  const table = checkFrameTable(payload.frameCodebooks, k, f, version);
  const codes = payload.codes;
  for (let q = 0; q < k; q++) {
    for (let j = 0; j < f; j++) {
      if (table && q >= table[j]!) continue;
      const c = codes[q * f + j]!;
      if (c >= 1024) throw new RangeError(`codes must be integers in [0, 1024), got ${c}`);
    }
  }
  const full = f * PAYLOAD_HOP_SAMPLES;
  // the length field is written only when it says something (the encoding stays canonical)
  const length = checkLength("lengthSamples", payload.lengthSamples, f);
  const scale = k === 0 ? null : checkScale("scale", kind, payload.scale);
  if (k === 0 && payload.scale !== undefined && payload.scale !== null) throw new RangeError(`scale must be null for a comfort noise payload, got ${String(payload.scale)}`);
  const timestamp = payload.timestampSamples ?? null;
  if (timestamp !== null && (!Number.isSafeInteger(timestamp) || timestamp < 0)) throw new RangeError(`timestampSamples must be a non-negative safe integer, got ${String(timestamp)}`);
  const overlap = payload.overlapSamples ?? null;
  if (overlap !== null) checkInt("overlapSamples", overlap, 0, mode === "chunked" ? MAX_PAYLOAD_OVERLAP_SAMPLES : 0);
  const extensions = encodeExtensions({ trackId: payload.trackId, redundancy: payload.redundancy, comfortNoiseDb: noise, extensions: payload.extensions }, kind);
  if (version === 1 && (timestamp !== null || overlap !== null || extensions.length > 0)) {
    throw new RangeError("version must be 2 for timestampSamples, overlapSamples, trackId, redundancy, comfortNoiseDb or extensions");
  }
  if (options.lmCoder && table) throw new RangeError("frameCodebooks must be null with an lmCoder (an LM-coded payload has one K)");
  const body = options.lmCoder && k > 0 ? options.lmCoder.encode(codes, k, f) : null;
  if (body !== null && (!(body instanceof Uint8Array) || body.length === 0)) throw new TypeError("lmCoder.encode must return a non-empty Uint8Array");
  let flags = 0;
  if (kind === "48k") flags |= PAYLOAD_FLAGS.model48k;
  if (mode === "chunked") flags |= PAYLOAD_FLAGS.chunked;
  if (body !== null) flags |= PAYLOAD_FLAGS.lmCoded;
  if (payload.endOfStream) flags |= PAYLOAD_FLAGS.endOfStream;
  if (payload.firstOfStream) flags |= PAYLOAD_FLAGS.firstOfStream;
  if (length !== full) flags |= PAYLOAD_FLAGS.hasLength;
  if (table) flags |= PAYLOAD_FLAGS.frameCodebooks;
  if (extensions.length > 0) flags |= PAYLOAD_FLAGS.extensions;
  const v2 = version === 2;
  const headerBytes =
    (v2 ? PAYLOAD_V2_FIXED_HEADER_BYTES : PAYLOAD_FIXED_HEADER_BYTES) +
    (length !== full ? PAYLOAD_LENGTH_BYTES : 0) +
    (scale !== null ? PAYLOAD_SCALE_BYTES : 0) +
    (v2 && mode === "chunked" ? PAYLOAD_OVERLAP_BYTES : 0) +
    (table ? f : 0) +
    extensionsByteLength(extensions);
  const count = codeCountOf(k, f, table);
  const bodyBytes = body ? body.length : packedByteLength(count, PAYLOAD_BITS_PER_CODE);
  const out = new Uint8Array(headerBytes + bodyBytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = version;
  out[1] = flags;
  out[2] = k;
  view.setUint16(3, f, false);
  let o = PAYLOAD_FIXED_HEADER_BYTES;
  if (v2) {
    view.setUint32(o, (timestamp ?? 0) % 2 ** 32, false);
    o += 4;
  }
  if (length !== full) {
    view.setUint32(o, length, false);
    o += PAYLOAD_LENGTH_BYTES;
  }
  if (scale !== null) {
    view.setFloat32(o, scale, false);
    o += PAYLOAD_SCALE_BYTES;
  }
  if (v2 && mode === "chunked") {
    view.setUint32(o, overlap ?? 0, false);
    o += PAYLOAD_OVERLAP_BYTES;
  }
  if (table) {
    out.set(table, o);
    o += f;
  }
  o = writeExtensions(out, o, extensions);
  if (body) out.set(body, o);
  else if (!table) packInto(count, (i) => codes[(i % k) * f + Math.floor(i / k)]!, PAYLOAD_BITS_PER_CODE, out, o);
  else {
    const frameMajor = new Uint16Array(count);
    let at = 0;
    for (let j = 0; j < f; j++) for (let q = 0; q < table[j]!; q++) frameMajor[at++] = codes[q * f + j]!;
    packInto(count, (i) => frameMajor[i]!, PAYLOAD_BITS_PER_CODE, out, o);
  }
  return out;
}

/**
 * Read a payload's header and extensions and check them against the bytes present, without
 * reading the main codes.
 *
 * @param bytes the whole payload (a reassembled message); only read
 * @throws CodecError `truncated` (bytes end inside the header, an extension or the body),
 *   `unsupported` (another version, reserved flags, a 48 kHz stream payload, an unknown critical
 *   extension), `corrupt` (a count or length out of range, a bad scale, a non-canonical field,
 *   bytes after a bit-packed body)
 */
export function parsePayloadHeader(bytes: Uint8Array): PayloadHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
  if (bytes.length < 1) throw payloadError("truncated", "empty");
  const version = bytes[0]!;
  if (version !== 1 && version !== 2) throw payloadError("unsupported", `version ${version}, this reader knows versions 1 and 2`);
  const v2 = version === 2;
  const c = new PayloadCursor(bytes);
  c.offset = 1;
  const flags = c.u8("flags");
  if (!v2 && (flags & PAYLOAD_RESERVED_FLAGS) !== 0) throw payloadError("unsupported", `reserved flag bits set (flags 0x${flags.toString(16).padStart(2, "0")})`);
  const kind: PayloadModelKind = flags & PAYLOAD_FLAGS.model48k ? "48k" : "24k";
  const mode: PayloadMode = flags & PAYLOAD_FLAGS.chunked ? "chunked" : "stream";
  const k = c.u8("codebooks");
  const f = c.u16("frames");
  if (kind === "48k" && mode === "stream") throw payloadError("unsupported", "a 48 kHz payload in stream mode (frame-exact streaming exists for the causal 24 kHz model only)");
  const maxK = PAYLOAD_MODELS[kind].maxCodebooks;
  if (k > maxK || (k < 1 && !v2)) throw payloadError("corrupt", `${k} codebooks, a ${kind} payload has 1 to ${maxK}`);
  if (f < 1 || f > MAX_PAYLOAD_FRAMES) throw payloadError("corrupt", `${f} frames, a payload has 1 to ${MAX_PAYLOAD_FRAMES}`);
  const timestampSamples = v2 ? c.u32("timestamp") : null;
  const lengthSamples = flags & PAYLOAD_FLAGS.hasLength ? readLength(c, f, "audio length") : f * PAYLOAD_HOP_SAMPLES;
  const scale = kind === "48k" && k > 0 ? readScale(c, "scale") : null;
  let overlapSamples: number | null = null;
  if (v2) {
    overlapSamples = 0;
    if (mode === "chunked") {
      overlapSamples = c.u32("overlap");
      if (overlapSamples > MAX_PAYLOAD_OVERLAP_SAMPLES) throw payloadError("corrupt", `overlap ${overlapSamples} samples, at most ${MAX_PAYLOAD_OVERLAP_SAMPLES}`);
    }
  }
  const lmCoded = (flags & PAYLOAD_FLAGS.lmCoded) !== 0;
  let frameCodebooks: Uint8Array | null = null;
  if (flags & PAYLOAD_FLAGS.frameCodebooks) {
    if (lmCoded) throw payloadError("corrupt", "a per-frame K table in an LM-coded payload");
    if (k === 0) throw payloadError("corrupt", "a per-frame K table in a comfort noise payload");
    frameCodebooks = c.take(f, "per-frame K table").slice();
    let max = 0;
    for (let j = 0; j < f; j++) {
      const kj = frameCodebooks[j]!;
      if (kj < 1 || kj > k) throw payloadError("corrupt", `frame ${j} has ${kj} codebooks, the payload's K is ${k}`);
      max = Math.max(max, kj);
    }
    if (max !== k) throw payloadError("corrupt", `the per-frame K table's largest entry ${max} is not the payload's K ${k}`);
    if (frameCodebooks.every((kj) => kj === k)) throw payloadError("corrupt", "a per-frame K table whose entries are all equal (not written)");
  }
  const ext =
    flags & PAYLOAD_FLAGS.extensions ? readExtensions(c, kind) : { trackId: 0, redundancy: null, comfortNoiseDb: null, extensions: [] as PayloadExtension[] };
  if (ext.comfortNoiseDb !== null ? k !== 0 : k === 0) {
    throw payloadError("corrupt", k === 0 ? "K = 0 without the comfort noise extension" : "a comfort noise extension in a payload with codes");
  }
  const bodyOffset = c.offset;
  const bodyBytes = c.left;
  if (k === 0) {
    if (lmCoded) throw payloadError("corrupt", "an LM-coded comfort noise payload");
    if (bodyBytes > 0) throw payloadError("corrupt", `${bodyBytes} byte(s) after a comfort noise payload`);
  } else if (lmCoded) {
    if (bodyBytes < 1) throw payloadError("truncated", "an LM-coded payload without body");
  } else {
    const count = codeCountOf(k, f, frameCodebooks);
    const need = packedByteLength(count, PAYLOAD_BITS_PER_CODE);
    if (bodyBytes < need) throw payloadError("truncated", `${count} codes need ${need} bytes of body, ${bodyBytes} present`);
    if (bodyBytes > need) throw payloadError("corrupt", `${bodyBytes - need} byte(s) after the ${need}-byte body`);
  }
  return {
    version,
    modelKind: kind,
    mode,
    numCodebooks: k,
    numFrames: f,
    frameCodebooks,
    lengthSamples,
    scale,
    lmCoded,
    firstOfStream: (flags & PAYLOAD_FLAGS.firstOfStream) !== 0,
    endOfStream: (flags & PAYLOAD_FLAGS.endOfStream) !== 0,
    timestampSamples,
    overlapSamples,
    trackId: ext.trackId,
    redundancy: ext.redundancy,
    comfortNoiseDb: ext.comfortNoiseDb,
    extensions: ext.extensions,
    bandwidthKbps: bandwidthOf(kind, k),
    bodyOffset,
  };
}

/**
 * Read a payload: header, extensions and codes. Never reads past `bytes`; every count is checked
 * before anything is allocated.
 *
 * @param bytes the whole payload; only read
 * @returns the header fields and fresh codebook-major codes
 * @throws CodecError as {@link parsePayloadHeader}, plus `corrupt` for non-zero padding bits,
 *   `lm-unavailable` for an LM-coded payload without `options.lmCoder`, and whatever the LM coder
 *   throws for bad coded bytes (`truncated`, `lm-desync`)
 */
export function decodePayload(bytes: Uint8Array, options: PayloadCodingOptions = {}): DecodedPayload {
  const header = parsePayloadHeader(bytes);
  const { numCodebooks: k, numFrames: f, bodyOffset, frameCodebooks: table } = header;
  let codes: Uint16Array | null;
  if (k === 0) {
    codes = new Uint16Array(0);
  } else if (header.lmCoded) {
    if (!options.lmCoder) throw new CodecError("lm-unavailable", "frame payload: the codes are LM-coded and no LM coder was given");
    codes = options.lmCoder.decode(bytes.subarray(bodyOffset), k, f);
    if (codes !== null && (!(codes instanceof Uint16Array) || codes.length !== k * f)) throw new TypeError(`lmCoder.decode must return ${k * f} codes or null, got ${String((codes as { length?: number })?.length)}`);
  } else {
    const count = codeCountOf(k, f, table);
    const frameMajor = new Uint16Array(count);
    unpackInto(bytes, bodyOffset, count, PAYLOAD_BITS_PER_CODE, frameMajor, "frame payload");
    const usedBits = (count * PAYLOAD_BITS_PER_CODE) % 8;
    if (usedBits !== 0 && bytes[bytes.length - 1]! >> usedBits !== 0) throw payloadError("corrupt", "padding bits after the last code are not 0");
    codes = new Uint16Array(k * f);
    if (!table) for (let i = 0; i < count; i++) codes[(i % k) * f + Math.floor(i / k)] = frameMajor[i]!;
    else {
      let at = 0;
      for (let j = 0; j < f; j++) for (let q = 0; q < table[j]!; q++) codes[q * f + j] = frameMajor[at++]!;
    }
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
