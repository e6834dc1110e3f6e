import { checkFrameCodebooks } from "../internal/frame-codebooks.js";
import type { CodeBlock } from "./stream-types.js";

/**
 * Join consecutive code blocks (e.g. the {@link StreamFrame}s of a stream encoder, to send
 * several frames in one payload) into one codebook-major block. Blocks may differ in K (and
 * carry per-frame K): the result has the largest K and, when its frames differ, a
 * `frameCodebooks` table (rows beyond a frame's K are 0).
 *
 * @param blocks at least one block; every block but the last must be whole (`lengthSamples` absent or `numFrames × hopSamples`)
 * @param hopSamples samples per frame @default 320
 * @returns a block with fresh codes, its total `lengthSamples`, and `frameCodebooks` (null when every frame has the block's K)
 * @throws RangeError for an empty list, a short block before the last, or a malformed block
 */
export function concatCodeBlocks(blocks: readonly CodeBlock[], hopSamples = 320): CodeBlock & { readonly lengthSamples: number; readonly frameCodebooks: Uint8Array | null } {
  if (!Array.isArray(blocks) || blocks.length === 0) throw new RangeError("blocks must hold at least one block");
  if (!Number.isInteger(hopSamples) || hopSamples < 1) throw new RangeError(`hopSamples must be a positive integer, got ${hopSamples}`);
  let k = 0;
  let frames = 0;
  let length = 0;
  blocks.forEach((b, i) => {
    const bk = b.numCodebooks;
    if (!Number.isInteger(bk) || bk < 1 || bk > 255) throw new RangeError(`blocks[${i}].numCodebooks must be an integer in [1, 255], got ${bk}`);
    if (!Number.isInteger(b.numFrames) || b.numFrames < 1 || b.codes?.length !== bk * b.numFrames) {
      throw new RangeError(`blocks[${i}] must hold numCodebooks × numFrames codes (numFrames ≥ 1)`);
    }
    checkFrameCodebooks(`blocks[${i}].frameCodebooks`, b.frameCodebooks, bk, b.numFrames);
    const full = b.numFrames * hopSamples;
    const len = b.lengthSamples ?? full;
    if (len !== full && i !== blocks.length - 1) throw new RangeError(`blocks[${i}].lengthSamples must be ${full} (only the last block may be short), got ${len}`);
    k = Math.max(k, bk);
    frames += b.numFrames;
    length += len;
  });
  const table = new Uint8Array(frames);
  const codes = new Uint16Array(k * frames);
  let at = 0;
  for (const b of blocks) {
    const f = b.numFrames;
    for (let j = 0; j < f; j++) {
      const kj = b.frameCodebooks ? b.frameCodebooks[j]! : b.numCodebooks;
      table[at + j] = kj;
      for (let q = 0; q < kj; q++) codes[q * frames + at + j] = b.codes[q * f + j]!;
    }
    at += f;
  }
  const uniform = table.every((kj) => kj === k);
  return { codes, numCodebooks: k, numFrames: frames, lengthSamples: length, frameCodebooks: uniform ? null : table };
}
