/**
 * The language model's matrix-vector product in one canonical float32 evaluation order, with two
 * implementations that produce the same bits: a WebAssembly SIMD kernel (128-bit, no relaxed
 * SIMD, so every lane is an IEEE-754 binary32 `mul` then `add`, the same on every engine) and a
 * plain JavaScript one that rounds every step with `Math.fround` (exact emulation: one binary64
 * operation on float32 operands, rounded once to float32, equals the binary32 operation).
 *
 * Canonical order for row r (cols a multiple of 4 in the SIMD kernel; any cols in JavaScript):
 *   acc[l] = 0 for lanes l = 0..3;  for j = 0, 1, ...: acc[j % 4] = f32(acc[j % 4] + f32(w[r][j] * x[j]))
 *   out[r] = f32(f32(f32(acc[0] + acc[1]) + f32(acc[2] + acc[3])) + bias[r])
 */

/** out[r] for r < rows, JavaScript version of the canonical order. */
export function matVecF32Js(w: Float32Array, wOff: number, bias: Float32Array, bOff: number, rows: number, cols: number, x: Float32Array, out: Float32Array, outOff: number): void {
  const f = Math.fround;
  const tail = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const base = wOff + r * cols;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let j = 0;
    for (; j < tail; j += 4) {
      a0 = f(a0 + f(w[base + j]! * x[j]!));
      a1 = f(a1 + f(w[base + j + 1]! * x[j + 1]!));
      a2 = f(a2 + f(w[base + j + 2]! * x[j + 2]!));
      a3 = f(a3 + f(w[base + j + 3]! * x[j + 3]!));
    }
    if (j < cols) a0 = f(a0 + f(w[base + j]! * x[j]!));
    if (j + 1 < cols) a1 = f(a1 + f(w[base + j + 1]! * x[j + 1]!));
    if (j + 2 < cols) a2 = f(a2 + f(w[base + j + 2]! * x[j + 2]!));
    out[outOff + r] = f(f(f(a0 + a1) + f(a2 + a3)) + bias[bOff + r]!);
  }
}

// ---- WebAssembly kernel -------------------------------------------------------------------
// (func (export "matvec") (param $w $b $rows $cols $x $out $n i32)   ;; byte offsets; rows, cols % 4 == 0
//   for each block of four rows: for each of the n input vectors (x + t * cols, back to back):
//   four f32x4 accumulators, x loaded once per 4 columns; out[t * rows + r].
//   The four rows' weights stay in the L1 cache across the n vectors, so a batch of n vectors
//   reads the matrix from memory once instead of n times; each output is computed by exactly the
//   same operations as with n = 1.

import { ADD, compileWasmOnce, F32ADD, GE_U, I32, MUL, V128, f32x4add, f32x4mul, get, i32c, lane, name, section, set, SIMD, uleb, v128load } from "./wasm-asm.js";

// Parameters 0..6: w, b, rows, cols, x, out, n. Locals: 7 r, 8 j, 9 rowBytes, 10..13 w0..w3,
// 14 t, 15 xt (this vector), 16 ot (this output row block) (i32); 17..20 a0..a3, 21 xv (v128).
const P = { w: 0, b: 1, rows: 2, cols: 3, x: 4, out: 5, n: 6, r: 7, j: 8, rb: 9, w0: 10, t: 14, xt: 15, ot: 16, a0: 17, xv: 21 } as const;

/** f32(f32(a0 + a1) + f32(a2 + a3)) of the v128 in local `acc`. */
export function hsum(acc: number): number[] {
  return [...get(acc), ...lane(0), ...get(acc), ...lane(1), F32ADD, ...get(acc), ...lane(2), ...get(acc), ...lane(3), F32ADD, F32ADD];
}

function kernelBody(): number[] {
  const code: number[] = [];
  const push = (...parts: number[][]) => parts.forEach((p) => code.push(...p));
  // rowBytes = cols * 4; r = 0
  push(get(P.cols), i32c(4), [MUL], set(P.rb), i32c(0), set(P.r));
  push([0x02, 0x40], [0x03, 0x40]); // block $done, loop $rows
  push(get(P.r), get(P.rows), [GE_U], [0x0d, 1]); // br_if $done
  // w0 = w + r * rowBytes; w1..w3 follow
  push(get(P.w), get(P.r), get(P.rb), [MUL], [ADD], set(P.w0));
  for (let i = 1; i < 4; i++) push(get(P.w0 + i - 1), get(P.rb), [ADD], set(P.w0 + i));
  // t = 0; xt = x; ot = out + r * 4
  push(i32c(0), set(P.t), get(P.x), set(P.xt), get(P.out), get(P.r), i32c(4), [MUL], [ADD], set(P.ot));
  push([0x02, 0x40], [0x03, 0x40]); // block $frames_done, loop $frames
  push(get(P.t), get(P.n), [GE_U], [0x0d, 1]); // br_if $frames_done
  const zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
  for (let i = 0; i < 4; i++) push(zero, set(P.a0 + i));
  push(i32c(0), set(P.j));
  push([0x02, 0x40], [0x03, 0x40]); // block $cols_done, loop $cols
  push(get(P.j), get(P.rb), [GE_U], [0x0d, 1]);
  push(get(P.xt), get(P.j), [ADD], v128load(0), set(P.xv));
  for (let i = 0; i < 4; i++) {
    push(get(P.a0 + i), get(P.w0 + i), get(P.j), [ADD], v128load(0), get(P.xv), f32x4mul, f32x4add, set(P.a0 + i));
  }
  push(get(P.j), i32c(16), [ADD], set(P.j), [0x0c, 0]); // j += 16; br $cols
  push([0x0b], [0x0b]); // end loop, end block
  // out[t * rows + r + i] = f32(hsum(a_i) + b[r + i])
  for (let i = 0; i < 4; i++) {
    push(get(P.ot));
    push(hsum(P.a0 + i));
    push(get(P.b), get(P.r), i32c(4), [MUL], [ADD], [0x2a, 2, ...uleb(4 * i)]); // f32.load offset 4i
    push([F32ADD], [0x38, 2, ...uleb(4 * i)]); // f32.store offset 4i
  }
  // t += 1; xt += rowBytes; ot += rows * 4; br $frames
  push(get(P.t), i32c(1), [ADD], set(P.t), get(P.xt), get(P.rb), [ADD], set(P.xt));
  push(get(P.ot), get(P.rows), i32c(4), [MUL], [ADD], set(P.ot), [0x0c, 0]);
  push([0x0b], [0x0b]); // end loop $frames, end block
  push(get(P.r), i32c(4), [ADD], set(P.r), [0x0c, 0]); // r += 4; br $rows
  push([0x0b], [0x0b], [0x0b]); // end loop, end block, end func
  const locals = [2, 10, I32, 5, V128]; // 2 groups: 10 x i32 (r, j, rb, w0..w3, t, xt, ot), 5 x v128
  return [...locals, ...code];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [1, 0x60, 7, I32, I32, I32, I32, I32, I32, I32, 0]);
  const imp = section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]);
  const func = section(3, [1, 0]);
  const exp = section(7, [1, ...name("matvec"), 0x00, 0]);
  const body = kernelBody();
  const code = section(10, [1, ...uleb(body.length), ...body]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imp, ...func, ...exp, ...code]);
}

/** The kernel bound to a memory; `null` where WebAssembly SIMD is unavailable. */
export interface WasmMatVec {
  readonly memory: WebAssembly.Memory;
  /** Byte offsets into `memory`; rows and cols multiples of 4; `n` vectors at `x` (back to back), outputs at `out`. */
  readonly matvec: (w: number, b: number, rows: number, cols: number, x: number, out: number, n: number) => void;
}

const compiledModule = compileWasmOnce(moduleBytes);

/**
 * Instantiate the SIMD kernel over a fresh memory of at least `bytes` bytes, or return `null`
 * when WebAssembly SIMD is not available (the caller then uses {@link matVecF32Js}).
 */
export function createWasmMatVec(bytes: number): WasmMatVec | null {
  const mod = compiledModule();
  if (mod === null) return null;
  const pages = Math.ceil(bytes / 65536);
  if (pages > 65536) return null;
  const memory = new WebAssembly.Memory({ initial: pages });
  const instance = new WebAssembly.Instance(mod, { env: { memory } });
  const matvec = instance.exports.matvec as WasmMatVec["matvec"];
  return { memory, matvec };
}

/** A weight matrix `[rows, cols]` (row-major) and its bias `[rows]`. */
export interface MatrixSpec {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Most vectors one {@link MatVecBank.runMany} call multiplies (the scratch is sized for them). */
export const MATVEC_MAX_BATCH = 16;

/** True when the SIMD matrix kernel can run here (WebAssembly with SIMD, not disabled). */
export function wasmMatVecAvailable(): boolean {
  return compiledModule() !== null;
}

/**
 * Memory that already holds the matrices: a WebAssembly memory (or plain buffer) viewed as
 * `floats`, whose first `scratchFloats` floats the bank may use for its vectors.
 */
export interface MatVecMemory {
  readonly floats: Float32Array;
  readonly memory: WebAssembly.Memory | null;
  readonly scratchFloats: number;
}

/**
 * A set of matrices the model multiplies by, run by the SIMD kernel when available, with the
 * same results from the JavaScript fallback. When every matrix and bias already lies in `home`
 * (a WebAssembly memory with room for the vectors), the kernel runs on that memory and nothing is
 * copied; otherwise the matrices are copied once into a memory of the bank's own.
 */
export class MatVecBank {
  /** True when the SIMD kernel runs the products. */
  readonly accelerated: boolean;
  /** True when the kernel reads the matrices where they lay (`home`), without a copy. */
  readonly inPlace: boolean;
  private readonly specs: readonly MatrixSpec[];
  private readonly kernel: WasmMatVec | null;
  private readonly offsets: Int32Array;
  private readonly heap: Float32Array | null;
  private readonly xAt: number;
  private readonly outAt: number;

  constructor(specs: readonly MatrixSpec[], home?: MatVecMemory) {
    this.specs = specs;
    const maxCols = Math.max(4, ...specs.map((s) => s.cols));
    const maxRows = Math.max(4, ...specs.map((s) => s.rows));
    const aligned = specs.every((s) => s.rows % 4 === 0 && s.cols % 4 === 0);
    this.offsets = new Int32Array(specs.length * 2);
    this.xAt = 0;
    this.outAt = MATVEC_MAX_BATCH * maxCols;
    this.heap = null;
    this.inPlace = false;
    const homeBuffer = home?.memory?.buffer;
    const inHome =
      home !== undefined &&
      homeBuffer !== undefined &&
      home.floats.buffer === homeBuffer &&
      MATVEC_MAX_BATCH * (maxCols + maxRows) <= home.scratchFloats &&
      specs.every((s) => s.weight.buffer === homeBuffer && s.bias.buffer === homeBuffer && s.weight.byteOffset % 16 === 0);
    if (aligned && inHome) {
      const mod = compiledModule();
      if (mod !== null) {
        const instance = new WebAssembly.Instance(mod, { env: { memory: home.memory! } });
        this.kernel = { memory: home.memory!, matvec: instance.exports.matvec as WasmMatVec["matvec"] };
        specs.forEach((s, i) => {
          this.offsets[2 * i] = s.weight.byteOffset;
          this.offsets[2 * i + 1] = s.bias.byteOffset;
        });
        this.heap = new Float32Array(homeBuffer);
        this.inPlace = true;
        this.accelerated = true;
        return;
      }
    }
    let floats = MATVEC_MAX_BATCH * (maxCols + maxRows);
    for (const s of specs) floats += s.rows * s.cols + s.rows;
    this.kernel = aligned ? createWasmMatVec(floats * 4) : null;
    this.accelerated = this.kernel !== null;
    if (this.kernel) {
      const heap = new Float32Array(this.kernel.memory.buffer);
      let at = MATVEC_MAX_BATCH * (maxCols + maxRows);
      specs.forEach((s, i) => {
        heap.set(s.weight, at);
        this.offsets[2 * i] = at * 4;
        at += s.rows * s.cols;
        heap.set(s.bias, at);
        this.offsets[2 * i + 1] = at * 4;
        at += s.rows;
      });
      this.heap = heap;
    }
  }

  /** out[outOff + r] = (W_i x + b_i)[r] in the canonical float32 order; `x` holds `cols` values. */
  run(i: number, x: Float32Array, out: Float32Array, outOff = 0): void {
    const s = this.specs[i]!;
    const heap = this.heap;
    if (heap === null || this.kernel === null) {
      matVecF32Js(s.weight, 0, s.bias, 0, s.rows, s.cols, x, out, outOff);
      return;
    }
    heap.set(x.length === s.cols ? x : x.subarray(0, s.cols), this.xAt);
    this.kernel.matvec(this.offsets[2 * i]!, this.offsets[2 * i + 1]!, s.rows, s.cols, this.xAt * 4, this.outAt * 4, 1);
    out.set(heap.subarray(this.outAt, this.outAt + s.rows), outOff);
  }

  /**
   * `n` products at once: `out[outOff + t * rows + r] = (W_i x_t + b_i)[r]` for the vectors
   * `x_t = x[t * cols ..]`, t < n <= {@link MATVEC_MAX_BATCH}; each output has the bits of
   * {@link run} on that vector, the matrix is read once for all of them.
   */
  runMany(i: number, x: Float32Array, n: number, out: Float32Array, outOff = 0): void {
    const s = this.specs[i]!;
    if (!Number.isInteger(n) || n < 1 || n > MATVEC_MAX_BATCH) throw new RangeError(`n must be an integer in [1, ${MATVEC_MAX_BATCH}], got ${n}`);
    const heap = this.heap;
    if (heap === null || this.kernel === null) {
      for (let t = 0; t < n; t++) matVecF32Js(s.weight, 0, s.bias, 0, s.rows, s.cols, x.subarray(t * s.cols, (t + 1) * s.cols), out, outOff + t * s.rows);
      return;
    }
    heap.set(x.length === n * s.cols ? x : x.subarray(0, n * s.cols), this.xAt);
    this.kernel.matvec(this.offsets[2 * i]!, this.offsets[2 * i + 1]!, s.rows, s.cols, this.xAt * 4, this.outAt * 4, n);
    out.set(heap.subarray(this.outAt, this.outAt + n * s.rows), outOff);
  }
}
