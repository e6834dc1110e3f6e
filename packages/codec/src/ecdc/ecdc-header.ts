import { CodecError } from "../errors.js";
import { ECDC_HEADER_BYTES, ECDC_MAGIC, ECDC_VERSION, MAX_ECDC_AUDIO_SAMPLES, MAX_ECDC_CODEBOOKS, MAX_ECDC_METADATA_BYTES } from "./constants.js";

/**
 * `.ecdc` header, as written by the reference `encodec/binary.py` (`struct` format `!4sBI`):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | magic `ECDC` |
 * | 4 | 1 | version, 0 |
 * | 5 | 4 | JSON length N, big-endian uint32 |
 * | 9 | N | JSON metadata, UTF-8: `{"m": model name, "al": audio length in samples, "nc": codebooks, "lm": bool}` |
 * | 9 + N | … | body: per segment [float32 BE scale if the model normalises] + codes |
 */
export interface EcdcMetadata {
  /** Model name, `m`: `encodec_24khz` or `encodec_48khz` for the published models. */
  readonly modelName: string;
  /** Audio length in samples (per channel), `al`. */
  readonly audioLength: number;
  /** Codebooks per frame, `nc` (8 at 6 kbps on 24 kHz, 4 at 6 kbps on 48 kHz). */
  readonly numCodebooks: number;
  /** `lm`: true when the codes are arithmetic-coded with the language model instead of bit-packed. */
  readonly useLm: boolean;
}

/** The parsed header and where the body starts. */
export interface EcdcHeader {
  readonly metadata: EcdcMetadata;
  /** Offset in the file of the first body byte. */
  readonly bodyOffset: number;
}

/**
 * Parse the header of an `.ecdc` file (also of LM-coded files, whose body the caller decodes).
 *
 * @param bytes the file (or at least its header); not retained
 * @param source name of the file, for error messages
 * @throws CodecError `truncated` (fewer bytes than the header says), `bad-file` (no `ECDC` magic),
 *   `unsupported` (version other than 0), `corrupt` (JSON length over the limit, bad JSON, a
 *   field missing or out of range)
 */
export function parseEcdcHeader(bytes: Uint8Array, source = "ecdc"): EcdcHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
  if (bytes.byteLength < ECDC_HEADER_BYTES) throw new CodecError("truncated", `${source}: ${bytes.byteLength} bytes is shorter than the ${ECDC_HEADER_BYTES}-byte .ecdc header`);
  for (let i = 0; i < ECDC_MAGIC.length; i++) {
    if (bytes[i] !== ECDC_MAGIC[i]) throw new CodecError("bad-file", `${source}: not an .ecdc file (no ECDC magic)`);
  }
  const version = bytes[4]!;
  if (version !== ECDC_VERSION) throw new CodecError("unsupported", `${source}: .ecdc version ${version} is not supported (only ${ECDC_VERSION})`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5, false);
  if (length > MAX_ECDC_METADATA_BYTES) throw new CodecError("corrupt", `${source}: metadata length ${length} is over the ${MAX_ECDC_METADATA_BYTES}-byte limit`);
  const bodyOffset = ECDC_HEADER_BYTES + length;
  if (bodyOffset > bytes.byteLength) throw new CodecError("truncated", `${source}: metadata of ${length} bytes, only ${bytes.byteLength - ECDC_HEADER_BYTES} present`);

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(ECDC_HEADER_BYTES, bodyOffset)));
  } catch (cause) {
    throw new CodecError("corrupt", `${source}: metadata is not UTF-8 JSON`, { cause });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new CodecError("corrupt", `${source}: metadata is not a JSON object`);
  const { m, al, nc, lm } = json as Record<string, unknown>;
  if (typeof m !== "string") throw new CodecError("corrupt", `${source}: metadata field m (model name) is missing or not a string`);
  if (typeof al !== "number" || !Number.isSafeInteger(al) || al < 0 || al > MAX_ECDC_AUDIO_SAMPLES) {
    throw new CodecError("corrupt", `${source}: metadata field al (audio length) must be an integer in [0, ${MAX_ECDC_AUDIO_SAMPLES}], got ${JSON.stringify(al)}`);
  }
  if (typeof nc !== "number" || !Number.isSafeInteger(nc) || nc < 1 || nc > MAX_ECDC_CODEBOOKS) {
    throw new CodecError("corrupt", `${source}: metadata field nc (codebooks) must be an integer in [1, ${MAX_ECDC_CODEBOOKS}], got ${JSON.stringify(nc)}`);
  }
  if (typeof lm !== "boolean") throw new CodecError("corrupt", `${source}: metadata field lm must be true or false, got ${JSON.stringify(lm)}`);
  return { metadata: { modelName: m, audioLength: al, numCodebooks: nc, useLm: lm }, bodyOffset };
}

/**
 * Encode an `.ecdc` header exactly as the reference does (Python `json.dumps` spacing and ASCII
 * escapes, key order m, al, nc, lm), so that files are byte-identical to the reference's.
 *
 * @returns a fresh array: the 9 fixed bytes and the JSON
 * @throws RangeError / TypeError naming the metadata field that is out of range
 */
export function encodeEcdcHeader(metadata: EcdcMetadata): Uint8Array {
  const { modelName, audioLength, numCodebooks, useLm } = metadata;
  if (typeof modelName !== "string") throw new TypeError("modelName must be a string");
  if (!Number.isSafeInteger(audioLength) || audioLength < 0 || audioLength > MAX_ECDC_AUDIO_SAMPLES) {
    throw new RangeError(`audioLength must be an integer in [0, ${MAX_ECDC_AUDIO_SAMPLES}], got ${audioLength}`);
  }
  if (!Number.isSafeInteger(numCodebooks) || numCodebooks < 1 || numCodebooks > MAX_ECDC_CODEBOOKS) {
    throw new RangeError(`numCodebooks must be an integer in [1, ${MAX_ECDC_CODEBOOKS}], got ${numCodebooks}`);
  }
  if (typeof useLm !== "boolean") throw new TypeError("useLm must be a boolean");
  const json = new TextEncoder().encode(`{"m": ${pythonJsonString(modelName)}, "al": ${audioLength}, "nc": ${numCodebooks}, "lm": ${useLm}}`);
  if (json.byteLength > MAX_ECDC_METADATA_BYTES) throw new RangeError(`modelName makes the metadata longer than ${MAX_ECDC_METADATA_BYTES} bytes`);
  const out = new Uint8Array(ECDC_HEADER_BYTES + json.byteLength);
  out.set(ECDC_MAGIC, 0);
  out[4] = ECDC_VERSION;
  new DataView(out.buffer).setUint32(5, json.byteLength, false);
  out.set(json, ECDC_HEADER_BYTES);
  return out;
}

/** A JSON string as Python's `json.dumps` (ensure_ascii) writes it: everything outside ' '..'~' as `\uXXXX`. */
function pythonJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
