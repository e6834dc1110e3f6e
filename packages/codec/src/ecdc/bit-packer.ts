import { CodecError } from "../errors.js";

/**
 * Fixed-width integer packing as in the reference `encodec/binary.py` (`BitPacker`/`BitUnpacker`):
 * values are appended LSB-first to a bit accumulator and bytes are emitted as soon as 8 bits are
 * ready; a final partial byte is flushed with zero high bits.
 *
 * Example, bits = 10, values [0x3ff, 0x001]:
 *
 * ```
 * 0xff, // bits 0-7 of value 0
 * 0x07, // bits 8-9 of value 0 (0b11), bits 0-5 of value 1 (0b000001) << 2
 * 0x00, // bits 6-9 of value 1, then 4 zero bits of flush padding
 * ```
 */

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`bits must be an integer in [1, 16], got ${bits}`);
}

/** Bytes that `count` values of `bits` bits occupy once flushed: `ceil(count * bits / 8)`. */
export function packedByteLength(count: number, bits: number): number {
  checkBits(bits);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  return Math.ceil((count * bits) / 8);
}

/**
 * Pack values into `out` at `offset`, flushing the last partial byte; returns the offset after it.
 * `at(i)` gives the i-th value; the caller has checked the room (`packedByteLength`).
 * @internal
 */
export function packInto(count: number, at: (i: number) => number, bits: number, out: Uint8Array, offset: number): number {
  const limit = 2 ** bits;
  let acc = 0;
  let held = 0;
  let o = offset;
  for (let i = 0; i < count; i++) {
    const v = at(i);
    if (!Number.isInteger(v) || v < 0 || v >= limit) throw new RangeError(`codes must be integers in [0, ${limit}); value ${i} in stream order is ${v}`);
    acc += v * 2 ** held; // held < 8, so acc < 2^24: exact
    held += bits;
    while (held >= 8) {
      out[o++] = acc & 0xff;
      acc = Math.floor(acc / 256);
      held -= 8;
    }
  }
  if (held > 0) out[o++] = acc;
  return o;
}

/**
 * Unpack `count` values of `bits` bits from `bytes` starting at `offset` into `out`.
 * @throws CodecError `truncated` when the bytes end first (nothing is read past `bytes`)
 * @internal
 */
export function unpackInto(bytes: Uint8Array, offset: number, count: number, bits: number, out: Uint16Array, source: string): number {
  const need = Math.ceil((count * bits) / 8);
  if (offset + need > bytes.byteLength) {
    throw new CodecError("truncated", `${source}: ${count} codes of ${bits} bits need ${need} bytes, ${Math.max(0, bytes.byteLength - offset)} left`);
  }
  const mask = 2 ** bits - 1;
  let acc = 0;
  let held = 0;
  let o = offset;
  for (let i = 0; i < count; i++) {
    while (held < bits) {
      acc += bytes[o++]! * 2 ** held;
      held += 8;
    }
    out[i] = acc & mask;
    acc = Math.floor(acc / 2 ** bits);
    held -= bits;
  }
  return offset + need;
}

/**
 * Pack integer codes LSB-first with a fixed width, the reference `BitPacker` layout (then `flush()`).
 *
 * @param codes values in `[0, 2^bits)`, in stream order
 * @param bits width of each value, 1–16 (10 for 1024-entry codebooks)
 * @returns a fresh array of `ceil(codes.length * bits / 8)` bytes
 * @throws RangeError for `bits` out of range or a value that does not fit
 */
export function packCodes(codes: ArrayLike<number>, bits: number): Uint8Array {
  const out = new Uint8Array(packedByteLength(codes.length, bits));
  packInto(codes.length, (i) => codes[i]!, bits, out, 0);
  return out;
}

/**
 * Unpack `count` fixed-width codes packed by {@link packCodes} (or the reference `BitPacker`).
 * Bytes after the ones needed are ignored.
 *
 * @param bytes the packed bytes; not retained
 * @param count number of codes to read
 * @param bits width of each value, 1–16
 * @returns a fresh array of `count` codes
 * @throws CodecError `truncated` when `bytes` holds fewer than `ceil(count * bits / 8)` bytes;
 *   RangeError for `bits`/`count` out of range
 */
export function unpackCodes(bytes: Uint8Array, count: number, bits: number): Uint16Array {
  packedByteLength(count, bits);
  const out = new Uint16Array(count);
  unpackInto(bytes, 0, count, bits, out, "packed codes");
  return out;
}
