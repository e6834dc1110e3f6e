/**
 * Attention of one layer over its key/value cache, in one canonical float32 order with a
 * WebAssembly SIMD implementation and a JavaScript one that give the same bits (see
 * simd-matvec.ts for why `Math.fround` emulation is exact).
 *
 * The cache is a ring of `cap = pastContext + 1` slots per layer, stored transposed (channel-major,
 * `[dim][capPad]`, `capPad` = cap rounded up to 4). The valid slots are always the prefix
 * `[0, count)` in slot order (slot 0 holds the reference's initial zero state; the ring only wraps
 * once it is full), so every sum over keys runs over slots 0, 1, ..., count - 1:
 *
 *   score[h][j] = f32(acc * scale),  acc = f32(acc + f32(q[c] * K[c][j])) for c = h*hd .. h*hd + hd - 1
 *   out[c]      = f32(f32(l0 + l1) + f32(l2 + l3)),  l_(j % 4) = f32(l + f32(p[h][j] * V[c][j])) for j < count4
 *
 * with p zero beyond `count` (so padding adds exact zeros). The softmax between the two is done
 * by the caller in JavaScript.
 */
import { ADD, compileWasmOnce, F32, GE_U, I32, MUL, SIMD, V128, f32x4add, f32x4mul, get, i32c, name, section, set, uleb, v128load } from "./wasm-asm.js";
import { hsum } from "./simd-matvec.js";

/** score[h * capPad + j] for j < count4, JavaScript version of the canonical order. */
export function attentionScoresJs(q: Float32Array, kt: Float32Array, ktOff: number, count4: number, capPad: number, heads: number, hd: number, scale: number, s: Float32Array): void {
  const f = Math.fround;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < count4; j++) {
      let acc = 0;
      for (let d = 0; d < hd; d++) {
        const c = h * hd + d;
        acc = f(acc + f(q[c]! * kt[ktOff + c * capPad + j]!));
      }
      s[h * capPad + j] = f(acc * scale);
    }
  }
}

/** out[c] for c < dim, JavaScript version of the canonical order. */
export function attentionValuesJs(p: Float32Array, vt: Float32Array, vtOff: number, count4: number, capPad: number, dim: number, hd: number, out: Float32Array): void {
  const f = Math.fround;
  for (let c = 0; c < dim; c++) {
    const pRow = Math.floor(c / hd) * capPad;
    const vRow = vtOff + c * capPad;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let j = 0; j < count4; j += 4) {
      a0 = f(a0 + f(p[pRow + j]! * vt[vRow + j]!));
      a1 = f(a1 + f(p[pRow + j + 1]! * vt[vRow + j + 1]!));
      a2 = f(a2 + f(p[pRow + j + 2]! * vt[vRow + j + 2]!));
      a3 = f(a3 + f(p[pRow + j + 3]! * vt[vRow + j + 3]!));
    }
    out[c] = f(f(a0 + a1) + f(a2 + a3));
  }
}

// ---- WebAssembly ------------------------------------------------------------------------------
const SPLAT = [SIMD, 0x13]; // f32x4.splat
const v128store = (offset: number) => [SIMD, 0x0b, 4, ...uleb(offset)];
const DIV_U = 0x6e;
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (depth: number) => [0x0d, depth];
const br = (depth: number) => [0x0c, depth];
const zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
const flat = (...parts: number[][]) => parts.flat();

// scores(q, kt, count4, capPad, heads, hd, s, scale: f32); locals 8 h, 9 jb, 10 d, 11 c, 12 rowBytes, 13 acc, 14 sv
function scoresBody(): number[] {
  const [q, kt, count4, capPad, heads, hd, s, scale, h, jb, d, c, rb, acc, sv] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const code = flat(
    get(capPad), i32c(4), [MUL], set(rb!),
    get(scale!), SPLAT, set(sv!),
    i32c(0), set(h!),
    block, loop,
    get(h!), get(heads!), [GE_U], brIf(1),
    i32c(0), set(jb!),
    block, loop,
    get(jb!), get(count4!), i32c(4), [MUL], [GE_U], brIf(1),
    zero, set(acc!),
    i32c(0), set(d!),
    block, loop,
    get(d!), get(hd!), [GE_U], brIf(1),
    get(h!), get(hd!), [MUL], get(d!), [ADD], set(c!),
    get(acc!),
    get(q!), get(c!), i32c(4), [MUL], [ADD], [0x2a, 2, 0], SPLAT, // f32.load q[c], splat
    get(kt!), get(c!), get(rb!), [MUL], [ADD], get(jb!), [ADD], v128load(0),
    f32x4mul, f32x4add, set(acc!),
    get(d!), i32c(1), [ADD], set(d!), br(0),
    end, end,
    get(s!), get(h!), get(rb!), [MUL], [ADD], get(jb!), [ADD],
    get(acc!), get(sv!), f32x4mul, v128store(0),
    get(jb!), i32c(16), [ADD], set(jb!), br(0),
    end, end,
    get(h!), i32c(1), [ADD], set(h!), br(0),
    end, end, end,
  );
  return [2, 5, I32, 2, V128, ...code];
}

// values(p, vt, count4, capPad, dim, hd, out); locals 7 c, 8 jb, 9 rowBytes, 10 prow, 11 vrow, 12 acc
function valuesBody(): number[] {
  const [p, vt, count4, capPad, dim, hd, out, c, jb, rb, prow, vrow, acc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const code = flat(
    get(capPad!), i32c(4), [MUL], set(rb!),
    i32c(0), set(c!),
    block, loop,
    get(c!), get(dim!), [GE_U], brIf(1),
    get(p!), get(c!), get(hd!), [DIV_U], get(rb!), [MUL], [ADD], set(prow!),
    get(vt!), get(c!), get(rb!), [MUL], [ADD], set(vrow!),
    zero, set(acc!),
    i32c(0), set(jb!),
    block, loop,
    get(jb!), get(count4!), i32c(4), [MUL], [GE_U], brIf(1),
    get(acc!),
    get(prow!), get(jb!), [ADD], v128load(0),
    get(vrow!), get(jb!), [ADD], v128load(0),
    f32x4mul, f32x4add, set(acc!),
    get(jb!), i32c(16), [ADD], set(jb!), br(0),
    end, end,
    get(out!), get(c!), i32c(4), [MUL], [ADD],
    hsum(acc!),
    [0x38, 2, 0], // f32.store
    get(c!), i32c(1), [ADD], set(c!), br(0),
    end, end, end,
  );
  return [2, 5, I32, 1, V128, ...code];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [2, 0x60, 8, I32, I32, I32, I32, I32, I32, I32, F32, 0, 0x60, 7, I32, I32, I32, I32, I32, I32, I32, 0]);
  const imp = section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]);
  const func = section(3, [2, 0, 1]);
  const exp = section(7, [2, ...name("scores"), 0x00, 0, ...name("values"), 0x00, 1]);
  const b0 = scoresBody();
  const b1 = valuesBody();
  const code = section(10, [2, ...uleb(b0.length), ...b0, ...uleb(b1.length), ...b1]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imp, ...func, ...exp, ...code]);
}

const compiledModule = compileWasmOnce(moduleBytes);

/**
 * Per-model-instance attention state: the transposed key/value caches of every layer and the
 * scratch vectors, in WebAssembly memory when SIMD is available, else in plain arrays; the
 * arithmetic is the same either way.
 */
export class AttentionCache {
  readonly capPad: number;
  /** Float32 views: q `[dim]`, scores and probabilities `[heads][capPad]`, out `[dim]`, kt/vt per layer `[dim][capPad]`. */
  readonly q: Float32Array;
  readonly scores: Float32Array;
  readonly probs: Float32Array;
  readonly out: Float32Array;
  readonly kt: Float32Array[];
  readonly vt: Float32Array[];
  private readonly exports: { scores: (...a: number[]) => void; values: (...a: number[]) => void } | null;
  private readonly offsets: { q: number; scores: number; probs: number; out: number; kt: number[]; vt: number[] };

  constructor(
    readonly layers: number,
    readonly dim: number,
    readonly heads: number,
    cap: number,
  ) {
    this.capPad = (cap + 3) & ~3;
    const block = dim * this.capPad;
    const sizes = { q: dim, scores: heads * this.capPad, probs: heads * this.capPad, out: dim };
    let floats = sizes.q + sizes.scores + sizes.probs + sizes.out + 2 * layers * block;
    floats = (floats + 3) & ~3;
    const mod = compiledModule();
    let buffer: ArrayBuffer;
    if (mod !== null) {
      const memory = new WebAssembly.Memory({ initial: Math.ceil((floats * 4) / 65536) });
      const instance = new WebAssembly.Instance(mod, { env: { memory } });
      this.exports = instance.exports as unknown as AttentionCache["exports"];
      buffer = memory.buffer;
    } else {
      this.exports = null;
      buffer = new ArrayBuffer(floats * 4);
    }
    let at = 0;
    const take = (n: number): [Float32Array, number] => {
      const view = new Float32Array(buffer, at * 4, n);
      const off = at * 4;
      at += n;
      return [view, off];
    };
    const [q, qo] = take(sizes.q);
    const [scores, so] = take(sizes.scores);
    const [probs, po] = take(sizes.probs);
    const [out, oo] = take(sizes.out);
    this.q = q;
    this.scores = scores;
    this.probs = probs;
    this.out = out;
    this.kt = [];
    this.vt = [];
    const kto: number[] = [];
    const vto: number[] = [];
    for (let l = 0; l < layers; l++) {
      const [k, ko] = take(block);
      const [v, vo] = take(block);
      this.kt.push(k);
      this.vt.push(v);
      kto.push(ko);
      vto.push(vo);
    }
    this.offsets = { q: qo, scores: so, probs: po, out: oo, kt: kto, vt: vto };
  }

  /** True when the SIMD kernels run. */
  get accelerated(): boolean {
    return this.exports !== null;
  }

  /** Scores of query `q` against slots [0, count4) of layer `l` into `scores`. */
  computeScores(l: number, count4: number, hd: number, scale: number): void {
    if (this.exports) {
      this.exports.scores(this.offsets.q, this.offsets.kt[l]!, count4, this.capPad, this.heads, hd, this.offsets.scores, scale);
    } else {
      attentionScoresJs(this.q, this.kt[l]!, 0, count4, this.capPad, this.heads, hd, scale, this.scores);
    }
  }

  /** Weighted values of layer `l` with `probs` (zero beyond count) into `out`. */
  computeValues(l: number, count4: number, hd: number): void {
    if (this.exports) {
      this.exports.values(this.offsets.probs, this.offsets.vt[l]!, count4, this.capPad, this.dim, hd, this.offsets.out);
    } else {
      attentionValuesJs(this.probs, this.vt[l]!, 0, count4, this.capPad, this.dim, hd, this.out);
    }
  }
}
