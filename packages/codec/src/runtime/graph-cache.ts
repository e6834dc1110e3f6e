import { encodecConfigToJson, type EncodecConfig } from "../config.js";
import { GRAPH_BUILDER_VERSION } from "../onnx/encodec-graphs.js";
import type { RawTensor } from "../weights/raw-tensor.js";
import type { OrtRuntime, OrtSession, OrtSessionOptions } from "./ort-types.js";

/**
 * Storage for built ONNX graphs, keyed by {@link graphCacheKey}. `@encstream/codec/node` provides a
 * directory-backed one; in a browser, pass your own (IndexedDB, Cache API) or none.
 */
export interface GraphCache {
  /** The bytes stored under `key`, or undefined. Must not throw for a missing or unreadable entry. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Store `bytes` under `key` (best effort; a failure must not break loading). */
  write(key: string, bytes: Uint8Array): Promise<void>;
  /**
   * Optional: a file path holding the bytes of `key`, or undefined when there is none. When
   * present, sessions are opened from the path (ONNX Runtime reads the file itself: no copy of
   * the graph in JS memory). Node only; must not throw.
   */
  pathOf?(key: string): Promise<string | undefined>;
}

const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * SHA-256 (hex) over the graph builder version, the config (canonical Hugging Face JSON) and every
 * tensor (name, shape, float32 values), in name order. Pass the prepared (folded) weights, so that
 * the same model from a `.th` or a `.safetensors` file, with or without training buffers, has one key. Uses Web Crypto (`crypto.subtle`, present
 * in Node ≥ 20 and secure browser contexts); returns null where it is unavailable.
 */
export async function hashModel(config: EncodecConfig, tensors: ReadonlyMap<string, RawTensor>): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const parts: Uint8Array[] = [encoder.encode(`encstream-graphs:${GRAPH_BUILDER_VERSION}\n${JSON.stringify(encodecConfigToJson(config))}\n`)];
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    const data = new Uint8Array(t.data.buffer as ArrayBuffer, t.data.byteOffset, t.data.byteLength);
    const digest = await subtle.digest("SHA-256", data);
    parts.push(encoder.encode(`${name}[${t.dims.join(",")}]`), new Uint8Array(digest));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return toHex(await subtle.digest("SHA-256", all));
}

/** Cache key of one graph of a model: `encodec-<first 32 hex digits of the model hash>-<graph name>`. */
export function graphCacheKey(modelHash: string, graphName: string): string {
  return `encodec-${modelHash.slice(0, 32)}-${graphName}`;
}

/** Counters a graph opener adds to: graphs built, graphs read from the cache, milliseconds spent building. */
export interface GraphOpenStats {
  built: number;
  fromCache: number;
  buildMs: number;
}

/** Options of {@link createGraphOpener}. */
export interface GraphOpenerOptions {
  readonly runtime: OrtRuntime;
  readonly sessionOptions: OrtSessionOptions;
  /** Where graphs are looked up and stored; undefined: every graph is built. */
  readonly cache: GraphCache | undefined;
  /** {@link hashModel} of the model, or null (no caching: Web Crypto unavailable or no cache). */
  readonly modelHash: string | null;
  /** Put before each graph name in its cache key. @default "" */
  readonly keyPrefix?: string;
  /** Counters to update. @default undefined (none kept) */
  readonly stats?: GraphOpenStats;
}

/** Opens graph `name` as a session: from the cache, or built by `build` (which may be async, e.g. to load the weights first). */
export type GraphOpener = (name: string, build: () => Uint8Array | Promise<Uint8Array>) => Promise<OrtSession>;

/**
 * `openGraph(name, build)`: an inference session for graph `name`, opened from the cache (key
 * {@link graphCacheKey} of `keyPrefix + name`) when it holds the graph, otherwise built with
 * `build()`, stored in the cache and opened. A cached graph that ONNX Runtime cannot open
 * (truncated, corrupted) is rebuilt and replaced.
 */
export function createGraphOpener(options: GraphOpenerOptions): GraphOpener {
  const { runtime, sessionOptions, cache, modelHash, stats } = options;
  const keyPrefix = options.keyPrefix ?? "";
  return async (name, build) => {
    const key = modelHash !== null ? graphCacheKey(modelHash, `${keyPrefix}${name}`) : null;
    const hit = cache && key ? await (cache.pathOf ? cache.pathOf(key) : cache.read(key)) : undefined;
    if (hit) {
      try {
        const session = typeof hit === "string" ? await runtime.InferenceSession.create(hit, sessionOptions) : await runtime.InferenceSession.create(hit, sessionOptions);
        if (stats) stats.fromCache++;
        return session;
      } catch {
        // fall through to a rebuild
      }
    }
    const t0 = now();
    const bytes = await build();
    if (stats) {
      stats.buildMs += now() - t0;
      stats.built++;
    }
    if (cache && key) await cache.write(key, bytes);
    return runtime.InferenceSession.create(bytes, sessionOptions);
  };
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
