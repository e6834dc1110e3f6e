import { CodecError } from "../errors.js";
import { elementCount, type RawTensor, type TensorDtype, type TensorMap } from "./raw-tensor.js";
import { bytesToFloat32 } from "../internal/dtype.js";
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_WEIGHT_ELEMENTS, MAX_WEIGHT_TENSORS } from "./limits.js";


const DTYPE_BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

/** One tensor listed in a safetensors header, checked against the data's length. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly dims: readonly number[];
  /** Elements (the product of `dims`). */
  readonly count: number;
  /** Byte range within the data that follows the header. */
  readonly begin: number;
  readonly end: number;
}

/** Bytes of one element of `dtype`. */
export function dtypeBytes(dtype: TensorDtype): number {
  return DTYPE_BYTES[dtype];
}

/**
 * The JSON header's length from a safetensors file's first 8 bytes, checked against the limit and
 * the file's length (`fileBytes`).
 * @throws CodecError `truncated` / `bad-file`
 */
export function safetensorsHeaderLength(first8: Uint8Array, fileBytes: number, source = "safetensors"): number {
  if (first8.byteLength < 8 || fileBytes < 8) throw new CodecError("truncated", `${source}: not a safetensors file (${fileBytes} bytes, need at least 8)`);
  const headerLen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new CodecError("bad-file", `${source}: safetensors header of ${headerLen} bytes is beyond any EnCodec model's (at most ${MAX_SAFETENSORS_HEADER_BYTES})`);
  }
  if (8 + headerLen > fileBytes) {
    throw new CodecError("bad-file", `${source}: safetensors header length ${headerLen} does not fit the file (${fileBytes} bytes)`);
  }
  return headerLen;
}

/**
 * Parse and check a safetensors JSON header (`headerBytes`, without the 8-byte length) against the
 * `dataLen` bytes that follow it: every dtype, shape and byte range, the tensor count and the
 * total of elements held to an EnCodec model's limits. Entries come in header order.
 * @throws CodecError `bad-file` / `corrupt` / `unsupported`
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLen: number, source = "safetensors"): SafetensorsEntry[] {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes)) as Record<string, unknown>;
  } catch (cause) {
    throw new CodecError("bad-file", `${source}: safetensors header is not valid UTF-8 JSON`, { cause });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new CodecError("bad-file", `${source}: safetensors header is not a JSON object`);
  }
  const entries = Object.keys(header).length;
  if (entries > MAX_WEIGHT_TENSORS + 1) {
    throw new CodecError("bad-file", `${source}: safetensors header lists ${entries} entries, more than an EnCodec model's ${MAX_WEIGHT_TENSORS}`);
  }
  let elements = 0;
  const out: SafetensorsEntry[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e.dtype as TensorDtype;
    if (typeof e.dtype !== "string" || !(dtype in DTYPE_BYTES)) {
      throw new CodecError("unsupported", `${source}: tensor ${name} has unsupported dtype ${String(e.dtype)}`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new CodecError("corrupt", `${source}: tensor ${name} has an invalid shape`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw new CodecError("corrupt", `${source}: tensor ${name} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = e.shape as number[];
    const count = elementCount(dims);
    elements += count;
    if (elements > MAX_WEIGHT_ELEMENTS) {
      throw new CodecError("bad-file", `${source}: tensors add up to more than ${MAX_WEIGHT_ELEMENTS} elements, beyond any EnCodec model`);
    }
    if (end < begin || end > dataLen || end - begin !== count * DTYPE_BYTES[dtype]) {
      throw new CodecError("corrupt", `${source}: tensor ${name} [${dims.join(", ")}] ${dtype} does not match its byte range ${begin}..${end} (data is ${dataLen} bytes)`);
    }
    out.push({ name, dtype, dims, count, begin, end });
  }
  return out;
}

/**
 * Parse a `.safetensors` buffer (8-byte little-endian header length, JSON header, raw data).
 * Every offset and shape is checked against the bytes present before use; the header's size,
 * its tensor count and their elements are held to what an EnCodec model can need (see
 * `limits.ts`) before it is parsed or any tensor is decoded.
 *
 * @param bytes the whole file
 * @param source name of the file, for error messages
 * @throws CodecError `bad-file` / `truncated` / `corrupt` / `unsupported`
 */
export function readSafetensors(bytes: Uint8Array, source = "safetensors"): TensorMap {
  const headerLen = safetensorsHeaderLength(bytes, bytes.byteLength, source);
  const dataStart = 8 + headerLen;
  const out: TensorMap = new Map();
  for (const e of parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart, source)) {
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    const tensor: RawTensor = { dims: e.dims, data: bytesToFloat32(raw, e.dtype, e.count), sourceDtype: e.dtype };
    out.set(e.name, tensor);
  }
  return out;
}
