import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/*
 * A small writer for the subset of onnx.proto (proto2) that the graph builders need. Field
 * numbers are those of onnx/onnx.proto:
 *
 * | message              | field          | no | type                          |
 * |----------------------|----------------|----|-------------------------------|
 * | ModelProto           | ir_version     |  1 | int64                         |
 * |                      | producer_name  |  2 | string                        |
 * |                      | producer_version| 3 | string                        |
 * |                      | doc_string     |  6 | string                        |
 * |                      | graph          |  7 | GraphProto                    |
 * |                      | opset_import   |  8 | repeated OperatorSetIdProto   |
 * |                      | metadata_props | 14 | repeated StringStringEntryProto |
 * | OperatorSetIdProto   | domain         |  1 | string                        |
 * |                      | version        |  2 | int64                         |
 * | StringStringEntryProto | key / value  | 1/2| string                        |
 * | GraphProto           | node           |  1 | repeated NodeProto            |
 * |                      | name           |  2 | string                        |
 * |                      | initializer    |  5 | repeated TensorProto          |
 * |                      | doc_string     | 10 | string                        |
 * |                      | input / output | 11/12 | repeated ValueInfoProto    |
 * | NodeProto            | input / output | 1/2| repeated string               |
 * |                      | name           |  3 | string                        |
 * |                      | op_type        |  4 | string                        |
 * |                      | attribute      |  5 | repeated AttributeProto       |
 * |                      | domain         |  7 | string                        |
 * | AttributeProto       | name           |  1 | string                        |
 * |                      | f / i / s      | 2/3/4 | float / int64 / bytes      |
 * |                      | t / g          | 5/6| TensorProto / GraphProto      |
 * |                      | floats / ints  | 7/8| repeated float / int64        |
 * |                      | type           | 20 | AttributeType enum            |
 * | TensorProto          | dims           |  1 | repeated int64                |
 * |                      | data_type      |  2 | int32 (DataType enum)         |
 * |                      | name           |  8 | string                        |
 * |                      | raw_data       |  9 | bytes (little-endian)         |
 * | ValueInfoProto       | name / type    | 1/2| string / TypeProto            |
 * | TypeProto            | tensor_type    |  1 | TypeProto.Tensor              |
 * | TypeProto.Tensor     | elem_type      |  1 | int32                         |
 * |                      | shape          |  2 | TensorShapeProto              |
 * | TensorShapeProto     | dim            |  1 | repeated Dimension            |
 * | Dimension            | dim_value      |  1 | int64                         |
 * |                      | dim_param      |  2 | string                        |
 *
 * Repeated scalars are written unpacked, as proto2 declares them (parsers accept both forms).
 */

/** ONNX `TensorProto.DataType` values used here. */
export const OnnxDataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
/** One of {@link OnnxDataType}'s values. */
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** `AttributeProto.AttributeType` values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

/** A constant tensor: dims and little-endian raw bytes (`raw_data`). */
export interface OnnxTensor {
  readonly name: string;
  readonly dataType: OnnxDataType;
  readonly dims: readonly number[];
  readonly rawData: Uint8Array;
}

/** An attribute value; numbers are written as INT when `int` is chosen, else FLOAT. */
export type OnnxAttribute =
  | { readonly name: string; readonly kind: "int"; readonly value: number }
  | { readonly name: string; readonly kind: "float"; readonly value: number }
  | { readonly name: string; readonly kind: "string"; readonly value: string }
  | { readonly name: string; readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: "floats"; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: "tensor"; readonly value: OnnxTensor }
  | { readonly name: string; readonly kind: "graph"; readonly value: OnnxGraph };

/** A graph node. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: readonly OnnxAttribute[];
}

/** A graph input or output: name, element type and shape (a string is a symbolic dimension, null an unknown one). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: OnnxDataType;
  readonly shape: readonly (number | string | null)[];
}

/** A graph. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly docString?: string;
}

/** A model: IR version, operator sets, producer and the graph. */
export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graph: OnnxGraph;
}

const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;

function writeTensor(w: BinaryWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.tag(1, VARINT).int64(d);
  w.tag(2, VARINT).int32(t.dataType);
  w.tag(8, LEN).string(t.name);
  w.tag(9, LEN).bytes(t.rawData);
}

function writeAttribute(w: BinaryWriter, a: OnnxAttribute): void {
  w.tag(1, LEN).string(a.name);
  switch (a.kind) {
    case "float":
      w.tag(2, WireType.Bit32).float(a.value);
      w.tag(20, VARINT).int32(AttributeType.FLOAT);
      break;
    case "int":
      w.tag(3, VARINT).int64(a.value);
      w.tag(20, VARINT).int32(AttributeType.INT);
      break;
    case "string":
      w.tag(4, LEN).bytes(new TextEncoder().encode(a.value));
      w.tag(20, VARINT).int32(AttributeType.STRING);
      break;
    case "tensor":
      w.tag(5, LEN).fork();
      writeTensor(w, a.value);
      w.join();
      w.tag(20, VARINT).int32(AttributeType.TENSOR);
      break;
    case "graph":
      w.tag(6, LEN).fork();
      writeGraph(w, a.value);
      w.join();
      w.tag(20, VARINT).int32(AttributeType.GRAPH);
      break;
    case "floats":
      for (const v of a.value) w.tag(7, WireType.Bit32).float(v);
      w.tag(20, VARINT).int32(AttributeType.FLOATS);
      break;
    case "ints":
      for (const v of a.value) w.tag(8, VARINT).int64(v);
      w.tag(20, VARINT).int32(AttributeType.INTS);
      break;
  }
}

function writeNode(w: BinaryWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.tag(1, LEN).string(i);
  for (const o of n.outputs) w.tag(2, LEN).string(o);
  if (n.name !== undefined) w.tag(3, LEN).string(n.name);
  w.tag(4, LEN).string(n.opType);
  for (const a of n.attributes ?? []) {
    w.tag(5, LEN).fork();
    writeAttribute(w, a);
    w.join();
  }
  if (n.domain !== undefined) w.tag(7, LEN).string(n.domain);
}

function writeValueInfo(w: BinaryWriter, v: OnnxValueInfo): void {
  w.tag(1, LEN).string(v.name);
  w.tag(2, LEN).fork(); // TypeProto
  w.tag(1, LEN).fork(); // TypeProto.Tensor
  w.tag(1, VARINT).int32(v.elemType);
  w.tag(2, LEN).fork(); // TensorShapeProto
  for (const d of v.shape) {
    w.tag(1, LEN).fork();
    if (typeof d === "number") w.tag(1, VARINT).int64(d);
    else if (d !== null) w.tag(2, LEN).string(d);
    w.join();
  }
  w.join().join().join();
}

function writeGraph(w: BinaryWriter, g: OnnxGraph): void {
  for (const n of g.nodes) {
    w.tag(1, LEN).fork();
    writeNode(w, n);
    w.join();
  }
  w.tag(2, LEN).string(g.name);
  for (const t of g.initializers) {
    w.tag(5, LEN).fork();
    writeTensor(w, t);
    w.join();
  }
  if (g.docString !== undefined) w.tag(10, LEN).string(g.docString);
  for (const v of g.inputs) {
    w.tag(11, LEN).fork();
    writeValueInfo(w, v);
    w.join();
  }
  for (const v of g.outputs) {
    w.tag(12, LEN).fork();
    writeValueInfo(w, v);
    w.join();
  }
}

/** Serialize a model to ONNX protobuf bytes (what `InferenceSession.create` accepts). */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, VARINT).int64(m.irVersion);
  w.tag(2, LEN).string(m.producerName);
  w.tag(3, LEN).string(m.producerVersion);
  if (m.docString !== undefined) w.tag(6, LEN).string(m.docString);
  w.tag(7, LEN).fork();
  writeGraph(w, m.graph);
  w.join();
  for (const o of m.opsetImports) {
    w.tag(8, LEN).fork();
    w.tag(1, LEN).string(o.domain);
    w.tag(2, VARINT).int64(o.version);
    w.join();
  }
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    w.tag(14, LEN).fork();
    w.tag(1, LEN).string(key);
    w.tag(2, LEN).string(value);
    w.join();
  }
  return w.finish();
}

/** Little-endian bytes of a typed array (a view when the platform is little-endian, which all ORT targets are). */
export function littleEndianBytes(data: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b]!;
  return out;
}
