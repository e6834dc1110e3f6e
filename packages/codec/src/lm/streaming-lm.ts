import { LM_LAYER_NORM_EPS } from "./constants.js";
import * as dm from "./internal/det-math.js";
import * as kn from "./internal/kernels.js";
import { MATVEC_MAX_BATCH, MatVecBank, type MatrixSpec } from "./internal/simd-matvec.js";
import { AttentionCache } from "./internal/simd-attention.js";
import { arenaOf } from "./internal/lm-arena.js";
import type { LmWeights } from "./lm-weights.js";

// Module-local copies of hot imported functions and constants (one lookup, not one per call).
const { detCos, detGelu, detPow10000, detSin, detExp } = dm;
const { layerNorm, softmax } = kn;
const EPS = LM_LAYER_NORM_EPS;

/**
 * The EnCodec language model run one frame at a time, with its streaming state (a key/value
 * cache per layer holding the last `pastContext` inputs, and the frame offset for the positional
 * embedding). Each {@link StreamingLm.step} takes the previous frame's codes and returns, for
 * each of the first `numCodebooks` codebooks, a probability distribution over the next code.
 *
 * Deterministic: only correctly rounded IEEE-754 operations in a fixed, written-down order (the
 * matrix products and attention in WebAssembly SIMD kernels or their bit-identical JavaScript
 * twins) and the functions of `internal/det-math.ts`, so every JavaScript engine produces the
 * same probabilities, bit for bit, for the same weights and inputs (see the README, "Language
 * model").
 *
 * Not thread-safe; one instance per coder. Buffers are preallocated at construction (the SIMD
 * kernel reads the model's matrices in the memory `loadLmWeights` placed them in; a model built
 * by hand is copied once into WebAssembly memory, where available).
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
  /** Per layer: ring of `past + 1` key/value slots (transposed), scratch vectors, kernels. */
  private readonly att: AttentionCache;
  /** Valid past slots (the same for all layers), the slot of the current frame, frames since reset. */
  private cached = 0;
  private head = 0;
  private frame = 0;
  private readonly bank: MatVecBank;
  private readonly x: Float32Array;
  private readonly qkv: Float32Array;
  private readonly sa: Float32Array;
  private readonly h1: Float32Array;
  private readonly scale: number;
  private readonly expTmp: Float64Array;
  private readonly logits: Float32Array;
  private readonly tmp: Float64Array;
  private readonly probs: Float32Array;
  /** Buffers of stepMany, made on its first call: B frames' inputs, projections, outputs. */
  private many: { xs: Float32Array; qkvs: Float32Array; atts: Float32Array; sas: Float32Array; h1s: Float32Array; logits: Float32Array; probs: Float32Array } | null = null;

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
    this.att = new AttentionCache(h.numLayers, h.dim, h.numHeads, this.past + 1);
    this.scale = Math.fround(1 / Math.sqrt(this.headDim));
    this.expTmp = new Float64Array(this.past + 1);
    this.bank = bankOf(weights);
    this.x = new Float32Array(h.dim);
    this.qkv = new Float32Array(3 * h.dim);
    this.sa = new Float32Array(h.dim);
    this.h1 = new Float32Array(h.hiddenDim);
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
    const capPad = this.att.capPad;
    for (let l = 0; l < this.w.layers.length; l++) {
      const b = this.w.layers[l]!.inProjBias;
      const kt = this.att.kt[l]!;
      const vt = this.att.vt[l]!;
      for (let c = 0; c < dim; c++) {
        kt[c * capPad] = b[dim + c]!;
        vt[c * capPad] = b[2 * dim + c]!;
      }
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
    const K = this.numCodebooks;
    const card = this.cardinality;
    const x = this.x;
    this.embed(previous, x, 0, this.frame);
    for (let l = 0; l < this.w.layers.length; l++) this.layer(l);
    this.cached = Math.min(this.cached + 1, this.past);
    this.head = (this.head + 1) % (this.past + 1);
    this.frame++;

    const heads = 4 * this.w.layers.length;
    for (let k = 0; k < K; k++) {
      this.bank.run(heads + k, x, this.logits);
      softmax(this.logits, 0, card, this.probs, k * card, this.tmp);
    }
    return this.probs;
  }

  /**
   * Advance `previous.length` frames at once (1 to 16), for a coder that knows every frame's
   * input in advance (an encoder): the same probabilities, bit for bit, as that many calls of
   * {@link step}, computed layer by layer over the frames so each matrix is read from memory once
   * for all of them instead of once per frame.
   *
   * @param previous each frame's previous codes (as for {@link step}; `null` only for a segment's first frame)
   * @returns probabilities `[frames, numCodebooks, cardinality]`; the buffer belongs to this
   *   instance and is overwritten by the next call
   * @throws RangeError for a frame count out of range, or inputs as {@link step} refuses them
   */
  stepMany(previous: readonly (ArrayLike<number> | null)[]): Float32Array {
    const n = previous.length;
    if (n < 1 || n > MATVEC_MAX_BATCH) throw new RangeError(`previous must hold 1 to ${MATVEC_MAX_BATCH} frames, got ${n}`);
    const dim = this.dim;
    const K = this.numCodebooks;
    const card = this.cardinality;
    const B = MATVEC_MAX_BATCH;
    const m = (this.many ??= {
      xs: new Float32Array(B * dim),
      qkvs: new Float32Array(B * 3 * dim),
      atts: new Float32Array(B * dim),
      sas: new Float32Array(B * dim),
      h1s: new Float32Array(B * this.hidden),
      logits: new Float32Array(B * card),
      probs: new Float32Array(B * K * card),
    });
    for (let i = 0; i < n; i++) this.embed(previous[i]!, m.xs, i * dim, this.frame + i);
    for (let l = 0; l < this.w.layers.length; l++) this.layerMany(l, n);
    for (let i = 0; i < n; i++) {
      this.cached = Math.min(this.cached + 1, this.past);
      this.head = (this.head + 1) % (this.past + 1);
      this.frame++;
    }
    const heads = 4 * this.w.layers.length;
    for (let k = 0; k < K; k++) {
      this.bank.runMany(heads + k, m.xs, n, m.logits);
      for (let i = 0; i < n; i++) softmax(m.logits, i * card, card, m.probs, (i * K + k) * card, this.tmp);
    }
    return m.probs;
  }

  /**
   * The transformer's input for one frame into `x[at .. at + dim)`: the sum of the codebooks'
   * embeddings of (1 + previous code), or of row 0 on a segment's first frame, layer-normed, plus
   * the sinusoidal position of `frame`.
   */
  private embed(previous: ArrayLike<number> | null, x: Float32Array, at: number, frame: number): void {
    const dim = this.dim;
    const K = this.numCodebooks;
    const card = this.cardinality;
    if (previous !== null && previous.length !== K) throw new RangeError(`previous must hold ${K} codes, got ${previous.length}`);
    for (let k = 0; k < K; k++) {
      let row = 0;
      if (previous !== null) {
        const c = previous[k]!;
        if (!Number.isInteger(c) || c < 0 || c >= card) throw new RangeError(`previous[${k}] must be a code in [0, ${card}), got ${c}`);
        row = c + 1;
      }
      const e = this.w.embeddings[k]!;
      const base = row * dim;
      if (k === 0) for (let j = 0; j < dim; j++) x[at + j] = e[base + j]!;
      else for (let j = 0; j < dim; j++) x[at + j] = x[at + j]! + e[base + j]!;
    }
    const v = at === 0 && x.length === dim ? x : x.subarray(at, at + dim);
    layerNorm(v, this.w.normInWeight, this.w.normInBias, dim, EPS);
    const half = dim >> 1;
    for (let i = 0; i < half; i++) {
      const phase = Math.fround(frame / this.invFreq[i]!);
      v[i] = v[i]! + Math.fround(detCos(phase));
      v[half + i] = v[half + i]! + Math.fround(detSin(phase));
    }
  }

  /** Layer `l` over the `n` frames in `many.xs`, in order, updating its cache as n steps would. */
  private layerMany(l: number, n: number): void {
    const lw = this.w.layers[l]!;
    const m = this.many!;
    const dim = this.dim;
    const bank = this.bank;
    bank.runMany(4 * l, m.xs, n, m.qkvs);
    let head = this.head;
    let cached = this.cached;
    for (let i = 0; i < n; i++) {
      this.attend(l, m.qkvs, i * 3 * dim, head, cached);
      m.atts.set(this.att.out, i * dim);
      cached = Math.min(cached + 1, this.past);
      head = (head + 1) % (this.past + 1);
    }
    const xs = m.xs;
    const sas = m.sas;
    bank.runMany(4 * l + 1, m.atts, n, sas);
    for (let i = 0; i < n * dim; i++) xs[i] = xs[i]! + sas[i]!;
    for (let i = 0; i < n; i++) layerNorm(xs.subarray(i * dim, (i + 1) * dim), lw.norm1Weight, lw.norm1Bias, dim, EPS);
    const h1s = m.h1s;
    bank.runMany(4 * l + 2, xs, n, h1s);
    for (let i = 0; i < n * this.hidden; i++) h1s[i] = detGelu(h1s[i]!);
    bank.runMany(4 * l + 3, h1s, n, sas);
    for (let i = 0; i < n * dim; i++) xs[i] = xs[i]! + sas[i]!;
    for (let i = 0; i < n; i++) layerNorm(xs.subarray(i * dim, (i + 1) * dim), lw.norm2Weight, lw.norm2Bias, dim, EPS);
  }

  /**
   * Self-attention of one frame at layer `l`: its key and value (from `qkv[off ..]`) go to ring
   * slot `slot`, then its query attends to the `cached` past slots and itself; the result is in
   * `att.out`.
   */
  private attend(l: number, qkv: Float32Array, off: number, slot: number, cached: number): void {
    const dim = this.dim;
    const att = this.att;
    const capPad = att.capPad;
    const kt = att.kt[l]!;
    const vt = att.vt[l]!;
    for (let c = 0; c < dim; c++) {
      kt[c * capPad + slot] = qkv[off + dim + c]!;
      vt[c * capPad + slot] = qkv[off + 2 * dim + c]!;
    }
    att.q.set(qkv.subarray(off, off + dim));
    const count = cached + 1;
    const count4 = (count + 3) & ~3;
    att.computeScores(l, count4, this.headDim, this.scale);
    const scores = att.scores;
    const probs = att.probs;
    for (let h = 0; h < this.heads; h++) {
      const row = h * capPad;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < count; j++) if (scores[row + j]! > max) max = scores[row + j]!;
      const e = this.expTmp;
      let sum = 0;
      for (let j = 0; j < count; j++) {
        const v = detExp(Math.fround(scores[row + j]! - max));
        e[j] = v;
        sum += v;
      }
      for (let j = 0; j < count; j++) probs[row + j] = e[j]! / sum;
      for (let j = count; j < count4; j++) probs[row + j] = 0;
    }
    att.computeValues(l, count4, this.headDim);
  }

  /** One post-norm encoder layer on `x`, updating layer `l`'s cache. */
  private layer(l: number): void {
    const lw = this.w.layers[l]!;
    const dim = this.dim;
    const x = this.x;
    const qkv = this.qkv;
    const bank = this.bank;
    bank.run(4 * l, x, qkv);
    this.attend(l, qkv, 0, this.head, this.cached);
    const att = this.att;
    const attn = att.out;
    const sa = this.sa;
    bank.run(4 * l + 1, attn, sa);
    for (let d = 0; d < dim; d++) x[d] = x[d]! + sa[d]!;
    layerNorm(x, lw.norm1Weight, lw.norm1Bias, dim, EPS);

    const hidden = this.hidden;
    const h1 = this.h1;
    bank.run(4 * l + 2, x, h1);
    for (let i = 0; i < hidden; i++) h1[i] = detGelu(h1[i]!);
    bank.run(4 * l + 3, h1, sa);
    for (let d = 0; d < dim; d++) x[d] = x[d]! + sa[d]!;
    layerNorm(x, lw.norm2Weight, lw.norm2Bias, dim, EPS);
  }
}

/** One bank of matrix products per loaded model, shared by all its StreamingLm instances. */
const banks = new WeakMap<LmWeights, MatVecBank>();

function bankOf(w: LmWeights): MatVecBank {
  let bank = banks.get(w);
  if (bank === undefined) {
    const { dim, hiddenDim, cardinality } = w.hyper;
    const specs: MatrixSpec[] = [];
    for (const lw of w.layers) {
      specs.push({ weight: lw.inProjWeight, bias: lw.inProjBias, rows: 3 * dim, cols: dim });
      specs.push({ weight: lw.outProjWeight, bias: lw.outProjBias, rows: dim, cols: dim });
      specs.push({ weight: lw.linear1Weight, bias: lw.linear1Bias, rows: hiddenDim, cols: dim });
      specs.push({ weight: lw.linear2Weight, bias: lw.linear2Bias, rows: dim, cols: hiddenDim });
    }
    w.headWeights.forEach((hw, k) => specs.push({ weight: hw, bias: w.headBiases[k]!, rows: cardinality, cols: dim }));
    // The weights lie in the block loadLmWeights put them in: the kernel reads them there.
    bank = new MatVecBank(specs, arenaOf(w.normInWeight));
    banks.set(w, bank);
  }
  return bank;
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
