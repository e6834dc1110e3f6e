/**
 * Single-bit I/O in the order of the reference's `BitPacker(bits=1)` / `BitUnpacker(bits=1)`:
 * bits fill each byte from the least significant bit up; a final partial byte is written with
 * its unused high bits zero.
 *
 * | byte | bit 0 (LSB) | bit 1 | ... | bit 7 (MSB) |
 * |------|-------------|-------|-----|-------------|
 * | 0    | bit #0      | #1    | ... | #7          |
 * | 1    | bit #8      | #9    | ... | #15         |
 */

/** Growable LSB-first bit writer. */
export class BitWriter {
  private buf: Uint8Array;
  private len = 0;
  private cur = 0;
  private nbits = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Append one bit (0 or 1). */
  push(bit: number): void {
    this.cur |= bit << this.nbits;
    if (++this.nbits === 8) {
      if (this.len === this.buf.length) this.grow();
      this.buf[this.len++] = this.cur;
      this.cur = 0;
      this.nbits = 0;
    }
  }

  /** Append `count` copies of `bit`. */
  pushRepeated(bit: number, count: number): void {
    for (let i = 0; i < count; i++) this.push(bit);
  }

  /** Write out a pending partial byte (high bits zero), like `BitPacker.flush`. */
  flush(): void {
    if (this.nbits > 0) {
      if (this.len === this.buf.length) this.grow();
      this.buf[this.len++] = this.cur;
      this.cur = 0;
      this.nbits = 0;
    }
  }

  /** Bytes written so far (call {@link flush} first to include a partial byte). */
  get byteLength(): number {
    return this.len;
  }

  /**
   * The whole bytes written since the last call (a pending partial byte stays pending), removed
   * from the writer: for writing long output piece by piece in bounded memory.
   */
  takeBytes(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
  }
}

/** Where an arithmetic decoder takes its bits from. */
export interface BitSource {
  /** Next bit (0 or 1), or -1 when no more bits are available. */
  pull(): number;
}

/** LSB-first bit reader over `bytes[start, end)`; never reads outside that window. */
export class BitReader implements BitSource {
  private pos: number;
  private cur = 0;
  private nbits = 0;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  /** Next bit, or -1 when the window is exhausted. */
  pull(): number {
    if (this.nbits === 0) {
      if (this.pos >= this.end) return -1;
      this.cur = this.bytes[this.pos++]!;
      this.nbits = 8;
    }
    const bit = this.cur & 1;
    this.cur >>= 1;
    this.nbits--;
    return bit;
  }

  /** Offset of the first byte not yet (even partly) read. */
  get position(): number {
    return this.pos;
  }
}
