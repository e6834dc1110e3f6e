import { parseEncodecConfig, type EncodecConfig } from "../config.js";
import { CodecError } from "../errors.js";
import { deriveHfConfig, type DeriveConfigHints } from "../weights/derive-config.js";
import { hasOriginalNames, mapOriginalToHfNames } from "../weights/name-map.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readTorchCheckpoint } from "../weights/torch-checkpoint.js";

/**
 * What to load in a browser (or any WebAssembly host):
 * - `{ config, tensors }`: a config (parsed or the raw `config.json` object) and weights;
 * - `{ weights, config? }`: the bytes of a `.safetensors` or `.th` file (original names are
 *   mapped); without `config`, it is derived from the weights;
 * - `{ url }`: a folder URL in the Hugging Face layout (`config.json` + `model.safetensors`); a
 *   relative URL is resolved against `baseUrl` (default: the page's or worker's own URL).
 */
export type WebModelSource =
  | { readonly config: EncodecConfig | unknown; readonly tensors: TensorMap }
  | { readonly weights: Uint8Array | ArrayBuffer; readonly config?: EncodecConfig | unknown }
  | { readonly url: string | URL };

/** How sources are fetched and read. */
export interface WebSourceOptions {
  /** The fetch used for URLs. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** What relative URLs are resolved against. @default document.baseURI, else location.href */
  readonly baseUrl?: string | URL;
  /** Largest weights file accepted, bytes. @default 536870912 (512 MiB) */
  readonly maxWeightsBytes?: number;
  /** Settings for a config derived from the weights. @default {} */
  readonly hints?: DeriveConfigHints;
}

const DEFAULT_MAX_WEIGHTS_BYTES = 512 * 1024 * 1024;
const MAX_CONFIG_BYTES = 1024 * 1024;

function isParsedConfig(value: unknown): value is EncodecConfig {
  return typeof value === "object" && value !== null && "sampleRateHz" in value && "upsamplingRatios" in value;
}

/** Weights bytes (`.th` zip or `.safetensors`) as tensors with Hugging Face names. */
export function readWeightBytes(bytes: Uint8Array, source: string, maxBytes: number): TensorMap {
  const zip = bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const read = zip ? readTorchCheckpoint(bytes, source, { maxBytes }) : readSafetensors(bytes, source);
  return hasOriginalNames(read) ? mapOriginalToHfNames(read, source) : read;
}

/** The absolute URL of `url`: as given when absolute, else against `baseUrl` or the page. @throws TypeError when it cannot be resolved */
export function resolveUrl(url: string | URL, baseUrl: string | URL | undefined): URL {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  const base = baseUrl ?? g.document?.baseURI ?? g.location?.href;
  try {
    return base === undefined ? new URL(url) : new URL(url, base);
  } catch (cause) {
    throw new TypeError(`url ${String(url)} is relative and there is no base URL to resolve it against (pass baseUrl)`, { cause });
  }
}

/** The checked fetch of the loaders: HTTP errors and over-size bodies are `CodecError`s naming the URL; a 404 gives null when `optional`. */
export async function fetchBytes(doFetch: typeof fetch, url: URL, maxBytes: number, optional: boolean): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await doFetch(url);
  } catch {
    // One retry: a kept-alive connection the server closed meanwhile fails the first attempt.
    try {
      res = await doFetch(url);
    } catch (cause) {
      throw new CodecError("download-failed", `${url}: request failed`, { cause });
    }
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (optional && res.status === 404) return null;
    throw new CodecError("download-failed", `${url}: HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new CodecError("bad-file", `${url}: ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new CodecError("bad-file", `${url}: ${bytes.byteLength} bytes is over the ${maxBytes}-byte limit`);
  return bytes;
}

function parseConfigBytes(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new CodecError("bad-config", `${source}: not valid UTF-8 JSON`, { cause });
  }
}

/** The fetch to use, checked. */
export function fetchOf(options: WebSourceOptions): typeof fetch {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== "function") throw new TypeError("options.fetch is required where globalThis.fetch is missing");
  return doFetch;
}

/** `maxWeightsBytes`, checked. */
export function maxWeightsBytesOf(options: WebSourceOptions): number {
  const maxBytes = options.maxWeightsBytes ?? DEFAULT_MAX_WEIGHTS_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxWeightsBytes must be a positive integer, got ${maxBytes}`);
  return maxBytes;
}

/**
 * The parsed config and weights of a web source (fetching `{ url }`).
 *
 * @throws CodecError for unreadable weights or config, failed downloads
 * @throws TypeError / RangeError for a bad source or options
 */
export async function readWebSource(source: WebModelSource, options: WebSourceOptions): Promise<{ config: EncodecConfig; tensors: TensorMap }> {
  const maxBytes = maxWeightsBytesOf(options);
  let rawConfig: unknown;
  let tensors: TensorMap;
  if (typeof source !== "object" || source === null) throw new TypeError("source must be { config, tensors }, { weights, config? } or { url }");
  if ("tensors" in source && source.tensors instanceof Map) {
    rawConfig = source.config;
    tensors = source.tensors;
  } else if ("weights" in source && (source.weights instanceof Uint8Array || source.weights instanceof ArrayBuffer)) {
    const bytes = source.weights instanceof Uint8Array ? source.weights : new Uint8Array(source.weights);
    if (bytes.byteLength > maxBytes) throw new CodecError("bad-file", `weights: ${bytes.byteLength} bytes is over the ${maxBytes}-byte limit`);
    tensors = readWeightBytes(bytes, "weights", maxBytes);
    rawConfig = source.config ?? deriveHfConfig(tensors, options.hints ?? {}, "weights");
  } else if ("url" in source && (typeof source.url === "string" || source.url instanceof URL)) {
    const doFetch = fetchOf(options);
    const base = resolveUrl(source.url.toString().replace(/\/?$/, "/"), options.baseUrl);
    const configUrl = new URL("config.json", base);
    const weightsUrl = new URL("model.safetensors", base);
    const [configBytes, weightBytes] = await Promise.all([fetchBytes(doFetch, configUrl, MAX_CONFIG_BYTES, true), fetchBytes(doFetch, weightsUrl, maxBytes, false)]);
    tensors = readWeightBytes(weightBytes!, weightsUrl.href, maxBytes);
    rawConfig = configBytes ? parseConfigBytes(configBytes, configUrl.href) : deriveHfConfig(tensors, options.hints ?? {}, weightsUrl.href);
  } else {
    throw new TypeError("source must be { config, tensors }, { weights, config? } or { url }");
  }
  return { config: isParsedConfig(rawConfig) ? rawConfig : parseEncodecConfig(rawConfig), tensors };
}
