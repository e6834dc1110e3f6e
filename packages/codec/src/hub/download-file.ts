import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { CodecError } from "../errors.js";
import { expectedSha256, parseContentRange, sha256FromEtag, sizeHeader } from "./http-metadata.js";

/** Progress of one download. */
export interface DownloadProgress {
  /** The URL asked for (before redirects). */
  readonly url: string;
  /** Bytes of the file on disk so far (a resumed download starts at the `.part` size). Never decreases. */
  readonly receivedBytes: number;
  /** The file's size when the server announced it, else `null`. */
  readonly totalBytes: number | null;
}

/** Options for {@link downloadFile}. */
export interface DownloadFileOptions {
  /**
   * Expected SHA-256 of the file: a full hex digest or a prefix of at least 8 hex digits (as in
   * `encodec_lm_24khz-1608e3c0.th`). Checked in addition to a sha256 the server announces.
   * @default undefined (only the server's)
   */
  sha256?: string;
  /**
   * Called as bytes arrive, with `receivedBytes` never decreasing.
   * @default undefined
   */
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * Cancels the download; the `.part` file is kept for a later resume and the signal's reason is thrown.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * How many times a dropped connection, a 5xx answer or a short body is resumed (with a Range
   * request) within this call before giving up. The `.part` file is kept either way.
   * @default 2
   */
  retries?: number;
  /**
   * Largest file accepted, in bytes; a larger announced or received size fails the download.
   * @default 4294967296 (4 GiB)
   */
  maxBytes?: number;
  /**
   * Extra request headers (e.g. `authorization`), sent on every hop of the same origin.
   * @default {}
   */
  headers?: Record<string, string>;
}

/** What {@link downloadFile} produced. */
export interface DownloadResult {
  /** The final path (the `dest` argument, resolved). */
  readonly path: string;
  /** File size in bytes. */
  readonly bytes: number;
  /** SHA-256 of the file, lowercase hex. */
  readonly sha256: string;
  /** Whether some of the bytes came from an earlier `.part` file. */
  readonly resumed: boolean;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3;
const MAX_REDIRECTS = 10;

/** Marks failures that a resume may fix (dropped connection, 5xx, short body). */
const retryable = new WeakSet<object>();
function transient(error: CodecError): CodecError {
  retryable.add(error);
  return error;
}

/**
 * Download `url` to `dest` (Node only) with the global `fetch`, safely:
 * - bytes go to `<dest>.part`, renamed to `dest` only once complete and verified, so `dest` is
 *   never half-written;
 * - an existing `.part` is resumed with `Range: bytes=<size>-` (a `206` appends; a `200` starts over);
 * - the size is checked against `Content-Length` / `Content-Range` / `x-linked-size`;
 * - the SHA-256 is checked against `x-linked-etag` / `etag` when those are a 64-hex sha256 (the
 *   Hugging Face Hub gives one for large files) and against `options.sha256`;
 * - redirects are followed (up to 10), keeping the Hub's `x-linked-*` headers from the first hop.
 *
 * @throws CodecError `download-failed` (network error, HTTP error such as 404, size mismatch or
 *   over `maxBytes`), `checksum-mismatch` (the `.part` is deleted); the signal's reason when aborted
 */
export async function downloadFile(url: string, dest: string, options: DownloadFileOptions = {}): Promise<DownloadResult> {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url)) throw new TypeError(`url must be an http(s) URL, got ${String(url)}`);
  if (typeof dest !== "string" || dest === "") throw new TypeError("dest must be a non-empty path");
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isSafeInteger(retries) || retries < 0) throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const callerSha = options.sha256 === undefined ? undefined : expectedSha256(options.sha256);

  const target = path.resolve(dest);
  // The first folder this call creates, if any: removed again (when still empty) on failure, so
  // a failed download leaves no empty folders behind.
  const created = await mkdir(path.dirname(target), { recursive: true });
  let reported = -1;
  const progress = (receivedBytes: number, totalBytes: number | null): void => {
    if (receivedBytes <= reported || !options.onProgress) return;
    reported = receivedBytes;
    options.onProgress({ url, receivedBytes, totalBytes });
  };

  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await attemptDownload(url, target, { ...options, maxBytes, callerSha, progress });
    } catch (error) {
      if (attempt < retries && !options.signal?.aborted && error instanceof CodecError && retryable.has(error)) continue;
      if (created !== undefined) await removeEmptyFolders(path.dirname(target), created);
      if (options.signal?.aborted) throw options.signal.reason;
      throw error;
    }
  }
}

/** Removes `dir` and its parents up to `top` (inclusive) while they are empty. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  const stop = path.resolve(top);
  for (let current = path.resolve(dir); current.startsWith(stop); current = path.dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (a `.part` kept for a resume, other files), or already gone
    }
    if (current === stop) return;
  }
}

/**
 * What a failed `fetch` says, with its causes: undici reports "fetch failed" and puts the reason
 * (`connect ECONNREFUSED 127.0.0.1:1`, `getaddrinfo ENOTFOUND host`, a TLS error) in `cause`.
 */
function describeFetchFailure(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    const text = typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
    if (text !== "" && !parts.includes(text)) parts.push(text);
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}

interface AttemptOptions extends DownloadFileOptions {
  maxBytes: number;
  callerSha: string | undefined;
  progress: (receivedBytes: number, totalBytes: number | null) => void;
}

async function attemptDownload(url: string, target: string, o: AttemptOptions): Promise<DownloadResult> {
  const part = `${target}.part`;
  let existing = (await stat(part).catch(() => null))?.size ?? 0;
  if (existing > o.maxBytes) {
    await rm(part, { force: true });
    existing = 0;
  }

  const { response, linkedSize, linkedSha } = await fetchFollowing(url, existing, o);
  let total: number | undefined;
  let append = false;
  if (response.status === 206) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (!range || range.first !== existing) {
      await discard(response, part);
      throw transient(new CodecError("download-failed", `${url}: the server resumed at ${range?.first ?? "an unknown offset"} instead of byte ${existing}; restarting`));
    }
    total = range.total;
    append = true;
  } else if (response.status === 416) {
    const range = parseContentRange(response.headers.get("content-range"));
    await response.body?.cancel();
    if (range?.total !== existing || existing === 0) {
      await rm(part, { force: true });
      throw transient(new CodecError("download-failed", `${url}: the server refused to resume at byte ${existing}; restarting`));
    }
    total = existing;
    append = true;
  } else if (response.status === 200) {
    if (!response.headers.has("content-encoding")) total = sizeHeader(response.headers.get("content-length"));
  } else {
    await response.body?.cancel();
    const error = new CodecError("download-failed", `${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
    throw response.status >= 500 || response.status === 408 || response.status === 429 ? transient(error) : error;
  }

  if (linkedSize !== undefined) {
    if (total !== undefined && total !== linkedSize) {
      await discard(response, part);
      throw new CodecError("download-failed", `${url}: the server announces ${linkedSize} bytes (x-linked-size) but sends ${total}`);
    }
    total = linkedSize;
  }
  if (total !== undefined && total > o.maxBytes) {
    await discard(response, part);
    throw new CodecError("download-failed", `${url}: ${total} bytes is over the ${o.maxBytes}-byte limit`);
  }

  const hash = createHash("sha256");
  if (append) await hashFile(part, hash);
  else existing = 0;
  let received = existing;
  o.progress(received, total ?? null);

  if (response.status !== 416) {
    const file = await open(part, append ? "a" : "w");
    try {
      const body = response.body;
      if (body) {
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
          received += chunk.byteLength;
          if ((total !== undefined && received > total) || received > o.maxBytes) {
            await body.cancel().catch(() => undefined);
            await file.close();
            await rm(part, { force: true });
            throw new CodecError("download-failed", `${url}: received more than the ${total ?? o.maxBytes} bytes expected`);
          }
          hash.update(chunk);
          await file.write(chunk);
          o.progress(received, total ?? null);
        }
      }
    } catch (error) {
      if (error instanceof CodecError) throw error;
      if (o.signal?.aborted) throw o.signal.reason;
      throw transient(new CodecError("download-failed", `${url}: connection lost after ${received} bytes (kept in ${path.basename(part)} for a resume)`, { cause: error }));
    } finally {
      await file.close().catch(() => undefined);
    }
  }

  if (total !== undefined && received !== total) {
    throw transient(new CodecError("download-failed", `${url}: got ${received} of ${total} bytes (kept in ${path.basename(part)} for a resume)`));
  }
  const digest = hash.digest("hex");
  for (const [expected, from] of [
    [linkedSha, "the server"],
    [o.callerSha, "the caller"],
  ] as const) {
    if (expected !== undefined && !digest.startsWith(expected)) {
      await rm(part, { force: true });
      throw new CodecError("checksum-mismatch", `${url}: sha256 ${digest} does not match ${expected} given by ${from}; the download was deleted`);
    }
  }
  await rename(part, target);
  return { path: target, bytes: received, sha256: digest, resumed: append && existing > 0 };
}

/**
 * GET with redirects followed by hand, so that the Hub's `x-linked-size` / `x-linked-etag` on the
 * redirect are seen, and the Range and caller headers are kept (the latter only on the same origin).
 */
async function fetchFollowing(
  url: string,
  from: number,
  o: AttemptOptions,
): Promise<{ response: Response; linkedSize: number | undefined; linkedSha: string | undefined }> {
  let current = url;
  let linkedSize: number | undefined;
  let linkedSha: string | undefined;
  const origin = new URL(url).origin;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = new URL(current).origin === origin ? { ...o.headers } : {};
    if (from > 0) headers.range = `bytes=${from}-`;
    let response: Response;
    try {
      response = await fetch(current, { headers, redirect: "manual", signal: o.signal ?? null });
    } catch (cause) {
      if (o.signal?.aborted) throw o.signal.reason;
      throw transient(new CodecError("download-failed", `${current}: request failed (${describeFetchFailure(cause)})`, { cause }));
    }
    linkedSize ??= sizeHeader(response.headers.get("x-linked-size"));
    linkedSha ??= sha256FromEtag(response.headers.get("x-linked-etag"));
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    linkedSha ??= sha256FromEtag(response.headers.get("etag"));
    return { response, linkedSize, linkedSha };
  }
  throw new CodecError("download-failed", `${url}: more than ${MAX_REDIRECTS} redirects`);
}

async function discard(response: Response, part: string): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
  await rm(part, { force: true });
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Uint8Array);
}
