import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AC_EXHAUSTED, AC_NO_SYMBOL, ArithmeticDecoder, ArithmeticEncoder } from "./arithmetic-coder.js";
import { BitReader, BitWriter } from "./bit-io.js";
import { mulberry32 } from "../internal/mulberry32.js";
import { buildQuantizedCdf } from "./quantized-cdf.js";

const RANGE = 2 ** 24;

/**
 * Line-by-line transcription of the reference `ArithmeticCoder` (encodec/quantization/ac.py) with
 * unbounded BigInt `low`/`high`, and of `BitPacker(bits=1)`: the oracle the optimized coder must
 * match bit for bit. The effective bounds use binary64 like Python's `range * (delta / 2**24)`.
 */
class ReferenceCoder {
  low = 0n;
  high = 0n;
  maxBit = -1;
  peakMaxBit = -1;
  bits: number[] = [];
  private grow(): void {
    while (this.high - this.low + 1n < BigInt(RANGE)) {
      this.low *= 2n;
      this.high = this.high * 2n + 1n;
      this.maxBit++;
    }
    this.peakMaxBit = Math.max(this.peakMaxBit, this.maxBit);
  }
  push(symbol: number, cdf: Uint32Array): void {
    this.grow();
    const delta = Number(this.high - this.low + 1n);
    const rangeLow = symbol === 0 ? 0 : cdf[symbol - 1]!;
    const rangeHigh = cdf[symbol]! - 1;
    const effLow = Math.ceil(rangeLow * (delta / RANGE));
    const effHigh = Math.floor(rangeHigh * (delta / RANGE));
    this.high = this.low + BigInt(effHigh);
    this.low = this.low + BigInt(effLow);
    while (this.maxBit >= 0) {
      const b1 = this.low >> BigInt(this.maxBit);
      const b2 = this.high >> BigInt(this.maxBit);
      if (b1 !== b2) break;
      this.low -= b1 << BigInt(this.maxBit);
      this.high -= b1 << BigInt(this.maxBit);
      this.maxBit--;
      this.bits.push(Number(b1));
    }
  }
  /** The symbol whose interval contains the straddle point 2^maxBit: keeps the carry unresolved. */
  straddlingSymbol(cdf: Uint32Array, n: number): number {
    this.grow();
    const delta = Number(this.high - this.low + 1n);
    const mid = Number((1n << BigInt(this.maxBit)) - this.low);
    for (let s = 0; s < n; s++) {
      const lo = Math.ceil((s === 0 ? 0 : cdf[s - 1]!) * (delta / RANGE));
      const hi = Math.floor((cdf[s]! - 1) * (delta / RANGE));
      if (lo <= mid - 1 && mid <= hi) return s;
    }
    return 0;
  }
  flush(): Uint8Array {
    while (this.maxBit >= 0) {
      this.bits.push(Number((this.low >> BigInt(this.maxBit)) & 1n));
      this.maxBit--;
    }
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => (out[i >> 3]! |= b << (i & 7)));
    return out;
  }
}

/** A random pdf over n symbols: softmax of scaled random logits (peaky when `temperature` is small). */
function randomPdf(rnd: () => number, n: number, temperature: number): Float32Array {
  const z = Array.from({ length: n }, () => (rnd() * 2 - 1) / temperature);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return Float32Array.from(e, (v) => v / s);
}

function sample(rnd: () => number, pdf: Float32Array): number {
  let u = rnd();
  for (let i = 0; i < pdf.length; i++) {
    u -= pdf[i]!;
    if (u <= 0) return i;
  }
  return pdf.length - 1;
}

interface Case {
  cdfs: Uint32Array[];
  symbols: number[];
}

function randomCase(seed: number, steps: number, n: number, mode: "sampled" | "uniform" | "straddle"): { c: Case; reference: Uint8Array; peakMaxBit: number } {
  const rnd = mulberry32(seed);
  const ref = new ReferenceCoder();
  const cdfs: Uint32Array[] = [];
  const symbols: number[] = [];
  for (let t = 0; t < steps; t++) {
    const pdf = randomPdf(rnd, n, 0.05 + rnd() * 3);
    const cdf = new Uint32Array(n);
    buildQuantizedCdf(pdf, 0, n, cdf);
    const s = mode === "sampled" ? sample(rnd, pdf) : mode === "uniform" ? Math.floor(rnd() * n) : ref.straddlingSymbol(cdf, n);
    ref.push(s, cdf);
    cdfs.push(cdf);
    symbols.push(s);
  }
  const peakMaxBit = ref.peakMaxBit;
  return { c: { cdfs, symbols }, reference: ref.flush(), peakMaxBit };
}

function encode({ cdfs, symbols }: Case): Uint8Array {
  const w = new BitWriter(8);
  const enc = new ArithmeticEncoder(w);
  symbols.forEach((s, i) => enc.push(s, cdfs[i]!));
  enc.finish();
  return w.toBytes();
}

function decode(bytes: Uint8Array, { cdfs }: Case): { symbols: number[]; position: number } {
  const r = new BitReader(bytes, 0, bytes.length);
  const dec = new ArithmeticDecoder(r);
  const symbols = cdfs.map((cdf) => dec.pull(cdf, cdf.length));
  return { symbols, position: r.position };
}

describe("ArithmeticEncoder / ArithmeticDecoder against the reference coder", () => {
  test.each([
    ["sampled symbols, 1024-ary", 1, 400, 1024, "sampled"],
    ["improbable symbols, 1024-ary", 2, 300, 1024, "uniform"],
    ["binary alphabet", 3, 2000, 2, "sampled"],
    ["carry kept unresolved for 60 symbols (max_bit far beyond 53)", 4, 60, 1024, "straddle"],
    ["carry kept unresolved, small alphabet", 5, 300, 3, "straddle"],
  ] as const)("%s: same bytes as the BigInt transcription, and decodes back exactly", (_name, seed, steps, n, mode) => {
    const { c, reference, peakMaxBit } = randomCase(seed, steps, n, mode);
    if (mode === "straddle") expect(peakMaxBit).toBeGreaterThan(80);
    const bytes = encode(c);
    expect(bytes).toEqual(reference);
    const { symbols, position } = decode(bytes, c);
    expect(symbols).toEqual(c.symbols);
    expect(position).toBe(bytes.length); // the decoder reads exactly the encoder's bytes
  });

  test("property: random alphabets, lengths and symbol choices round-trip and match the reference", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 2, max: 1100 }), fc.constantFrom("sampled", "uniform", "straddle"), (seed, steps, n, mode) => {
        const { c, reference } = randomCase(seed, steps, n, mode as "sampled");
        const bytes = encode(c);
        expect(bytes).toEqual(reference);
        expect(decode(bytes, c).symbols).toEqual(c.symbols);
      }),
      { numRuns: 30, seed: 7 },
    );
  });

  test("no symbols: no bytes", () => {
    expect(encode({ cdfs: [], symbols: [] })).toEqual(new Uint8Array(0));
  });

  test("the decoder never reads past its window: truncated input reports exhaustion", () => {
    const { c } = randomCase(9, 200, 1024, "sampled");
    const bytes = encode(c);
    const cut = bytes.subarray(0, bytes.length - 3);
    const r = new BitReader(cut, 0, cut.length);
    const dec = new ArithmeticDecoder(r);
    const out = c.cdfs.map((cdf) => dec.pull(cdf, cdf.length));
    expect(out).toContain(AC_EXHAUSTED);
    expect(r.position).toBe(cut.length);
  });

  test("bits that fall between two symbols' intervals are reported, not decoded", () => {
    // Symbol 0 of [3 * 2^21, 2^24] leaves a width of 3 * 2^21; after a 0 is shifted out and two
    // doublings the width is 1.5 * 2^24, so with cdf [3, 2^24] symbol 0 covers offsets 0..3
    // (floor(2 * 1.5)) and symbol 1 starts at ceil(3 * 1.5) = 5: offset 4 belongs to no symbol.
    // Bits in reading order: the 24-bit value 1, then 0, 0: offset 4 * 1 + 0 + 0 = 4.
    const bytes = Uint8Array.of(
      0x00, 0x00, // bits 0..15: zero
      0x80, // bit 23 = 1 (the 24-bit value is 1)
      0x00, // bits 24, 25 = 0
    );
    const dec = new ArithmeticDecoder(new BitReader(bytes, 0, bytes.length));
    expect(dec.pull(Uint32Array.of(3 * 2 ** 21, RANGE), 2)).toBe(0);
    expect(dec.pull(Uint32Array.of(3, RANGE), 2)).toBe(AC_NO_SYMBOL);
    // The same bits with bit 25 set (offset 5) decode as symbol 1.
    const ok = new ArithmeticDecoder(new BitReader(Uint8Array.of(0x00, 0x00, 0x80, 0x02), 0, 4));
    expect(ok.pull(Uint32Array.of(3 * 2 ** 21, RANGE), 2)).toBe(0);
    expect(ok.pull(Uint32Array.of(3, RANGE), 2)).toBe(1);
  });
});

describe("BitWriter / BitReader (BitPacker(bits=1) order)", () => {
  test("LSB first, partial byte zero-padded", () => {
    const w = new BitWriter(1);
    for (const b of [1, 0, 1, 1, 0, 0, 0, 0, /* byte 1 */ 1, 1]) w.push(b);
    w.flush();
    expect(w.toBytes()).toEqual(Uint8Array.of(
      0x0d, // 0b00001101: bits #0, #2, #3
      0x03, // 0b00000011: bits #8, #9, then zero padding
    ));
    const r = new BitReader(w.toBytes(), 0, 2);
    const bits = Array.from({ length: 17 }, () => r.pull());
    expect(bits).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, -1]);
  });

  test("the reader stays inside its window of a larger buffer", () => {
    const r = new BitReader(Uint8Array.of(0xff, 0x01, 0xff), 1, 2);
    expect(Array.from({ length: 9 }, () => r.pull())).toEqual([1, 0, 0, 0, 0, 0, 0, 0, -1]);
    expect(r.position).toBe(2);
  });
});
