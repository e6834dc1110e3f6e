/** Minimal WebAssembly binary encoding helpers for the hand-assembled SIMD kernels. */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}


export const get = (i: number) => [0x20, i];
export const set = (i: number) => [0x21, i];
export const i32c = (v: number) => [0x41, ...sleb(v)];
export const ADD = 0x6a;
export const MUL = 0x6c;
export const GE_U = 0x4f;
export const SIMD = 0xfd;
export const v128load = (offset: number) => [SIMD, 0x00, 4, ...uleb(offset)];
export const f32x4add = [SIMD, ...uleb(228)];
export const f32x4mul = [SIMD, ...uleb(230)];
export const lane = (l: number) => [SIMD, 0x1f, l];
export const F32ADD = 0x92;

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}


/** `ENCSTREAM_LM_NO_WASM=1` forces the JavaScript paths (for tests and comparisons). */
export function wasmSimdDisabled(): boolean {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env?.ENCSTREAM_LM_NO_WASM === "1";
}

/**
 * A getter for the module of `moduleBytes()`, compiled on its first call and kept: null (also
 * kept) where WebAssembly is absent, SIMD is disabled ({@link wasmSimdDisabled}), the bytes do not
 * validate (no SIMD support) or compiling throws.
 */
export function compileWasmOnce(moduleBytes: () => Uint8Array<ArrayBuffer>): () => WebAssembly.Module | null {
  let compiled: WebAssembly.Module | null | undefined;
  return () => {
    if (compiled !== undefined) return compiled;
    compiled = null;
    try {
      if (typeof WebAssembly === "object" && !wasmSimdDisabled()) {
        const bytes = moduleBytes();
        if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
      }
    } catch {
      compiled = null;
    }
    return compiled;
  };
}
