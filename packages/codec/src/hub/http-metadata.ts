/**
 * Reading the size and checksum a server announces for a download.
 *
 * The Hugging Face Hub answers `GET /<repo>/resolve/<rev>/<file>` for a large (LFS) file with a
 * redirect carrying `x-linked-size` (bytes) and `x-linked-etag` (`"<sha256 hex>"`); small files
 * come straight back with a git-blob `etag` (40 hex, not a sha256) and `content-length`.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The sha256 an ETag-like header stands for, or `undefined` when it is not a bare 64-hex digest. */
export function sha256FromEtag(value: string | null): string | undefined {
  if (value === null) return undefined;
  const bare = value.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1").toLowerCase();
  return SHA256_HEX.test(bare) ? bare : undefined;
}

/** A non-negative integer header (`content-length`, `x-linked-size`), or `undefined`. */
export function sizeHeader(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A parsed `Content-Range` header: `bytes first-last/total` or `bytes * /total` (first/last absent). */
export interface ContentRange {
  readonly first?: number;
  readonly last?: number;
  readonly total?: number;
}

/** Parse `Content-Range: bytes 100-199/200`, `bytes 100-199/*` or `bytes *\/200`; `undefined` if malformed. */
export function parseContentRange(value: string | null): ContentRange | undefined {
  if (value === null) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  const num = (s: string | undefined): number | undefined => (s === undefined || s === "*" ? undefined : Number.isSafeInteger(Number(s)) ? Number(s) : undefined);
  const range: ContentRange = { first: num(m[1]), last: num(m[2]), total: num(m[3]) };
  if (range.first !== undefined && range.last !== undefined && range.last < range.first) return undefined;
  return range;
}

/**
 * Normalise an expected sha256 given by a caller: a full digest, or a prefix of at least 8 hex
 * digits (the original EnCodec checkpoints carry one in their names: `encodec_24khz-d7cc33bc.th`).
 * @throws RangeError naming `sha256`
 */
export function expectedSha256(value: string): string {
  const v = value.trim().toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(v)) throw new RangeError(`sha256 must be 8 to 64 hex digits, got ${JSON.stringify(value)}`);
  return v;
}
