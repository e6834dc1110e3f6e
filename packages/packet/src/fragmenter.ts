import { DEFAULT_MTU_BYTES, HEADER_BYTES, MAX_UINT32 } from "./constants.js";
import { checkInteger } from "./internal/check-integer.js";
import { writeHeader } from "./internal/wire-header.js";

/** Options of {@link splitIntoFragments}. */
export interface SplitOptions {
  /** Frame sequence number written as `seq_num`, uint32. */
  readonly seq: number;
  /** Identifier of this message written as `frag_id`, uint32; unique among messages in flight. */
  readonly fragId: number;
  /**
   * Whether the frame begins with an overlap region (`has_overlap` 1 or 0).
   * @default false
   */
  readonly hasOverlap?: boolean;
  /**
   * Largest datagram in bytes, header included; must be above `HEADER_BYTES` (24).
   * @default 220 (`DEFAULT_MTU_BYTES`: 196 payload bytes per fragment)
   */
  readonly mtuBytes?: number;
  /**
   * Most fragments one frame may be cut into; a frame needing more throws.
   * @default 4294967295 (`MAX_UINT32`, the wire limit)
   */
  readonly maxFragments?: number;
}

/**
 * Number of datagrams {@link splitIntoFragments} makes of a `frameBytes`-byte frame:
 * `max(1, ceil(frameBytes / (mtuBytes − 24)))`.
 *
 * @throws RangeError if `frameBytes` is not a uint32 or `mtuBytes` is not an integer above 24
 *   (TypeError if either is not a number).
 */
export function countFragments(frameBytes: number, mtuBytes: number = DEFAULT_MTU_BYTES): number {
  checkInteger("frameBytes", frameBytes, 0, MAX_UINT32);
  return fragmentCount(frameBytes, payloadBytesPerFragment(mtuBytes));
}

/**
 * Cuts one frame into datagrams of at most `mtuBytes` bytes each, header included. Every
 * fragment but the last carries exactly `mtuBytes − 24` payload bytes; the last carries the
 * rest. A frame that fits is one datagram; an empty frame is one datagram with an empty payload.
 *
 * The datagrams are views into one new buffer owned by the caller (one allocation per call);
 * `frame` is copied, not kept.
 *
 * @throws TypeError if `frame` is not a Uint8Array, `hasOverlap` is not a boolean, or a numeric
 *   option is not a number.
 * @throws RangeError if `seq` or `fragId` is not a uint32, `mtuBytes` is not an integer above
 *   24, `maxFragments` is not an integer ≥ 1, or the frame needs more than `maxFragments`
 *   fragments (or is longer than 2^32 − 1 bytes).
 */
export function splitIntoFragments(frame: Uint8Array, options: SplitOptions): Uint8Array[] {
  if (!(frame instanceof Uint8Array)) throw new TypeError("frame must be a Uint8Array");
  const { seq, fragId, hasOverlap = false, mtuBytes = DEFAULT_MTU_BYTES, maxFragments = MAX_UINT32 } =
    options;
  checkInteger("seq", seq, 0, MAX_UINT32);
  checkInteger("fragId", fragId, 0, MAX_UINT32);
  if (typeof hasOverlap !== "boolean") {
    throw new TypeError(`hasOverlap must be a boolean, got ${typeof hasOverlap}`);
  }
  checkInteger("maxFragments", maxFragments, 1, MAX_UINT32);
  const chunkBytes = payloadBytesPerFragment(mtuBytes);
  const totalLength = frame.length;
  if (totalLength > MAX_UINT32) {
    throw new RangeError(`frame must be at most 4294967295 bytes, got ${totalLength}`);
  }
  const totalFrags = fragmentCount(totalLength, chunkBytes);
  if (totalFrags > maxFragments) {
    throw new RangeError(
      `frame of ${totalLength} bytes needs ${totalFrags} fragments at mtuBytes ${mtuBytes}, more than maxFragments ${maxFragments}`,
    );
  }

  const out = new Uint8Array(totalFrags * HEADER_BYTES + totalLength);
  const datagrams: Uint8Array[] = new Array(totalFrags);
  let at = 0;
  for (let index = 0; index < totalFrags; index++) {
    const start = index * chunkBytes;
    const end = Math.min(start + chunkBytes, totalLength);
    writeHeader(out, at, seq, totalLength, hasOverlap, fragId, totalFrags, index);
    out.set(frame.subarray(start, end), at + HEADER_BYTES);
    const size = HEADER_BYTES + end - start;
    datagrams[index] = out.subarray(at, at + size);
    at += size;
  }
  return datagrams;
}

function payloadBytesPerFragment(mtuBytes: number): number {
  checkInteger("mtuBytes", mtuBytes, HEADER_BYTES + 1, Number.MAX_SAFE_INTEGER);
  return mtuBytes - HEADER_BYTES;
}

function fragmentCount(frameBytes: number, chunkBytes: number): number {
  return frameBytes === 0 ? 1 : Math.ceil(frameBytes / chunkBytes);
}
