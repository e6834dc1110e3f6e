import { CodecError } from "../errors.js";
import { elementCount, type RawTensor, type TensorDtype, type TensorMap } from "./raw-tensor.js";
import { bytesToFloat32 } from "../internal/dtype.js";
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_WEIGHT_ELEMENTS, MAX_WEIGHT_TENSORS } from "./limits.js";


const DTYPE_BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

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
  if (bytes.byteLength < 8) throw new CodecError("truncated", `${source}: not a safetensors file (${bytes.byteLength} bytes, need at least 8)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new CodecError("bad-file", `${source}: safetensors header of ${headerLen} bytes is beyond any EnCodec model's (at most ${MAX_SAFETENSORS_HEADER_BYTES})`);
  }
  if (8 + headerLen > bytes.byteLength) {
    throw new CodecError("bad-file", `${source}: safetensors header length ${headerLen} does not fit the file (${bytes.byteLength} bytes)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
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
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const out: TensorMap = new Map();
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
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    const tensor: RawTensor = { dims, data: bytesToFloat32(raw, dtype, count), sourceDtype: dtype };
    out.set(name, tensor);
  }
  return out;
}
