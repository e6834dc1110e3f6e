/**
 * Per-frame codebook counts ("K per frame"): a block of `numCodebooks × numFrames` codes whose
 * frame `j` uses only its first `frameCodebooks[j]` codebooks (the residual quantizer's first K
 * codebooks are a complete lower-bitrate encoding of the frame). Rows beyond a frame's K are
 * ignored; the decode graphs receive the absent-codebook sentinel there (a code equal to the
 * codebook size, which the RVQ decode maps to a zero vector).
 */

/**
 * Check a per-frame K table.
 *
 * @param name the field's name for messages
 * @param table null / undefined (every frame has `k` codebooks) or one count per frame in [1, k]
 * @throws TypeError / RangeError naming the field
 */
export function checkFrameCodebooks(name: string, table: Uint8Array | null | undefined, k: number, f: number): void {
  if (table === undefined || table === null) return;
  if (!(table instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array or null`);
  if (table.length !== f) throw new RangeError(`${name} must hold one count per frame (${f}), got ${table.length}`);
  for (let j = 0; j < f; j++) {
    const kj = table[j]!;
    if (kj < 1 || kj > k) throw new RangeError(`${name}[${j}] must be in [1, ${k}], got ${kj}`);
  }
}

/**
 * Write a block's codes as int64 ids, codebook-major `[k, f]`, into `ids` at `offset`, with the
 * absent-codebook sentinel where a frame has fewer codebooks than `k`.
 *
 * @param codes codebook-major `[k × f]` (entries beyond a frame's K are not read)
 * @param table per-frame K, or null for all `k`
 * @param absent the sentinel (the model's codebook size)
 */
export function writeCodeIds(ids: BigInt64Array, offset: number, codes: Uint16Array, k: number, f: number, table: Uint8Array | null | undefined, absent: number): void {
  const sentinel = BigInt(absent);
  for (let q = 0; q < k; q++) {
    for (let j = 0; j < f; j++) {
      const i = q * f + j;
      ids[offset + i] = table && q >= table[j]! ? sentinel : BigInt(codes[i]!);
    }
  }
}

/**
 * Index of the first code not below `size` among those a block uses (rows beyond a frame's K
 * are not looked at), or -1.
 */
export function findBadCode(codes: Uint16Array, k: number, f: number, table: Uint8Array | null | undefined, size: number): number {
  for (let q = 0; q < k; q++) {
    for (let j = 0; j < f; j++) {
      if (table && q >= table[j]!) continue;
      if (codes[q * f + j]! >= size) return q * f + j;
    }
  }
  return -1;
}
