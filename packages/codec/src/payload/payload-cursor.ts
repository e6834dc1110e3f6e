import { CodecError } from "../errors.js";

/** Error of a payload read: `truncated` (bytes end early), `corrupt` (a value out of range), `unsupported` (a version or feature this reader does not know). */
export function payloadError(code: "truncated" | "corrupt" | "unsupported", message: string): CodecError {
  return new CodecError(code, `frame payload: ${message}`);
}

/**
 * Bounded big-endian reads over one payload's bytes: every read checks the bytes left first and
 * throws `truncated` naming the field, so nothing is read past the view.
 */
export class PayloadCursor {
  private readonly view: DataView;
  /** Offset of the next read. */
  offset: number;

  constructor(readonly bytes: Uint8Array, offset = 0) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }

  /** Bytes left after the offset. */
  get left(): number {
    return this.bytes.length - this.offset;
  }

  /** Throw `truncated` unless `n` bytes are left. */
  need(n: number, what: string): void {
    if (this.left < n) throw payloadError("truncated", `${what} needs ${n} byte(s), ${Math.max(0, this.left)} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset, false);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, false);
    this.offset += 4;
    return v;
  }

  f32(what: string): number {
    this.need(4, what);
    const v = this.view.getFloat32(this.offset, false);
    this.offset += 4;
    return v;
  }

  /** `n` bytes as a view (not a copy). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /**
   * Unsigned LEB128 of at most `maxBytes` bytes, canonical: the shortest form (a last byte of 0
   * after the first is `corrupt`, as is a value that needs more bytes).
   */
  varint(what: string, maxBytes: number): number {
    let value = 0;
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw payloadError("corrupt", `${what}: varint not in its shortest form`);
        return value;
      }
    }
    throw payloadError("corrupt", `${what}: varint longer than ${maxBytes} bytes`);
  }
}

/** Bytes of `value` as an unsigned LEB128 varint. */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/** Write `value` as an unsigned LEB128 varint at `offset`; returns the offset after it. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  let o = offset;
  while (value >= 0x80) {
    out[o++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[o++] = value;
  return o;
}
