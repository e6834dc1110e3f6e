// The seed wire header. Every datagram is this 24-byte header, then the payload:
//
// | offset | size | field        | type          | meaning                                        |
// |-------:|-----:|--------------|---------------|------------------------------------------------|
// |      0 |    4 | seq_num      | uint32 BE     | frame sequence number (wraps at 2^32)          |
// |      4 |    4 | total_length | uint32 BE     | bytes of the whole frame (all fragments)       |
// |      8 |    4 | has_overlap  | uint32 BE 0/1 | 1 if the frame begins with an overlap region   |
// |     12 |    4 | frag_id      | uint32 BE     | identifier of the fragmented message           |
// |     16 |    4 | total_frags  | uint32 BE ≥ 1 | fragments in this message                      |
// |     20 |    4 | frag_index   | uint32 BE     | this fragment's index, 0-based, < total_frags  |
// |     24 |    n | payload      | bytes         | this fragment's slice of the frame             |
//
// BE = big-endian (network byte order). Any other has_overlap value is rejected.

import type { PacketHeader } from "../packet-header.js";
import { HEADER_BYTES } from "../constants.js";
import { findFragmentProblem, type Problem } from "./fragment-rules.js";
import { readU32BE, writeU32BE } from "./uint32-be.js";

export const SEQ_NUM_OFFSET = 0;
export const TOTAL_LENGTH_OFFSET = 4;
export const HAS_OVERLAP_OFFSET = 8;
export const FRAG_ID_OFFSET = 12;
export const TOTAL_FRAGS_OFFSET = 16;
export const FRAG_INDEX_OFFSET = 20;

/** Writes the six header fields at `target[offset..offset+24)`; all checked by the caller. */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  seqNum: number,
  totalLength: number,
  hasOverlap: boolean,
  fragId: number,
  totalFrags: number,
  fragIndex: number,
): void {
  writeU32BE(target, offset + SEQ_NUM_OFFSET, seqNum);
  writeU32BE(target, offset + TOTAL_LENGTH_OFFSET, totalLength);
  writeU32BE(target, offset + HAS_OVERLAP_OFFSET, hasOverlap ? 1 : 0);
  writeU32BE(target, offset + FRAG_ID_OFFSET, fragId);
  writeU32BE(target, offset + TOTAL_FRAGS_OFFSET, totalFrags);
  writeU32BE(target, offset + FRAG_INDEX_OFFSET, fragIndex);
}

/**
 * Reads and checks the header of one datagram without throwing: the header, or the first rule
 * the datagram breaks (its payload is `bytes.subarray(HEADER_BYTES)`, already checked against
 * the header). Shared by `decodePacket` (which throws) and the `Reassembler` (which counts a drop).
 * `payloadBytes` is the payload's length when it is not what follows the header (a sealed
 * datagram's plaintext length).
 */
export function parseHeader(bytes: Uint8Array, payloadBytes = bytes.length - HEADER_BYTES): PacketHeader | Problem {
  if (bytes.length < HEADER_BYTES) {
    return ["truncated", `datagram must be at least ${HEADER_BYTES} bytes, got ${bytes.length}`];
  }
  const hasOverlap = readU32BE(bytes, HAS_OVERLAP_OFFSET);
  if (hasOverlap > 1) return ["bad-field", `hasOverlap must be 0 or 1 on the wire, got ${hasOverlap}`];
  const totalLength = readU32BE(bytes, TOTAL_LENGTH_OFFSET);
  const totalFrags = readU32BE(bytes, TOTAL_FRAGS_OFFSET);
  const fragIndex = readU32BE(bytes, FRAG_INDEX_OFFSET);
  const problem = findFragmentProblem(totalLength, totalFrags, fragIndex, payloadBytes);
  if (problem !== undefined) return problem;
  return {
    seqNum: readU32BE(bytes, SEQ_NUM_OFFSET),
    totalLength,
    hasOverlap: hasOverlap === 1,
    fragId: readU32BE(bytes, FRAG_ID_OFFSET),
    totalFrags,
    fragIndex,
  };
}

/** Tells a {@link Problem} from a header. */
export function isProblem(value: PacketHeader | Problem): value is Problem {
  return Array.isArray(value);
}
