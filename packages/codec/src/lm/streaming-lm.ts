import { LM_LAYER_NORM_EPS } from "./constants.js";
import { detCos, detGelu, detPow10000, detSin, detExp } from "./internal/det-math.js";
import { layerNorm, matVec, softmax } from "./internal/kernels.js";
import type { LmWeights } from "./lm-weights.js";

/**
 * The EnCodec language model run one frame at a time, with its streaming state (a key/value
 * cache per layer holding the last `pastContext` inputs, and the frame offset for the positional
 * embedding). Each {@link StreamingLm.step} takes the previous frame's codes and returns, for
 * each of the first `numCodebooks` codebooks, a probability distribution over the next code.
 *
 * Deterministic: only IEEE-754 basic operations in a fixed order and the functions of
 * `internal/det-math.ts` are used, so every JavaScript engine produces bit-identical
 * probabilities for the same weights and inputs (see the README, "Language model").
 *
 * Not thread-safe; one instance per coder. Buffers are preallocated at construction.
 */
export class StreamingLm {
  /** Codebooks this instance predicts (the first `numCodebooks` of the model). */
  readonly numCodebooks: number;
  /** Codebook size. */
  readonly cardinality: number;
  private readonly w: LmWeights;
  private readonly dim: number;
  private readonly hidden: number;
  private readonly heads: number;
  private readonly headDim: number;
  private readonly past: number;
  private readonly invFreq: Float64Array;
  /**
   * Per layer: ring buffers of keys and values `[past + 1, dim]`: up to `past` frames of context
   * plus the current frame's row, which never overlaps a context row.
   */
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  /** Number of valid cache rows (same for all layers) and the row the next write goes to. */
  private cached = 0;
  private head = 0;
  private frame = 0;
  private readonly x: Float32Array;
  private readonly x64: Float64Array;
  private readonly qkv: Float32Array;
  private readonly attn: Float32Array;
  private readonly attn64: Float64Array;
  private readonly sa: Float32Array;
  private readonly h1: Float32Array;
  private readonly h64: Float64Array;
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private readonly logits: Float32Array;
  private readonly tmp: Float64Array;
  private readonly probs: Float32Array;

  /**
   * @param weights a model from `loadLmWeights`
   * @param numCodebooks codebooks to predict, 1..`weights.hyper.numCodebooks` (8 at 6 kbps, 24 kHz)
   * @throws RangeError when `numCodebooks` is out of range
   */
  constructor(weights: LmWeights, numCodebooks: number) {
    const h = weights.hyper;
    if (!Number.isInteger(numCodebooks) || numCodebooks < 1 || numCodebooks > h.numCodebooks) {
      throw new RangeError(`numCodebooks must be an integer in [1, ${h.numCodebooks}], got ${numCodebooks}`);
    }
    this.w = weights;
    this.numCodebooks = numCodebooks;
    this.cardinality = h.cardinality;
    this.dim = h.dim;
    this.hidden = h.hiddenDim;
    this.heads = h.numHeads;
    this.headDim = h.dim / h.numHeads;
    this.past = h.pastContext;
    const half = h.dim / 2;
    // Reference: max_period ** (arange(half) / (half - 1)) in float32.
    this.invFreq = new Float64Array(half);
    for (let i = 0; i < half; i++) {
      const e = Math.fround(i / (half - 1));
      this.invFreq[i] = Math.fround(h.maxPeriod === 10000 ? detPow10000(e) : detExp(e * logOf(h.maxPeriod)));
    }
    this.keys = [];
    this.values = [];
    for (let l = 0; l < h.numLayers; l++) {
      this.keys.push(new Float32Array((this.past + 1) * h.dim));
      this.values.push(new Float32Array((this.past + 1) * h.dim));
    }
    this.x = new Float32Array(h.dim);
    this.x64 = new Float64Array(h.dim);
    this.qkv = new Float32Array(3 * h.dim);
    this.attn = new Float32Array(h.dim);
    this.attn64 = new Float64Array(h.dim);
    this.sa = new Float32Array(h.dim);
    this.h1 = new Float32Array(h.hiddenDim);
    this.h64 = new Float64Array(h.hiddenDim);
    this.scores = new Float64Array(this.past + 1);
    this.slots = new Int32Array(this.past + 1);
    this.logits = new Float32Array(h.cardinality);
    this.tmp = new Float64Array(h.cardinality);
    this.probs = new Float32Array(numCodebooks * h.cardinality);
    this.reset();
  }

  /** Frames processed since the last reset (the positional offset of the next step). */
  get offset(): number {
    return this.frame;
  }

  /**
   * Forget all context: the next step is the first of a segment. The reference initializes each
   * layer's past with one all-zero input, which is attended to like any other past frame; that
   * row's key and value are the projection biases.
   */
  reset(): void {
    const dim = this.dim;
    for (let l = 0; l < this.keys.length; l++) {
      const b = this.w.layers[l]!.inProjBias;
      this.keys[l]!.set(b.subarray(dim, 2 * dim), 0);
      this.values[l]!.set(b.subarray(2 * dim, 3 * dim), 0);
    }
    this.cached = 1;
    this.head = 1;
    this.frame = 0;
  }

  /**
   * Advance one frame. `previous` holds the codes of the previous frame (`numCodebooks` values in
   * [0, cardinality)) or is `null` for the first frame of a segment (the reference's zero input).
   *
   * @returns probabilities `[numCodebooks, cardinality]` (codebook-major) for the next frame's codes;
   *   the buffer belongs to this instance and is overwritten by the next call
   * @throws RangeError when `previous` has the wrong length or a code out of range
   */
  step(previous: ArrayLike<number> | null): Float32Array {
    const dim = this.dim;
    const K = this.numCodebooks;
    const card = this.cardinality;
    const x = this.x;
    const x64 = this.x64;
    if (previous !== null && previous.length !== K) throw new RangeError(`previous must hold ${K} codes, got ${previous.length}`);
    // Sum of the codebooks' embeddings of (1 + previous code), or of row 0 on the first frame.
    for (let k = 0; k < K; k++) {
      let row = 0;
      if (previous !== null) {
        const c = previous[k]!;
        if (!Number.isInteger(c) || c < 0 || c >= card) throw new RangeError(`previous[${k}] must be a code in [0, ${card}), got ${c}`);
        row = c + 1;
      }
      const e = this.w.embeddings[k]!;
      const base = row * dim;
      if (k === 0) for (let j = 0; j < dim; j++) x[j] = e[base + j]!;
      else for (let j = 0; j < dim; j++) x[j] = x[j]! + e[base + j]!;
    }
    layerNorm(x, this.w.normInWeight, this.w.normInBias, dim, LM_LAYER_NORM_EPS, x64);
    const half = dim >> 1;
    for (let i = 0; i < half; i++) {
      const phase = Math.fround(this.frame / this.invFreq[i]!);
      x[i] = x[i]! + Math.fround(detCos(phase));
      x[half + i] = x[half + i]! + Math.fround(detSin(phase));
    }
    for (let j = 0; j < dim; j++) x64[j] = x[j]!;

    for (let l = 0; l < this.w.layers.length; l++) this.layer(l);
    this.cached = Math.min(this.cached + 1, this.past);
    this.head = (this.head + 1) % (this.past + 1);
    this.frame++;

    for (let j = 0; j < dim; j++) x64[j] = x[j]!;
    for (let k = 0; k < K; k++) {
      matVec(this.w.headWeights[k]!, this.w.headBiases[k]!, card, dim, x64, this.logits);
      softmax(this.logits, 0, card, this.probs, k * card, this.tmp);
    }
    return this.probs;
  }

  /** One post-norm encoder layer on `x` (its binary64 copy in `x64`), updating layer `l`'s cache. */
  private layer(l: number): void {
    const lw = this.w.layers[l]!;
    const dim = this.dim;
    const x = this.x;
    const x64 = this.x64;
    const qkv = this.qkv;
    matVec(lw.inProjWeight, lw.inProjBias, 3 * dim, dim, x64, qkv);

    // Keys: the cached rows from oldest to newest, then the current frame (row n of `slots`).
    const kc = this.keys[l]!;
    const vc = this.values[l]!;
    const n = this.cached;
    const cap = this.past + 1;
    const slots = this.slots;
    let slot = (this.head - n + cap) % cap;
    for (let j = 0; j < n; j++) {
      slots[j] = slot * dim;
      if (++slot === cap) slot = 0;
    }
    kc.set(qkv.subarray(dim, 2 * dim), this.head * dim);
    vc.set(qkv.subarray(2 * dim, 3 * dim), this.head * dim);
    slots[n] = this.head * dim;
    const attn64 = this.attn64;
    attention(qkv, kc, vc, slots, n + 1, this.heads, this.headDim, this.scores, attn64);

    const attn = this.attn;
    for (let d = 0; d < dim; d++) attn[d] = attn64[d]!;
    for (let d = 0; d < dim; d++) attn64[d] = attn[d]!;
    const sa = this.sa;
    matVec(lw.outProjWeight, lw.outProjBias, dim, dim, attn64, sa);
    for (let d = 0; d < dim; d++) x[d] = x[d]! + sa[d]!;
    layerNorm(x, lw.norm1Weight, lw.norm1Bias, dim, LM_LAYER_NORM_EPS, x64);

    const hidden = this.hidden;
    const h1 = this.h1;
    const h64 = this.h64;
    matVec(lw.linear1Weight, lw.linear1Bias, hidden, dim, x64, h1);
    for (let i = 0; i < hidden; i++) {
      h1[i] = detGelu(h1[i]!);
      h64[i] = h1[i]!;
    }
    matVec(lw.linear2Weight, lw.linear2Bias, dim, hidden, h64, sa);
    for (let d = 0; d < dim; d++) x[d] = x[d]! + sa[d]!;
    layerNorm(x, lw.norm2Weight, lw.norm2Bias, dim, LM_LAYER_NORM_EPS, x64);
  }
}

/**
 * Multi-head attention of the query `qkv[0, dim)` over `count` keys/values whose rows start at
 * `slots[j]` in `kc`/`vc` (oldest first), writing the heads' outputs to `out`.
 * Scores are float32 like the reference's; softmax with {@link detExp}; sums in index order.
 */
function attention(qkv: Float32Array, kc: Float32Array, vc: Float32Array, slots: Int32Array, count: number, heads: number, hd: number, scores: Float64Array, out: Float64Array): void {
  const scale = 1 / Math.sqrt(hd);
  for (let h = 0; h < heads; h++) {
    const qo = h * hd;
    // Scores, four keys at a time (four independent sums, each over d in order).
    let j = 0;
    for (; j + 3 < count; j += 4) {
      const k0 = slots[j]! + qo;
      const k1 = slots[j + 1]! + qo;
      const k2 = slots[j + 2]! + qo;
      const k3 = slots[j + 3]! + qo;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < hd; d++) {
        const q = qkv[qo + d]!;
        s0 += q * kc[k0 + d]!;
        s1 += q * kc[k1 + d]!;
        s2 += q * kc[k2 + d]!;
        s3 += q * kc[k3 + d]!;
      }
      scores[j] = Math.fround(s0 * scale);
      scores[j + 1] = Math.fround(s1 * scale);
      scores[j + 2] = Math.fround(s2 * scale);
      scores[j + 3] = Math.fround(s3 * scale);
    }
    for (; j < count; j++) {
      const k0 = slots[j]! + qo;
      let s0 = 0;
      for (let d = 0; d < hd; d++) s0 += qkv[qo + d]! * kc[k0 + d]!;
      scores[j] = Math.fround(s0 * scale);
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) if (scores[i]! > max) max = scores[i]!;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const e = detExp(Math.fround(scores[i]! - max));
      scores[i] = e;
      sum += e;
    }
    for (let i = 0; i < count; i++) scores[i] = Math.fround(scores[i]! / sum);
    // Weighted values: each output element sums over the keys in order; four elements at a time.
    let d = 0;
    for (; d + 3 < hd; d += 4) {
      const o = qo + d;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let i = 0; i < count; i++) {
        const p = scores[i]!;
        const v = slots[i]! + o;
        a0 += p * vc[v]!;
        a1 += p * vc[v + 1]!;
        a2 += p * vc[v + 2]!;
        a3 += p * vc[v + 3]!;
      }
      out[o] = a0;
      out[o + 1] = a1;
      out[o + 2] = a2;
      out[o + 3] = a3;
    }
    for (; d < hd; d++) {
      const o = qo + d;
      let a0 = 0;
      for (let i = 0; i < count; i++) a0 += scores[i]! * vc[slots[i]! + o]!;
      out[o] = a0;
    }
  }
}

/** ln(v) for the rare non-default max period, from the deterministic exp by Newton steps. */
function logOf(v: number): number {
  let y = 0;
  // Start from the binary exponent, then refine: y <- y + 2 (v - e^y) / (v + e^y).
  let m = v;
  while (m >= 2) {
    m /= 2;
    y += 0.6931471805599453;
  }
  for (let i = 0; i < 60; i++) {
    const e = detExp(y);
    y += (2 * (v - e)) / (v + e);
  }
  return y;
}
