/**
 * Serial number arithmetic (RFC 1982) for 32-bit sequence numbers that wrap from 2^32 - 1 to 0.
 *
 * `a` is "after" `b` when going forward from `b` reaches `a` in fewer than 2^31 steps. Sequence
 * numbers exactly 2^31 apart have no defined order: neither is less than the other.
 */
import { MAX_SEQ, SEQ_HALF_RANGE } from "./constants.js";

function checkSeq(value: number, name: string): void {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > MAX_SEQ) {
    throw new RangeError(`${name} must be an integer in [0, 2^32 - 1], got ${value}`);
  }
}

/** True when `value` is a valid sequence number: an integer in [0, 2^32 - 1]. */
export function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_SEQ;
}

/**
 * Signed distance from `b` to `a` (`a - b`) in the wrapping sequence space, in
 * [-2^31, 2^31 - 1]: positive when `a` is after `b`, negative when before, 0 when equal.
 * `seqDiff(1, 0xffffffff)` is 2. When `a` and `b` are exactly 2^31 apart the order is
 * undefined and the result is -2^31.
 * @throws {TypeError | RangeError} when `a` or `b` is not an integer in [0, 2^32 - 1].
 */
export function seqDiff(a: number, b: number): number {
  checkSeq(a, "a");
  checkSeq(b, "b");
  return (a - b) | 0;
}

/**
 * The sequence number `n` steps after `seq` (before it when `n` is negative), wrapping at 2^32.
 * @throws {TypeError | RangeError} when `seq` is not a sequence number or `n` is not a safe integer.
 */
export function seqAdd(seq: number, n: number): number {
  checkSeq(seq, "seq");
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`n must be a safe integer, got ${n}`);
  }
  return (seq + (n % 0x1_0000_0000)) >>> 0;
}

/**
 * True when `a` comes before `b` (RFC 1982 `a < b`). False when equal or exactly 2^31 apart.
 * @throws {TypeError | RangeError} when `a` or `b` is not an integer in [0, 2^32 - 1].
 */
export function seqLessThan(a: number, b: number): boolean {
  const d = seqDiff(a, b);
  return d < 0 && d !== -SEQ_HALF_RANGE;
}

/**
 * True when `a` comes after `b` (RFC 1982 `a > b`). False when equal or exactly 2^31 apart.
 * @throws {TypeError | RangeError} when `a` or `b` is not an integer in [0, 2^32 - 1].
 */
export function seqGreaterThan(a: number, b: number): boolean {
  const d = seqDiff(a, b);
  return d > 0;
}

/**
 * Orders two sequence numbers for `Array.prototype.sort`: negative when `a` comes first.
 * Only a consistent order for sets that span less than 2^31 (any window of a live stream).
 * @throws {TypeError | RangeError} when `a` or `b` is not an integer in [0, 2^32 - 1].
 */
export function compareSeq(a: number, b: number): number {
  return seqDiff(a, b);
}
