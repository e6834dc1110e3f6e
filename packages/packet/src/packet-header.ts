import { HEADER_BYTES, MAX_UINT32, SECURE_FORMAT_VERSION, SECURE_OVERHEAD_BYTES } from "./constants.js";
import { MIN_SEALED_BYTES, VERSION_OFFSET } from "./internal/secure-header.js";
import { PacketError } from "./errors.js";
import { checkInteger } from "./internal/check-integer.js";
import { findFragmentProblem } from "./internal/fragment-rules.js";
import { isProblem, parseHeader, writeHeader } from "./internal/wire-header.js";

/**
 * The six fields of the seed wire header (24 bytes, each a big-endian uint32 on the wire; the
 * byte table is in `internal/wire-header.ts` and the README).
 */
export interface PacketHeader {
  /** Offset 0: frame sequence number, uint32 (wraps at 2^32). */
  readonly seqNum: number;
  /** Offset 4: bytes of the whole frame across all its fragments, uint32. */
  readonly totalLength: number;
  /** Offset 8: the frame begins with an overlap region to crossfade (1 or 0 on the wire). */
  readonly hasOverlap: boolean;
  /** Offset 12: identifier of the fragmented message, uint32. */
  readonly fragId: number;
  /** Offset 16: fragments in the message, uint32 ≥ 1. */
  readonly totalFrags: number;
  /** Offset 20: this fragment's 0-based index, uint32 < `totalFrags`. */
  readonly fragIndex: number;
}

/** A decoded datagram. */
export interface DecodedPacket {
  /** The header fields. */
  readonly header: PacketHeader;
  /**
   * The payload: a view (`subarray`) into the decoded bytes, not a copy. It changes if they
   * change; copy it (`payload.slice()`) to keep it past the datagram buffer's reuse.
   */
  readonly payload: Uint8Array;
}

/**
 * Bytes a datagram with `payloadBytes` of payload takes on the wire: `HEADER_BYTES + payloadBytes`.
 *
 * @throws RangeError if `payloadBytes` is not a non-negative safe integer (TypeError if not a number).
 */
export function encodedLength(payloadBytes: number): number {
  checkInteger("payloadBytes", payloadBytes, 0, Number.MAX_SAFE_INTEGER - HEADER_BYTES);
  return HEADER_BYTES + payloadBytes;
}

/**
 * Writes header and payload into `target` at `offset` without allocating; returns the bytes
 * written (`encodedLength(payload.length)`). `payload` is copied; neither buffer is kept.
 *
 * @throws TypeError if `target` or `payload` is not a Uint8Array, or a header field has the
 *   wrong type.
 * @throws RangeError if a header field is not a uint32, the fields break a rule the decoder
 *   enforces (`totalFrags` ≥ 1, `fragIndex` < `totalFrags`, payload length consistent with
 *   `totalLength`), or `target` has no room at `offset`.
 */
export function encodeInto(
  target: Uint8Array,
  offset: number,
  header: PacketHeader,
  payload: Uint8Array,
): number {
  if (!(target instanceof Uint8Array)) throw new TypeError("target must be a Uint8Array");
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  checkHeader(header, payload.length);
  const written = HEADER_BYTES + payload.length;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + written > target.length) {
    throw new RangeError(
      `offset must leave ${written} bytes in target (${target.length} bytes), got ${String(offset)}`,
    );
  }
  writeHeader(
    target,
    offset,
    header.seqNum,
    header.totalLength,
    header.hasOverlap,
    header.fragId,
    header.totalFrags,
    header.fragIndex,
  );
  copyPayload(target, offset + HEADER_BYTES, payload);
  return written;
}

/**
 * Encodes one datagram into a new Uint8Array of `encodedLength(payload.length)` bytes, owned by
 * the caller. Throws as {@link encodeInto}.
 */
export function encodePacket(header: PacketHeader, payload: Uint8Array): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  encodeInto(out, 0, header, payload);
  return out;
}

/**
 * Decodes one datagram (`bytes` is exactly the datagram; pass a `subarray` for a window).
 * The returned payload is a view into `bytes`, not a copy.
 *
 * @throws PacketError `"truncated"` under 24 bytes; `"bad-field"` for `has_overlap` not 0/1,
 *   `total_frags` 0, `frag_index` ≥ `total_frags` or `total_frags` > max(1, `total_length`);
 *   `"bad-length"` for a payload longer than `total_length`, a single fragment whose payload is
 *   not `total_length` bytes, or an empty fragment of a split message.
 * @throws TypeError if `bytes` is not a Uint8Array.
 */
export function decodePacket(bytes: Uint8Array): DecodedPacket {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
  const header = parseHeader(bytes);
  if (isProblem(header)) throw new PacketError(header[0], header[1]);
  return { header, payload: bytes.subarray(HEADER_BYTES) };
}

/** Below this many bytes a plain loop copies faster than `TypedArray.set` (V8, Node 20). */
const LOOP_COPY_MAX_BYTES = 32;

function copyPayload(target: Uint8Array, at: number, payload: Uint8Array): void {
  const length = payload.length;
  if (length > LOOP_COPY_MAX_BYTES) {
    target.set(payload, at);
    return;
  }
  for (let i = 0; i < length; i++) target[at + i] = payload[i]!;
}

function checkHeader(header: PacketHeader, payloadBytes: number): void {
  if (typeof header !== "object" || header === null) throw new TypeError("header must be an object");
  checkInteger("header.seqNum", header.seqNum, 0, MAX_UINT32);
  checkInteger("header.totalLength", header.totalLength, 0, MAX_UINT32);
  checkInteger("header.fragId", header.fragId, 0, MAX_UINT32);
  checkInteger("header.totalFrags", header.totalFrags, 0, MAX_UINT32);
  checkInteger("header.fragIndex", header.fragIndex, 0, MAX_UINT32);
  if (typeof header.hasOverlap !== "boolean") {
    throw new TypeError(`header.hasOverlap must be a boolean, got ${typeof header.hasOverlap}`);
  }
  const problem = findFragmentProblem(header.totalLength, header.totalFrags, header.fragIndex, payloadBytes);
  if (problem === undefined) return;
  // "bad-field" messages name a header field, "bad-length" ones name the payload.
  throw new RangeError(problem[0] === "bad-field" ? `header.${problem[1]}` : problem[1]);
}

/**
 * Reads and checks the seed header of a sealed datagram (see `DatagramSealer`): the header
 * rules hold for the plaintext length, `datagram.length − 54`, and byte 24 is the format
 * version. Authenticates nothing: use a `DatagramOpener` for that.
 *
 * @throws PacketError `"truncated"` under 54 bytes, `"bad-field"` for another version or a bad
 *   header field, `"bad-length"` as {@link decodePacket} for the plaintext length.
 * @throws TypeError if `bytes` is not a Uint8Array.
 */
export function decodeSealedHeader(bytes: Uint8Array): PacketHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
  if (bytes.length < MIN_SEALED_BYTES) {
    throw new PacketError("truncated", `sealed datagram must be at least ${MIN_SEALED_BYTES} bytes, got ${bytes.length}`);
  }
  if (bytes[VERSION_OFFSET] !== SECURE_FORMAT_VERSION) {
    throw new PacketError("bad-field", `version must be ${SECURE_FORMAT_VERSION}, got ${bytes[VERSION_OFFSET]}`);
  }
  const header = parseHeader(bytes, bytes.length - HEADER_BYTES - SECURE_OVERHEAD_BYTES);
  if (isProblem(header)) throw new PacketError(header[0], header[1]);
  return header;
}
