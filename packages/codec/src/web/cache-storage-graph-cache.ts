import type { GraphCache } from "../runtime/graph-cache.js";

/** Options of {@link CacheStorageGraphCache}. */
export interface CacheStorageGraphCacheOptions {
  /** Name of the Cache API cache. @default "encstream-graphs" */
  readonly cacheName?: string;
  /** Largest graph read back, bytes (a bigger entry counts as a miss). @default 268435456 (256 MiB) */
  readonly maxEntryBytes?: number;
  /** The `CacheStorage` to use. @default globalThis.caches */
  readonly caches?: CacheStorage;
}

/** Where entries live: a made-up origin, never fetched (the Cache API only needs an http(s) URL as the key). */
const ENTRY_BASE = "https://graphs.encstream.invalid/";
const DEFAULT_MAX_ENTRY_BYTES = 256 * 1024 * 1024;

/**
 * A {@link GraphCache} in the browser's Cache API (`caches`, in pages and workers of secure
 * contexts: https or localhost). Built graphs survive reloads, so a second visit skips building.
 * Where the Cache API is missing (plain http on a LAN address) every read misses and writes are
 * dropped: loading still works, it just builds every time. Nothing here throws.
 */
export class CacheStorageGraphCache implements GraphCache {
  readonly #cacheName: string;
  readonly #maxEntryBytes: number;
  readonly #storage: CacheStorage | undefined;
  #cache: Promise<Cache | undefined> | undefined;

  constructor(options: CacheStorageGraphCacheOptions = {}) {
    const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
    if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= 0) throw new RangeError(`maxEntryBytes must be a positive integer, got ${maxEntryBytes}`);
    this.#cacheName = options.cacheName ?? "encstream-graphs";
    this.#maxEntryBytes = maxEntryBytes;
    this.#storage = options.caches ?? (globalThis as { caches?: CacheStorage }).caches;
  }

  /** True when the Cache API is there to use. */
  get available(): boolean {
    return this.#storage !== undefined;
  }

  #open(): Promise<Cache | undefined> {
    this.#cache ??= this.#storage ? this.#storage.open(this.#cacheName).catch(() => undefined) : Promise.resolve(undefined);
    return this.#cache;
  }

  /** The graph stored under `key`, or undefined (missing, too large, or unreadable). */
  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const cache = await this.#open();
      const res = await cache?.match(ENTRY_BASE + encodeURIComponent(key));
      if (!res) return undefined;
      const declared = Number(res.headers.get("content-length") ?? "0");
      if (declared > this.#maxEntryBytes) return undefined;
      const bytes = new Uint8Array(await res.arrayBuffer());
      return bytes.byteLength > 0 && bytes.byteLength <= this.#maxEntryBytes ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /** Store `bytes` under `key` (best effort: a full quota or a missing Cache API is ignored). */
  async write(key: string, bytes: Uint8Array): Promise<void> {
    try {
      const cache = await this.#open();
      if (!cache) return;
      const body = bytes.slice(); // a copy the Response owns (the caller's buffer may be a view of a larger one)
      await cache.put(
        ENTRY_BASE + encodeURIComponent(key),
        new Response(body, { headers: { "content-type": "application/octet-stream", "content-length": String(body.byteLength) } }),
      );
    } catch {
      // best effort
    }
  }

  /** Remove every graph of this cache. @returns whether a cache was deleted */
  async clear(): Promise<boolean> {
    this.#cache = undefined;
    try {
      return (await this.#storage?.delete(this.#cacheName)) ?? false;
    } catch {
      return false;
    }
  }
}
