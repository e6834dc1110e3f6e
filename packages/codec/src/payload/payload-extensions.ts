import { packedByteLength, packInto, unpackInto } from "../ecdc/bit-packer.js";
import {
  MAX_PAYLOAD_EXTENSION_BYTES,
  MAX_PAYLOAD_EXTENSIONS,
  MAX_PAYLOAD_FRAMES,
  MAX_REDUNDANT_UNITS,
  MIN_COMFORT_NOISE_DB,
  PAYLOAD_BITS_PER_CODE,
  PAYLOAD_CRITICAL_EXTENSION_TYPE,
  PAYLOAD_EXTENSION_TYPES,
  PAYLOAD_HOP_SAMPLES,
  PAYLOAD_MODELS,
} from "./constants.js";
import { PayloadCursor, payloadError, varintLength, writeVarint } from "./payload-cursor.js";

/*
 * Version 2 extensions: after the header fields, a count (1 byte, 1–16), then per extension its
 * type (1 byte), its value's length (unsigned LEB128, shortest form, at most 3 bytes) and the
 * value; types strictly increasing. Types 0x01–0x7f are optional (an unknown one is skipped and
 * kept), 0x80–0xff critical (an unknown one makes the payload `unsupported`), 0 is invalid.
 *
 * | type | value |
 * |---|---|
 * | 0x01 track | 1 byte: track id 1–255 (written only when not 0) |
 * | 0x02 redundancy | K_r (1 byte, 1 to the model's most codebooks); mask (1 byte ≠ 0: bit d−1 set = a block for the unit d messages back, d = 1–8); per block, by increasing d: varint (F_r << 1 \| has-length), F_r 1–1024; with has-length a uint32 length as the payload's own; at 48 kHz a float32 scale; then the codes of all blocks, block after block, frame by frame, K_r codes of 10 bits each (LSB first), the last byte's unused bits 0 |
 * | 0x03 comfort noise | 1 byte: level in −dBFS, 0–127; the payload then has K = 0 and no body |
 */

/** One previous unit carried as redundancy (FEC): its first K_r codebooks. */
export interface RedundantUnit {
  /** How many messages back the unit is: 1 is the message just before (seq − 1); 1 to 8. */
  readonly distance: number;
  /** F: frames of the unit, 1 to 1024. */
  readonly numFrames: number;
  /** Codebook-major codes `[K_r × F]` (`codes[k * numFrames + f]`), each in [0, 1024). Not retained by the encoder. */
  readonly codes: Uint16Array;
  /** Samples per channel the unit carries. @default numFrames × 320 */
  readonly lengthSamples?: number;
  /** The unit's 48 kHz scale (required there, finite and > 0); null or absent at 24 kHz. @default null */
  readonly scale?: number | null;
}

/** A payload's redundancy: the first `numCodebooks` codebooks of up to 8 previous units. */
export interface PayloadRedundancy {
  /** K_r, codebooks carried per frame (every unit carries the same). */
  readonly numCodebooks: number;
  /** The units, at distinct distances (written by increasing distance). */
  readonly units: readonly RedundantUnit[];
}

/** A decoded redundant unit: every field present. */
export interface DecodedRedundantUnit extends RedundantUnit {
  readonly lengthSamples: number;
  readonly scale: number | null;
}

/** Decoded redundancy. */
export interface DecodedRedundancy extends PayloadRedundancy {
  readonly units: readonly DecodedRedundantUnit[];
}

/** An extension this package does not know, kept as bytes so that re-encoding gives the same payload. */
export interface PayloadExtension {
  /** Type, 0x04–0x7f (optional types this version does not define). */
  readonly type: number;
  /** The value's bytes. */
  readonly value: Uint8Array;
}

/** What the extensions of a payload say. */
export interface PayloadExtensionFields {
  /** Track id, 0–255 (0 when absent). */
  readonly trackId: number;
  /** Redundancy blocks, or null. */
  readonly redundancy: DecodedRedundancy | null;
  /** Comfort noise level in dBFS (an integer in [−127, 0]), or null for a payload with codes. */
  readonly comfortNoiseDb: number | null;
  /** Optional extensions of types this package does not know, in type order. */
  readonly extensions: readonly PayloadExtension[];
}

type ModelKind = keyof typeof PAYLOAD_MODELS;

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${String(v)}`);
  if (v < min || v > max) throw new RangeError(`${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

/** Check a 48 kHz scale (finite, > 0 as float32) or its absence at 24 kHz. */
export function checkScale(name: string, kind: ModelKind, scale: number | null | undefined): number | null {
  const s = scale ?? null;
  if (kind === "48k") {
    if (typeof s !== "number" || !Number.isFinite(Math.fround(s)) || !(Math.fround(s) > 0)) {
      throw new RangeError(`${name} must be a finite number > 0 (as float32) for modelKind "48k", got ${String(s)}`);
    }
  } else if (s !== null) {
    throw new RangeError(`${name} must be null for modelKind "24k", got ${String(s)}`);
  }
  return s;
}

/** Check a length against F frames (in ((F − 1) × 320, F × 320]); returns it, F × 320 when absent. */
export function checkLength(name: string, length: number | undefined, f: number): number {
  const full = f * PAYLOAD_HOP_SAMPLES;
  return length === undefined ? full : checkInt(name, length, full - PAYLOAD_HOP_SAMPLES + 1, full);
}

/** Read a length field and check that it says something (shorter than F frames, longer than F − 1). */
export function readLength(cursor: PayloadCursor, f: number, what: string): number {
  const full = f * PAYLOAD_HOP_SAMPLES;
  const length = cursor.u32(what);
  if (length >= full || length <= full - PAYLOAD_HOP_SAMPLES) {
    throw payloadError("corrupt", `${what} ${length} does not fit ${f} frame(s) (${full - PAYLOAD_HOP_SAMPLES + 1} to ${full - 1} samples; a full length is not written)`);
  }
  return length;
}

/** Read a 48 kHz scale (finite, > 0). */
export function readScale(cursor: PayloadCursor, what: string): number {
  const scale = cursor.f32(what);
  if (!Number.isFinite(scale) || !(scale > 0)) throw payloadError("corrupt", `${what} ${scale} is not a finite number > 0`);
  return scale;
}

/** Extension fields to write. */
export interface ExtensionInput {
  readonly trackId?: number;
  readonly redundancy?: PayloadRedundancy | null;
  readonly comfortNoiseDb?: number | null;
  readonly extensions?: readonly PayloadExtension[];
}

function encodeRedundancy(r: PayloadRedundancy, kind: ModelKind): Uint8Array {
  if (typeof r !== "object" || r === null) throw new TypeError("redundancy must be an object or null");
  const kr = checkInt("redundancy.numCodebooks", r.numCodebooks, 1, PAYLOAD_MODELS[kind].maxCodebooks);
  if (!Array.isArray(r.units) || r.units.length < 1 || r.units.length > MAX_REDUNDANT_UNITS) {
    throw new RangeError(`redundancy.units must hold 1 to ${MAX_REDUNDANT_UNITS} units, got ${(r.units as unknown[] | undefined)?.length}`);
  }
  const units = [...r.units].sort((a, b) => a.distance - b.distance);
  let mask = 0;
  let headerBytes = 2;
  let codeCount = 0;
  const fields = units.map((u, i) => {
    const name = `redundancy.units[${r.units.indexOf(u)}]`;
    const d = checkInt(`${name}.distance`, u.distance, 1, MAX_REDUNDANT_UNITS);
    if (i > 0 && d === units[i - 1]!.distance) throw new RangeError(`${name}.distance must differ from every other unit's, got ${d} twice`);
    mask |= 1 << (d - 1);
    const f = checkInt(`${name}.numFrames`, u.numFrames, 1, MAX_PAYLOAD_FRAMES);
    if (!(u.codes instanceof Uint16Array) || u.codes.length !== kr * f) throw new RangeError(`${name}.codes must be a Uint16Array of numCodebooks × numFrames = ${kr * f} codes`);
    for (const c of u.codes) if (c >= 1024) throw new RangeError(`${name}.codes must be integers in [0, 1024), got ${c}`);
    const length = checkLength(`${name}.lengthSamples`, u.lengthSamples, f);
    const scale = checkScale(`${name}.scale`, kind, u.scale);
    const hasLength = length !== f * PAYLOAD_HOP_SAMPLES;
    headerBytes += varintLength(f * 2 + (hasLength ? 1 : 0)) + (hasLength ? 4 : 0) + (scale !== null ? 4 : 0);
    codeCount += kr * f;
    return { f, length, scale, hasLength, codes: u.codes };
  });
  const out = new Uint8Array(headerBytes + packedByteLength(codeCount, PAYLOAD_BITS_PER_CODE));
  const view = new DataView(out.buffer);
  out[0] = kr;
  out[1] = mask;
  let o = 2;
  for (const u of fields) {
    o = writeVarint(out, o, u.f * 2 + (u.hasLength ? 1 : 0));
    if (u.hasLength) {
      view.setUint32(o, u.length, false);
      o += 4;
    }
    if (u.scale !== null) {
      view.setFloat32(o, u.scale, false);
      o += 4;
    }
  }
  // all blocks' codes in one bit stream, block after block, frame-major within a block
  const starts: number[] = [];
  let at = 0;
  for (const u of fields) {
    starts.push(at);
    at += kr * u.f;
  }
  let b = 0;
  packInto(
    codeCount,
    (i) => {
      while (b + 1 < fields.length && i >= starts[b + 1]!) b++;
      const u = fields[b]!;
      const j = i - starts[b]!;
      return u.codes[(j % kr) * u.f + Math.floor(j / kr)]!;
    },
    PAYLOAD_BITS_PER_CODE,
    out,
    o,
  );
  return out;
}

/**
 * The extensions of a payload as (type, value) pairs in type order; empty when there are none.
 * @throws TypeError / RangeError naming the field
 */
export function encodeExtensions(input: ExtensionInput, kind: ModelKind): Array<{ type: number; value: Uint8Array }> {
  const out: Array<{ type: number; value: Uint8Array }> = [];
  const track = checkInt("trackId", input.trackId ?? 0, 0, 255);
  if (track !== 0) out.push({ type: PAYLOAD_EXTENSION_TYPES.track, value: Uint8Array.of(track) });
  if (input.redundancy) out.push({ type: PAYLOAD_EXTENSION_TYPES.redundancy, value: encodeRedundancy(input.redundancy, kind) });
  if (input.comfortNoiseDb !== undefined && input.comfortNoiseDb !== null) {
    out.push({ type: PAYLOAD_EXTENSION_TYPES.comfortNoise, value: Uint8Array.of(-checkInt("comfortNoiseDb", input.comfortNoiseDb, MIN_COMFORT_NOISE_DB, 0)) });
  }
  for (const [i, e] of (input.extensions ?? []).entries()) {
    const type = checkInt(`extensions[${i}].type`, e?.type, PAYLOAD_EXTENSION_TYPES.comfortNoise + 1, PAYLOAD_CRITICAL_EXTENSION_TYPE - 1);
    if (!(e.value instanceof Uint8Array) || e.value.length > MAX_PAYLOAD_EXTENSION_BYTES) throw new RangeError(`extensions[${i}].value must be a Uint8Array of at most ${MAX_PAYLOAD_EXTENSION_BYTES} bytes`);
    out.push({ type, value: e.value });
  }
  out.sort((a, b) => a.type - b.type);
  for (let i = 1; i < out.length; i++) if (out[i]!.type === out[i - 1]!.type) throw new RangeError(`extensions must have distinct types, got 0x${out[i]!.type.toString(16)} twice`);
  if (out.length > MAX_PAYLOAD_EXTENSIONS) throw new RangeError(`a payload carries at most ${MAX_PAYLOAD_EXTENSIONS} extensions, got ${out.length}`);
  for (const e of out) if (e.value.length > MAX_PAYLOAD_EXTENSION_BYTES) throw new RangeError(`extension 0x${e.type.toString(16)} must be at most ${MAX_PAYLOAD_EXTENSION_BYTES} bytes, got ${e.value.length}`);
  return out;
}

/** Bytes the extension block takes (count, then type, varint length and value each). */
export function extensionsByteLength(entries: ReadonlyArray<{ value: Uint8Array }>): number {
  return entries.length === 0 ? 0 : 1 + entries.reduce((s, e) => s + 1 + varintLength(e.value.length) + e.value.length, 0);
}

/** Write the extension block at `offset`; returns the offset after it. */
export function writeExtensions(out: Uint8Array, offset: number, entries: ReadonlyArray<{ type: number; value: Uint8Array }>): number {
  if (entries.length === 0) return offset;
  let o = offset;
  out[o++] = entries.length;
  for (const e of entries) {
    out[o++] = e.type;
    o = writeVarint(out, o, e.value.length);
    out.set(e.value, o);
    o += e.value.length;
  }
  return o;
}

function decodeRedundancy(value: Uint8Array, kind: ModelKind): DecodedRedundancy {
  const c = new PayloadCursor(value);
  const what = "redundancy";
  const kr = c.u8(`${what} codebooks`);
  const maxK = PAYLOAD_MODELS[kind].maxCodebooks;
  if (kr < 1 || kr > maxK) throw payloadError("corrupt", `${what}: ${kr} codebooks, a ${kind} payload has 1 to ${maxK}`);
  const mask = c.u8(`${what} mask`);
  if (mask === 0) throw payloadError("corrupt", `${what}: no unit (mask 0)`);
  const heads: Array<{ distance: number; f: number; length: number; scale: number | null }> = [];
  let codeCount = 0;
  for (let d = 1; d <= MAX_REDUNDANT_UNITS; d++) {
    if ((mask & (1 << (d - 1))) === 0) continue;
    const v = c.varint(`${what} unit ${d} frames`, 2);
    const f = v >>> 1;
    if (f < 1 || f > MAX_PAYLOAD_FRAMES) throw payloadError("corrupt", `${what}: unit ${d} has ${f} frames, a unit has 1 to ${MAX_PAYLOAD_FRAMES}`);
    const length = (v & 1) !== 0 ? readLength(c, f, `${what} unit ${d} length`) : f * PAYLOAD_HOP_SAMPLES;
    const scale = kind === "48k" ? readScale(c, `${what} unit ${d} scale`) : null;
    heads.push({ distance: d, f, length, scale });
    codeCount += kr * f;
  }
  const need = packedByteLength(codeCount, PAYLOAD_BITS_PER_CODE);
  if (c.left < need) throw payloadError("truncated", `${what}: ${codeCount} codes need ${need} bytes, ${c.left} present`);
  if (c.left > need) throw payloadError("corrupt", `${what}: ${c.left - need} byte(s) after its codes`);
  const all = new Uint16Array(codeCount);
  unpackInto(value, c.offset, codeCount, PAYLOAD_BITS_PER_CODE, all, "frame payload redundancy");
  const usedBits = (codeCount * PAYLOAD_BITS_PER_CODE) % 8;
  if (usedBits !== 0 && value[value.length - 1]! >> usedBits !== 0) throw payloadError("corrupt", `${what}: padding bits after the last code are not 0`);
  let at = 0;
  const units = heads.map((h) => {
    const codes = new Uint16Array(kr * h.f);
    for (let i = 0; i < kr * h.f; i++) codes[(i % kr) * h.f + Math.floor(i / kr)] = all[at + i]!;
    at += kr * h.f;
    return { distance: h.distance, numFrames: h.f, codes, lengthSamples: h.length, scale: h.scale };
  });
  return { numCodebooks: kr, units };
}

/**
 * Read the extension block at the cursor.
 * @throws CodecError `truncated`, `corrupt` (count 0 or above 16, types not increasing, a bad
 *   value), `unsupported` (an unknown critical type)
 */
export function readExtensions(c: PayloadCursor, kind: ModelKind): PayloadExtensionFields {
  const count = c.u8("extension count");
  if (count < 1 || count > MAX_PAYLOAD_EXTENSIONS) throw payloadError("corrupt", `${count} extensions, a payload has 1 to ${MAX_PAYLOAD_EXTENSIONS} when the flag is set`);
  let trackId = 0;
  let redundancy: DecodedRedundancy | null = null;
  let comfortNoiseDb: number | null = null;
  const extensions: PayloadExtension[] = [];
  let last = 0;
  for (let i = 0; i < count; i++) {
    const type = c.u8(`extension ${i} type`);
    if (type <= last) throw payloadError("corrupt", `extension type 0x${type.toString(16)} after 0x${last.toString(16)} (types must be non-zero and increasing)`);
    last = type;
    const length = c.varint(`extension 0x${type.toString(16)} length`, 3);
    const value = c.take(length, `extension 0x${type.toString(16)}`);
    switch (type) {
      case PAYLOAD_EXTENSION_TYPES.track:
        if (length !== 1 || value[0] === 0) throw payloadError("corrupt", `track extension must be 1 byte, 1–255 (got ${length} byte(s))`);
        trackId = value[0]!;
        break;
      case PAYLOAD_EXTENSION_TYPES.redundancy:
        redundancy = decodeRedundancy(value, kind);
        break;
      case PAYLOAD_EXTENSION_TYPES.comfortNoise:
        if (length !== 1 || value[0]! > -MIN_COMFORT_NOISE_DB) throw payloadError("corrupt", `comfort noise extension must be 1 byte, 0–${-MIN_COMFORT_NOISE_DB}`);
        comfortNoiseDb = -value[0]! || 0;
        break;
      default:
        if (type >= PAYLOAD_CRITICAL_EXTENSION_TYPE) throw payloadError("unsupported", `critical extension type 0x${type.toString(16)} is not known to this reader`);
        extensions.push({ type, value: value.slice() });
    }
  }
  return { trackId, redundancy, comfortNoiseDb, extensions };
}
