import { CodecError } from "../errors.js";
import { loadLmWeights, type LmWeights, type LoadLmWeightsOptions } from "../lm/lm-weights.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readTorchCheckpoint } from "../weights/torch-checkpoint.js";
import { fetchBytes, fetchOf, maxWeightsBytesOf, resolveUrl, type WebSourceOptions } from "./web-source.js";

/**
 * Fetch a language model for LM-coded streams and files: a `.safetensors` (`lm.safetensors`) or
 * `.th` (`lm.th`, `encodec_lm_24khz-1608e3c0.th`) file by URL (relative URLs as in
 * `loadEncodec`), or its bytes. `options.lm` sets what the shapes cannot tell (heads, past context, frame rate). With `optional`, a 404 gives null (no LM published beside the model).
 *
 * @throws CodecError `download-failed`, `bad-file` or `lm-unavailable` for a file that cannot be fetched or read
 */
export async function loadLmWeightsWeb(
  source: { readonly url: string | URL; readonly optional?: boolean } | { readonly bytes: Uint8Array | ArrayBuffer },
  options: WebSourceOptions & { readonly lm?: LoadLmWeightsOptions } = {},
): Promise<LmWeights | null> {
  const maxBytes = maxWeightsBytesOf(options);
  let bytes: Uint8Array;
  let name: string;
  if (typeof source === "object" && source !== null && "bytes" in source && (source.bytes instanceof Uint8Array || source.bytes instanceof ArrayBuffer)) {
    bytes = source.bytes instanceof Uint8Array ? source.bytes : new Uint8Array(source.bytes);
    name = "lm";
  } else if (typeof source === "object" && source !== null && "url" in source && (typeof source.url === "string" || source.url instanceof URL)) {
    const url = resolveUrl(source.url, options.baseUrl);
    const got = await fetchBytes(fetchOf(options), url, maxBytes, source.optional === true);
    if (got === null) return null;
    bytes = got;
    name = url.href;
  } else {
    throw new TypeError("source must be { url, optional? } or { bytes }");
  }
  if (bytes.byteLength > maxBytes) throw new CodecError("bad-file", `${name}: ${bytes.byteLength} bytes is over the ${maxBytes}-byte limit`);
  const zip = bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const tensors = zip ? readTorchCheckpoint(bytes, name, { maxBytes }) : readSafetensors(bytes, name);
  return loadLmWeights(tensors, { source: name, ...options.lm });
}
