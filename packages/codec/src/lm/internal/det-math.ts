/**
 * Deterministic elementary functions for the language model.
 *
 * ECMAScript fixes `+ - * /` and `Math.sqrt` on Numbers to IEEE-754 binary64 with
 * round-to-nearest-even and forbids fused multiply-add, so every engine computes them to the same
 * bit. `Math.exp`, `Math.cos`, `Math.tanh`, ... are only "implementation-approximated" by the
 * spec and do differ between engines and versions. The functions here are built from the basic
 * operations, `Math.round`/`Math.floor`/`Math.abs` (exactly specified) and exact constants
 * only, so sender and receiver get identical results on every platform. Accuracy is about one
 * unit in the last place of a double, far below the float32 resolution the model works at.
 */

/** 2^k for k in [-1022, 1023], built by exact doubling and halving (index k + 1022). */
const POW2_MIN_EXP = -1022;
const POW2_MAX_EXP = 1023;
const POW2 = buildPow2();

function buildPow2(): Float64Array {
  const t = new Float64Array(POW2_MAX_EXP - POW2_MIN_EXP + 1);
  let v = 1;
  for (let k = 0; k <= POW2_MAX_EXP; k++) {
    t[k - POW2_MIN_EXP] = v;
    v *= 2;
  }
  v = 1;
  for (let k = 0; k >= POW2_MIN_EXP; k--) {
    t[k - POW2_MIN_EXP] = v;
    v /= 2;
  }
  return t;
}

/** 2^k for an integer k; exact (subnormal and overflow ranges handled by two exact steps). */
export function pow2(k: number): number {
  if (k >= POW2_MIN_EXP && k <= POW2_MAX_EXP) return POW2[k - POW2_MIN_EXP]!;
  if (k > POW2_MAX_EXP) return Number.POSITIVE_INFINITY;
  if (k < -1074) return 0;
  return POW2[k + 100 - POW2_MIN_EXP]! * POW2[-100 - POW2_MIN_EXP]!;
}

// ln 2 split so that k * LN2_HI is exact for |k| < 2^20: 0x1.62e42fefa39ef35793c7673007e6p-1.
const LN2_HI = 0x162e42fef / 2 ** 33; // first 33 bits
const LN2_LO = 0xa39ef35793c76 / 2 ** 85; // next 52 bits
const LOG2E = 1.4426950408889634; // nearest double to 1 / ln 2 (only picks k; any value works)

// 1/n! for the Taylor polynomial of e^r, |r| <= ln2/2 (degree 13: truncation < 4e-18).
const E2 = 1 / 2;
const E3 = 1 / 6;
const E4 = 1 / 24;
const E5 = 1 / 120;
const E6 = 1 / 720;
const E7 = 1 / 5040;
const E8 = 1 / 40320;
const E9 = 1 / 362880;
const E10 = 1 / 3628800;
const E11 = 1 / 39916800;
const E12 = 1 / 479001600;
const E13 = 1 / 6227020800;

/** e^x by Cody-Waite reduction to |r| <= ln2/2 and a degree-13 polynomial (used to build the tables). */
function expAccurate(x: number): number {
  if (x !== x) return x;
  if (x > 709.782712893384) return Number.POSITIVE_INFINITY;
  if (x < -745.1332191019412) return 0;
  const k = Math.round(x * LOG2E);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = E13;
  p = E12 + r * p;
  p = E11 + r * p;
  p = E10 + r * p;
  p = E9 + r * p;
  p = E8 + r * p;
  p = E7 + r * p;
  p = E6 + r * p;
  p = E5 + r * p;
  p = E4 + r * p;
  p = E3 + r * p;
  p = E2 + r * p;
  p = 1 + r * p;
  p = 1 + r * p;
  if (k > POW2_MAX_EXP) return p * 2 * POW2[k - 1 - POW2_MIN_EXP]!;
  if (k >= POW2_MIN_EXP) return p * POW2[k - POW2_MIN_EXP]!;
  // Result in the subnormal range: scale in two exact-or-rounded-once steps.
  return p * POW2[k + 200 - POW2_MIN_EXP]! * POW2[-200 - POW2_MIN_EXP]!;
}

// Table-driven exp: x = (k / 64) ln 2 + r, |r| <= ln2 / 128, e^x = 2^(k >> 6) * 2^((k & 63) / 64) * e^r.
const EXP_TABLE_BITS = 6;
const EXP_TABLE_SIZE = 1 << EXP_TABLE_BITS;
/** 2^(j / 64), j = 0..63, from the accurate exp (so the table is the same on every engine). */
const EXP2_FRACTION = (() => {
  const t = new Float64Array(EXP_TABLE_SIZE);
  for (let j = 0; j < EXP_TABLE_SIZE; j++) t[j] = expAccurate((j / EXP_TABLE_SIZE) * LN2_HI + (j / EXP_TABLE_SIZE) * LN2_LO);
  return t;
})();
const LN2_64_HI = LN2_HI / EXP_TABLE_SIZE; // exact: division by a power of two
const LN2_64_LO = LN2_LO / EXP_TABLE_SIZE;
const SIXTY_FOUR_OVER_LN2 = 92.33248261689366; // nearest double to 64 / ln 2 (only picks k)

/** e^x, deterministic on every engine, within about 1 ulp. NaN in, NaN out. */
export function detExp(x: number): number {
  if (x !== x) return x;
  if (x > 709.782712893384) return Number.POSITIVE_INFINITY;
  if (x < -745.1332191019412) return 0;
  const k = Math.round(x * SIXTY_FOUR_OVER_LN2);
  const r = x - k * LN2_64_HI - k * LN2_64_LO;
  // e^r - 1 for |r| <= 0.0055: degree 6 (truncation below 2e-19).
  const q = r * (1 + r * (E2 + r * (E3 + r * (E4 + r * (E5 + r * E6)))));
  const hi = k >> EXP_TABLE_BITS; // floor(k / 64) (k fits in 32 bits here)
  const t = EXP2_FRACTION[k & (EXP_TABLE_SIZE - 1)]!;
  const m = t + t * q;
  if (hi > POW2_MAX_EXP) return m * 2 * POW2[hi - 1 - POW2_MIN_EXP]!;
  if (hi >= POW2_MIN_EXP) return m * POW2[hi - POW2_MIN_EXP]!;
  return m * POW2[hi + 200 - POW2_MIN_EXP]! * POW2[-200 - POW2_MIN_EXP]!;
}

// ln(10000) as a double: 0x1.26bb1bbb55516p+3.
const LN_10000 = 0x126bb1bbb55516 / 2 ** 49;

/** 10000^e for |e| <= 1, as exp(e ln 10000); deterministic. */
export function detPow10000(e: number): number {
  return detExp(e * LN_10000);
}

// pi/2 split in 32-bit pieces: 0x1.921fb54442d18469898cc51701b8p0.
const PIO2_1 = 0x1921fb544 / 2 ** 32;
const PIO2_2 = 0x42d18469 / 2 ** 64;
const PIO2_3 = 0x898cc517 / 2 ** 96;
const TWO_OVER_PI = 0.6366197723675814; // nearest double to 2/pi (only picks the quadrant)

// Taylor coefficients (-1)^n / (2n)! and (-1)^n / (2n+1)! for |r| <= pi/4 + a little.
const C2 = -1 / 2;
const C4 = 1 / 24;
const C6 = -1 / 720;
const C8 = 1 / 40320;
const C10 = -1 / 3628800;
const C12 = 1 / 479001600;
const C14 = -1 / 87178291200;
const C16 = 1 / 20922789888000;
const C18 = -1 / 6402373705728000;
const S3 = -1 / 6;
const S5 = 1 / 120;
const S7 = -1 / 5040;
const S9 = 1 / 362880;
const S11 = -1 / 39916800;
const S13 = 1 / 6227020800;
const S15 = -1 / 1307674368000;
const S17 = 1 / 355687428096000;
const S19 = -1 / 121645100408832000;

function cosKernel(r: number): number {
  const z = r * r;
  return 1 + z * (C2 + z * (C4 + z * (C6 + z * (C8 + z * (C10 + z * (C12 + z * (C14 + z * (C16 + z * C18))))))));
}

function sinKernel(r: number): number {
  const z = r * r;
  return r + r * z * (S3 + z * (S5 + z * (S7 + z * (S9 + z * (S11 + z * (S13 + z * (S15 + z * (S17 + z * S19))))))));
}

/** Reduce x to r in about [-pi/4, pi/4] with x = n pi/2 + r; accurate for |x| < 2^30. */
function reduce(x: number): { n: number; r: number } {
  const n = Math.round(x * TWO_OVER_PI);
  const r = x - n * PIO2_1 - n * PIO2_2 - n * PIO2_3;
  return { n, r };
}

/** cos(x) for |x| < 2^30 (the sinusoidal positions of the model); deterministic. */
export function detCos(x: number): number {
  const { n, r } = reduce(x);
  switch (n & 3) {
    case 0:
      return cosKernel(r);
    case 1:
      return -sinKernel(r);
    case 2:
      return -cosKernel(r);
    default:
      return sinKernel(r);
  }
}

/** sin(x) for |x| < 2^30; deterministic. */
export function detSin(x: number): number {
  const { n, r } = reduce(x);
  switch (n & 3) {
    case 0:
      return sinKernel(r);
    case 1:
      return cosKernel(r);
    case 2:
      return -sinKernel(r);
    default:
      return -cosKernel(r);
  }
}

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 0x1.20dd750429b6dp0
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 0x1.20dd750429b6dp-1
const ERF_SERIES_LIMIT = 2.5;
const ERF_ONE_LIMIT = 6;
const ERFC_CF_TERMS = 60;
const ERF_MAX_TERMS = 80;
/** 1 / (2n + 1) for the erf series (rounded once; the same on every engine). */
const INV_ODD = Float64Array.from({ length: ERF_MAX_TERMS }, (_, n) => 1 / (2 * n + 1));

/**
 * erf(x), deterministic. For |x| < 2.5 the all-positive series
 * erf(x) = 2/sqrt(pi) e^(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)) (no cancellation); above,
 * erfc from its continued fraction evaluated backwards with a fixed number of terms; 1 beyond 6.
 */
export function detErf(x: number): number {
  if (x !== x) return x;
  const a = x < 0 ? -x : x;
  let v: number;
  if (a < ERF_SERIES_LIMIT) {
    const z = 2 * a * a;
    let term = a;
    let sum = a;
    for (let n = 1; n < ERF_MAX_TERMS; n++) {
      term = term * z * INV_ODD[n]!;
      sum += term;
      if (term < sum * 1e-17) break;
    }
    v = TWO_OVER_SQRT_PI * detExp(-a * a) * sum;
  } else if (a < ERF_ONE_LIMIT) {
    // erfc(a) = e^(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
    let f = a;
    for (let n = ERFC_CF_TERMS; n >= 1; n--) f = a + n / 2 / f;
    v = 1 - (ONE_OVER_SQRT_PI * detExp(-a * a)) / f;
  } else {
    v = 1;
  }
  return x < 0 ? -v : v;
}

/** Exact-erf GELU, x * (1 + erf(x / sqrt 2)) / 2; deterministic. */
export function detGelu(x: number): number {
  return 0.5 * x * (1 + detErf(x * Math.SQRT1_2));
}
