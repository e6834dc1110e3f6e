import { LM_TOTAL_RANGE } from "./constants.js";
import { pow2 } from "./internal/det-math.js";
import type { BitSource, BitWriter } from "./bit-io.js";

// Module-local copies: imported bindings can cost a property lookup per use in some loaders.
const RANGE = LM_TOTAL_RANGE;
const pow2Of = pow2;

/**
 * The reference's arithmetic coder (`encodec/quantization/ac.py`, `total_range_bits = 24`),
 * producing the same bits.
 *
 * The reference keeps `low` and `high` as unbounded integers below `2^(max_bit + 1)`: before each
 * symbol it doubles the range until its width is at least 2^24, narrows it to the symbol's share
 * (`ceil(cdf[s-1] * width / 2^24)`, `floor((cdf[s] - 1) * width / 2^24)`), then emits the leading
 * bits `low` and `high` share. After that flush `low < 2^max_bit <= high` always holds, so both sit
 * within one range width (< 2^25) of `2^max_bit`. Here they are kept relative to `2^max_bit`
 * (`L = low - 2^max_bit`, `H = high - 2^max_bit`), small integers that binary64 holds exactly
 * however long a carry stays unresolved; the bits are the reference's, bit for bit.
 * `max_bit = -1` (empty state) is `L = H = -1/2`, which the doubling step turns into the
 * reference's `low = 0, high = 1` at `max_bit = 0`.
 */
export class ArithmeticEncoder {
  private m = -1;
  private lo = -0.5;
  private hi = -0.5;

  constructor(private readonly out: BitWriter) {}

  /**
   * Code `symbol` with the quantized CDF `cdf` (from `buildQuantizedCdf`, `cdf.length` or `n`
   * entries, last at most 2^24). The caller guarantees `0 <= symbol < n`.
   */
  push(symbol: number, cdf: Uint32Array): void {
    let width = this.hi - this.lo + 1;
    while (width < RANGE) {
      this.lo *= 2;
      this.hi = 2 * this.hi + 1;
      this.m++;
      width = this.hi - this.lo + 1;
    }
    const s = width / RANGE;
    const rangeLow = symbol === 0 ? 0 : cdf[symbol - 1]!;
    const rangeHigh = cdf[symbol]! - 1;
    const base = this.lo;
    this.hi = base + Math.floor(rangeHigh * s);
    this.lo = base + Math.ceil(rangeLow * s);
    this.flushCommonPrefix();
  }

  /** Emit the remaining bits of `low` and the final partial byte, like the reference's `flush`. */
  finish(): void {
    const m = this.m;
    if (m >= 0) {
      if (m < 27) {
        const low = pow2Of(m) + this.lo;
        for (let k = m; k >= 0; k--) this.out.push((low >>> k) & 1);
      } else {
        // low = 2^m + L with -2^26 <= L < 0: a 0, then ones down to bit 27, then 2^27 + L.
        this.out.push(0);
        this.out.pushRepeated(1, m - 27);
        const low = 2 ** 27 + this.lo;
        for (let k = 26; k >= 0; k--) this.out.push((low >>> k) & 1);
      }
    }
    this.m = -1;
    this.lo = -0.5;
    this.hi = -0.5;
    this.out.flush();
  }

  private flushCommonPrefix(): void {
    const out = this.out;
    let m = this.m;
    let L = this.lo;
    let H = this.hi;
    while (m >= 0) {
      if (L < 0 && H >= 0) break;
      if (L >= 0) {
        // Both in the upper half: emit 1; the absolute values L, H are now below 2^m.
        out.push(1);
        m--;
        while (m >= 0 && H < pow2Of(m)) {
          out.push(0);
          m--;
        }
        if (m < 0) {
          L = H = -0.5;
          break;
        }
        const p = pow2Of(m);
        L -= p;
        H -= p;
      } else {
        // Both in the lower half: emit 0; track distances below the top of the new range.
        out.push(0);
        m--;
        const dL = -1 - L;
        const dH = -1 - H;
        while (m >= 0 && dL < pow2Of(m)) {
          out.push(1);
          m--;
        }
        if (m < 0) {
          L = H = -0.5;
          break;
        }
        const p = pow2Of(m);
        L = p - 1 - dL;
        H = p - 1 - dH;
      }
    }
    this.m = m;
    this.lo = L;
    this.hi = H;
  }
}

/** Result of {@link ArithmeticDecoder.pull} when the input ran out. */
export const AC_EXHAUSTED = -1;
/** Result of {@link ArithmeticDecoder.pull} when the input matches no symbol (corrupt or desynchronized). */
export const AC_NO_SYMBOL = -2;

/** The reference's `ArithmeticDecoder`; see {@link ArithmeticEncoder} for the representation. */
export class ArithmeticDecoder {
  private m = -1;
  private lo = -0.5;
  private hi = -0.5;
  private cur = -0.5;

  constructor(private readonly input: BitSource) {}

  /**
   * Decode one symbol with the same CDF the encoder used (`n` entries).
   *
   * @returns the symbol, {@link AC_EXHAUSTED} when more bits were needed than the input has, or
   *   {@link AC_NO_SYMBOL} when the bits fall between symbols (impossible for a valid stream)
   */
  pull(cdf: Uint32Array, n: number): number {
    let width = this.hi - this.lo + 1;
    while (width < RANGE) {
      const bit = this.input.pull();
      if (bit < 0) return AC_EXHAUSTED;
      this.lo *= 2;
      this.hi = 2 * this.hi + 1;
      this.cur = 2 * this.cur + bit;
      this.m++;
      width = this.hi - this.lo + 1;
    }
    const s = width / RANGE;
    const c = this.cur - this.lo;
    let a = 0;
    let b = n - 1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      const effLow = Math.ceil((mid === 0 ? 0 : cdf[mid - 1]!) * s);
      if (c >= effLow) {
        const effHigh = Math.floor((cdf[mid]! - 1) * s);
        if (c <= effHigh) {
          const base = this.lo;
          this.hi = base + effHigh;
          this.lo = base + effLow;
          this.flushCommonPrefix();
          return mid;
        }
        a = mid + 1;
      } else {
        b = mid - 1;
      }
    }
    return AC_NO_SYMBOL;
  }

  private flushCommonPrefix(): void {
    let m = this.m;
    let L = this.lo;
    let H = this.hi;
    let C = this.cur;
    while (m >= 0) {
      if (L < 0 && H >= 0) break;
      if (L >= 0) {
        m--;
        while (m >= 0 && H < pow2Of(m)) m--;
        if (m < 0) {
          L = H = C = -0.5;
          break;
        }
        const p = pow2Of(m);
        L -= p;
        H -= p;
        C -= p;
      } else {
        m--;
        const dL = -1 - L;
        const dH = -1 - H;
        const dC = -1 - C;
        while (m >= 0 && dL < pow2Of(m)) m--;
        if (m < 0) {
          L = H = C = -0.5;
          break;
        }
        const p = pow2Of(m);
        L = p - 1 - dL;
        H = p - 1 - dH;
        C = p - 1 - dC;
      }
    }
    this.m = m;
    this.lo = L;
    this.hi = H;
    this.cur = C;
  }
}
