import { encodecConfigToJson, type EncodecConfig } from "../config.js";
import { GRAPH_BUILDER_VERSION } from "../onnx/encodec-graphs.js";
import type { RawTensor } from "../weights/raw-tensor.js";

/**
 * Storage for built ONNX graphs, keyed by {@link graphCacheKey}. `@encstream/codec/node` provides a
 * directory-backed one; in a browser, pass your own (IndexedDB, Cache API) or none.
 */
export interface GraphCache {
  /** The bytes stored under `key`, or undefined. Must not throw for a missing or unreadable entry. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Store `bytes` under `key` (best effort; a failure must not break loading). */
  write(key: string, bytes: Uint8Array): Promise<void>;
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
