import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/*
 * Moving a model's large initializers into an ONNX "external data" file, and back.
 *
 * ONNX Runtime opens a model whose initializers are external (TensorProto.data_location =
 * EXTERNAL, with `location`, `offset` and `length` in TensorProto.external_data) by mapping
 * each one from the data file (mmap, read-only pages shared with the page cache) instead of
 * parsing it out of the protobuf and copying it into its own tensors. For a full-size EnCodec
 * graph (46 MB) that removes two copies of the weights from a session's creation: about 5× less
 * CPU to open it, and the weights count in the resident set only once they are read.
 *
 * Only top-level graph initializers with `raw_data` of at least `minBytes` move; everything else
 * (nodes, small constants, subgraphs) is copied byte for byte. Fields used (onnx/onnx.proto):
 *
 * | message                | field          | no | type                           |
 * |------------------------|----------------|----|--------------------------------|
 * | ModelProto             | graph          |  7 | GraphProto                     |
 * | GraphProto             | initializer    |  5 | repeated TensorProto           |
 * | TensorProto            | raw_data       |  9 | bytes                          |
 * |                        | external_data  | 13 | repeated StringStringEntryProto |
 * |                        | data_location  | 14 | enum (0 DEFAULT, 1 EXTERNAL)   |
 * | StringStringEntryProto | key / value    | 1/2| string                         |
 */

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;

/** Options of {@link splitExternalData}. */
export interface SplitExternalDataOptions {
  /** Initializers with fewer `raw_data` bytes stay in the model. @default 4096 */
  readonly minBytes?: number;
  /** Each moved tensor starts at a multiple of this many bytes of the data file (a page: each maps on its own pages). @default 4096 */
  readonly alignBytes?: number;
}

/** A model split by {@link splitExternalData}. */
export interface SplitModel {
  /** The model, whose large initializers now name `location`. */
  readonly model: Uint8Array;
  /** The data file's contents (the moved tensors at their offsets, zero padding between). */
  readonly data: Uint8Array;
  /** How many initializers moved. */
  readonly movedTensors: number;
}

/** One field as it lies in a message: its number, wire type and the bytes of the whole field (tag included). */
interface RawField {
  readonly no: number;
  readonly wireType: WireType;
  readonly bytes: Uint8Array;
  /** For a length-delimited field: its payload. */
  readonly payload: Uint8Array | null;
}

function* fieldsOf(message: Uint8Array): Generator<RawField> {
  const r = new BinaryReader(message);
  while (r.pos < r.len) {
    const start = r.pos;
    const [no, wireType] = r.tag();
    let payload: Uint8Array | null = null;
    if (wireType === WireType.LengthDelimited) payload = r.bytes();
    else r.skip(wireType, no);
    yield { no, wireType, bytes: message.subarray(start, r.pos), payload };
  }
}

/** Rewrite the length-delimited field `no` of `message` (every occurrence) with `rewrite`; other fields are copied as they are. */
function rewriteField(message: Uint8Array, no: number, rewrite: (payload: Uint8Array) => Uint8Array): Uint8Array {
  const w = new BinaryWriter();
  for (const f of fieldsOf(message)) {
    if (f.no === no && f.payload) w.tag(no, WireType.LengthDelimited).bytes(rewrite(f.payload));
    else w.raw(f.bytes);
  }
  return w.finish();
}

/**
 * Move the large initializers of ONNX model `model` into a data file to be stored beside the
 * model as `location` (a bare file name: ONNX Runtime resolves it against the model's folder).
 * Opening the result needs the path of the model (sessions from bytes cannot find the data).
 *
 * @throws RangeError for a `location` that is not a bare file name, or bad options
 * @throws Error from the protobuf reader for bytes that are not a model
 */
export function splitExternalData(model: Uint8Array, location: string, options: SplitExternalDataOptions = {}): SplitModel {
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(location) || location === "." || location === "..") {
    throw new RangeError(`location must be a bare file name, got ${JSON.stringify(location)}`);
  }
  const minBytes = options.minBytes ?? 4096;
  const align = options.alignBytes ?? 4096;
  if (!Number.isInteger(minBytes) || minBytes < 1) throw new RangeError(`minBytes must be a positive integer, got ${minBytes}`);
  if (!Number.isInteger(align) || align < 1) throw new RangeError(`alignBytes must be a positive integer, got ${align}`);
  const moved: Array<{ offset: number; bytes: Uint8Array }> = [];
  let end = 0;
  const tensor = (t: Uint8Array): Uint8Array => {
    let raw: Uint8Array | null = null;
    for (const f of fieldsOf(t)) if (f.no === TENSOR_RAW_DATA && f.payload) raw = f.payload;
    if (raw === null || raw.length < minBytes) return t;
    const offset = Math.ceil(end / align) * align;
    moved.push({ offset, bytes: raw });
    end = offset + raw.length;
    const w = new BinaryWriter();
    for (const f of fieldsOf(t)) if (f.no !== TENSOR_RAW_DATA && f.no !== TENSOR_EXTERNAL_DATA && f.no !== TENSOR_DATA_LOCATION) w.raw(f.bytes);
    for (const [key, value] of [["location", location], ["offset", String(offset)], ["length", String(raw.length)]] as const) {
      w.tag(TENSOR_EXTERNAL_DATA, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).string(value).join();
    }
    w.tag(TENSOR_DATA_LOCATION, WireType.Varint).int32(DATA_LOCATION_EXTERNAL);
    return w.finish();
  };
  const out = rewriteField(model, MODEL_GRAPH, (graph) => rewriteField(graph, GRAPH_INITIALIZER, tensor));
  const data = new Uint8Array(end);
  for (const m of moved) data.set(m.bytes, m.offset);
  return { model: out, data, movedTensors: moved.length };
}

/**
 * The inverse of {@link splitExternalData}: `model` with every top-level initializer that names
 * external data read back into `raw_data` through `readData(location, offset, length)` (which
 * must return exactly `length` bytes or throw).
 *
 * @throws Error for an external reference without a valid offset and length, or from `readData`
 */
export function inlineExternalData(model: Uint8Array, readData: (location: string, offset: number, length: number) => Uint8Array): Uint8Array {
  const tensor = (t: Uint8Array): Uint8Array => {
    let external = false;
    const info = new Map<string, string>();
    for (const f of fieldsOf(t)) {
      if (f.no === TENSOR_DATA_LOCATION && f.wireType === WireType.Varint) external = new BinaryReader(f.bytes.subarray(1)).int32() === DATA_LOCATION_EXTERNAL;
      if (f.no === TENSOR_EXTERNAL_DATA && f.payload) {
        let key = "";
        let value = "";
        for (const e of fieldsOf(f.payload)) {
          if (e.payload && e.no === 1) key = new TextDecoder().decode(e.payload);
          if (e.payload && e.no === 2) value = new TextDecoder().decode(e.payload);
        }
        info.set(key, value);
      }
    }
    if (!external) return t;
    const location = info.get("location") ?? "";
    const offset = Number(info.get("offset") ?? "0");
    const length = Number(info.get("length"));
    if (location === "" || !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new Error(`external tensor with a bad reference (location ${JSON.stringify(location)}, offset ${info.get("offset")}, length ${info.get("length")})`);
    }
    const raw = readData(location, offset, length);
    if (raw.length !== length) throw new Error(`external tensor: read ${raw.length} bytes of ${location} at ${offset}, expected ${length}`);
    const w = new BinaryWriter();
    for (const f of fieldsOf(t)) if (f.no !== TENSOR_EXTERNAL_DATA && f.no !== TENSOR_DATA_LOCATION) w.raw(f.bytes);
    w.tag(TENSOR_RAW_DATA, WireType.LengthDelimited).bytes(raw);
    return w.finish();
  };
  return rewriteField(model, MODEL_GRAPH, (graph) => rewriteField(graph, GRAPH_INITIALIZER, tensor));
}
