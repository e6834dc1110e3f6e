/**
 * One block of memory that holds all of a language model's tensors, so its weights exist once:
 * where WebAssembly SIMD is available the block is the `WebAssembly.Memory` the matrix kernel runs
 * on (the kernel reads the matrices where they lie, no second copy), elsewhere a plain
 * `ArrayBuffer` the JavaScript kernels read.
 *
 * Layout (float32 units): `[0, scratchFloats)` is scratch for the kernel's input and output
 * vectors, then each tensor in the order it was allocated, each starting on a 16-byte boundary.
 */

import { MATVEC_MAX_BATCH, wasmMatVecAvailable } from "./simd-matvec.js";

/** A model's weight block; see the module comment. */
export interface LmArena {
  /** The whole block as float32 (scratch included). */
  readonly floats: Float32Array;
  /** The WebAssembly memory of the block, or null when it is a plain ArrayBuffer. */
  readonly memory: WebAssembly.Memory | null;
  /** Floats at the start of the block kept for the kernel's vectors. */
  readonly scratchFloats: number;
}

const arenas = new WeakMap<ArrayBufferLike, LmArena>();

/** Round `n` floats up to a 16-byte multiple. */
export function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Scratch floats the matrix kernel needs for tensors whose largest dimension is `maxDim`: room
 * for a batch of inputs of `maxDim` and outputs of `maxDim` values.
 */
export function scratchFloatsFor(maxDim: number): number {
  return MATVEC_MAX_BATCH * 2 * roundUp4(Math.max(4, maxDim));
}

/**
 * Hands out float32 views of one {@link LmArena}, in order, 16-byte aligned. Created with the
 * total it will hand out (the sum of `roundUp4` of each tensor's element count).
 */
export class LmArenaBuilder {
  readonly arena: LmArena;
  private at: number;

  /**
   * @param tensorFloats sum over the tensors to place of `roundUp4(elements)`
   * @param scratchFloats floats kept at the start (see {@link scratchFloatsFor})
   * @throws RangeError when the sizes are not non-negative integers
   */
  constructor(tensorFloats: number, scratchFloats: number) {
    if (!Number.isSafeInteger(tensorFloats) || tensorFloats < 0) throw new RangeError(`tensorFloats must be a non-negative integer, got ${tensorFloats}`);
    if (!Number.isSafeInteger(scratchFloats) || scratchFloats < 0 || scratchFloats % 4 !== 0) {
      throw new RangeError(`scratchFloats must be a non-negative multiple of 4, got ${scratchFloats}`);
    }
    const bytes = (scratchFloats + tensorFloats) * 4;
    let memory: WebAssembly.Memory | null = null;
    if (wasmMatVecAvailable()) {
      const pages = Math.max(1, Math.ceil(bytes / 65536));
      try {
        if (pages <= 65536) memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      } catch {
        memory = null; // address space refused: the JavaScript kernels read a plain buffer instead
      }
    }
    const buffer = memory !== null ? memory.buffer : new ArrayBuffer(bytes);
    this.arena = { floats: new Float32Array(buffer), memory, scratchFloats };
    arenas.set(buffer, this.arena);
    this.at = scratchFloats;
  }

  /**
   * The next `n` floats of the block (zeroed), 16-byte aligned.
   * @throws RangeError when the block has no room left (the builder was sized too small)
   */
  take(n: number): Float32Array {
    const end = this.at + n;
    if (end > this.arena.floats.length) throw new RangeError(`the weight block holds ${this.arena.floats.length} floats, ${end} asked for`);
    const view = this.arena.floats.subarray(this.at, end);
    this.at = roundUp4(end);
    return view;
  }
}

/** The arena `a` is a view of, or undefined when it lies in other memory. */
export function arenaOf(a: Float32Array): LmArena | undefined {
  return arenas.get(a.buffer);
}
