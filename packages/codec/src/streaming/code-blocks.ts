import type { CodeBlock, StreamFrame } from "./stream-types.js";

/**
 * Join consecutive code blocks (e.g. the {@link StreamFrame}s of a stream encoder, to send
 * several frames in one payload) into one codebook-major block.
 *
 * @param blocks at least one block, all with the same `numCodebooks`; every block but the last must be whole (`lengthSamples` absent or `numFrames × hopSamples`)
 * @param hopSamples samples per frame @default 320
 * @returns a block with fresh codes and its total `lengthSamples`
 * @throws RangeError for an empty list, differing codebook counts, a short block before the last, or a malformed block
 */
export function concatCodeBlocks(blocks: readonly CodeBlock[], hopSamples = 320): CodeBlock & { readonly lengthSamples: number } {
  if (!Array.isArray(blocks) || blocks.length === 0) throw new RangeError("blocks must hold at least one block");
  if (!Number.isInteger(hopSamples) || hopSamples < 1) throw new RangeError(`hopSamples must be a positive integer, got ${hopSamples}`);
  const k = blocks[0]!.numCodebooks;
  let frames = 0;
  let length = 0;
  blocks.forEach((b, i) => {
    if (b.numCodebooks !== k) throw new RangeError(`blocks[${i}].numCodebooks must equal blocks[0]'s ${k}, got ${b.numCodebooks}`);
    if (!Number.isInteger(b.numFrames) || b.numFrames < 1 || b.codes?.length !== k * b.numFrames) {
      throw new RangeError(`blocks[${i}] must hold numCodebooks × numFrames codes (numFrames ≥ 1)`);
    }
    const full = b.numFrames * hopSamples;
    const len = b.lengthSamples ?? full;
    if (len !== full && i !== blocks.length - 1) throw new RangeError(`blocks[${i}].lengthSamples must be ${full} (only the last block may be short), got ${len}`);
    frames += b.numFrames;
    length += len;
  });
  const codes = new Uint16Array(k * frames);
  let at = 0;
  for (const b of blocks) {
    for (let q = 0; q < k; q++) codes.set(b.codes.subarray(q * b.numFrames, (q + 1) * b.numFrames), q * frames + at);
    at += b.numFrames;
  }
  return { codes, numCodebooks: k, numFrames: frames, lengthSamples: length };
}
