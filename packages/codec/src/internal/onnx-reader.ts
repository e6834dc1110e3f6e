import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { OnnxAttribute, OnnxDataType, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from "../onnx/onnx-proto.js";

/*
 * Reads back the subset of onnx.proto that `encodeOnnxModel` writes (the field table is in
 * onnx/onnx-proto.ts), so that built graphs can be transformed as data (see onnx/phase-graph.ts).
 * Packed and unpacked repeated scalars are both accepted. Anything outside the subset — a tensor
 * without raw_data, sparse tensors, value_info, training info — throws: these readers are only
 * given the builders' own output.
 */

const LEN = WireType.LengthDelimited;
const text = new TextDecoder();

/** Each field of a message: its number, wire type, and a reader positioned at its value. */
function* fields(bytes: Uint8Array, what: string): Generator<[number, WireType, BinaryReader]> {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    const start = r.pos;
    yield [no, wt, r];
    if (r.pos === start) r.skip(wt, no); // the consumer did not read the value
    if (r.pos > r.len) throw new Error(`${what}: truncated field ${no}`);
  }
}

function repeatedInt(wt: WireType, r: BinaryReader, out: number[]): void {
  if (wt === LEN) {
    const inner = new BinaryReader(r.bytes());
    while (inner.pos < inner.len) out.push(Number(inner.int64()));
  } else out.push(Number(r.int64()));
}

function repeatedFloat(wt: WireType, r: BinaryReader, out: number[]): void {
  if (wt === LEN) {
    const inner = new BinaryReader(r.bytes());
    while (inner.pos < inner.len) out.push(inner.float());
  } else out.push(r.float());
}

function readTensor(bytes: Uint8Array): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0;
  let name = "";
  let rawData: Uint8Array | null = null;
  for (const [no, wt, r] of fields(bytes, "TensorProto")) {
    if (no === 1) repeatedInt(wt, r, dims);
    else if (no === 2) dataType = r.int32();
    else if (no === 8) name = r.string();
    else if (no === 9) rawData = r.bytes();
    else throw new Error(`TensorProto ${name}: field ${no} is not supported (only dims, data_type, name, raw_data)`);
  }
  if (rawData === null) throw new Error(`TensorProto ${name}: no raw_data`);
  return { name, dataType: dataType as OnnxDataType, dims, rawData };
}

function readAttribute(bytes: Uint8Array): OnnxAttribute {
  let name = "";
  let type = 0;
  let f = 0;
  let i = 0;
  let s: Uint8Array = new Uint8Array(0);
  let t: OnnxTensor | null = null;
  let g: OnnxGraph | null = null;
  const floats: number[] = [];
  const ints: number[] = [];
  for (const [no, wt, r] of fields(bytes, "AttributeProto")) {
    if (no === 1) name = r.string();
    else if (no === 2) f = r.float();
    else if (no === 3) i = Number(r.int64());
    else if (no === 4) s = r.bytes();
    else if (no === 5) t = readTensor(r.bytes());
    else if (no === 6) g = readGraph(r.bytes());
    else if (no === 7) repeatedFloat(wt, r, floats);
    else if (no === 8) repeatedInt(wt, r, ints);
    else if (no === 20) type = r.int32();
  }
  switch (type) {
    case 1:
      return { name, kind: "float", value: f };
    case 2:
      return { name, kind: "int", value: i };
    case 3:
      return { name, kind: "string", value: text.decode(s) };
    case 4:
      if (!t) throw new Error(`attribute ${name}: TENSOR without a tensor`);
      return { name, kind: "tensor", value: t };
    case 5:
      if (!g) throw new Error(`attribute ${name}: GRAPH without a graph`);
      return { name, kind: "graph", value: g };
    case 6:
      return { name, kind: "floats", value: floats };
    case 7:
      return { name, kind: "ints", value: ints };
    default:
      throw new Error(`attribute ${name}: type ${type} is not supported`);
  }
}

function readNode(bytes: Uint8Array): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes: OnnxAttribute[] = [];
  let name: string | undefined;
  let opType = "";
  let domain: string | undefined;
  for (const [no, , r] of fields(bytes, "NodeProto")) {
    if (no === 1) inputs.push(r.string());
    else if (no === 2) outputs.push(r.string());
    else if (no === 3) name = r.string();
    else if (no === 4) opType = r.string();
    else if (no === 5) attributes.push(readAttribute(r.bytes()));
    else if (no === 7) domain = r.string();
  }
  return { opType, inputs, outputs, ...(name !== undefined ? { name } : {}), ...(domain !== undefined ? { domain } : {}), attributes };
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  let name = "";
  let elemType = 0;
  const shape: Array<number | string | null> = [];
  for (const [no, , r] of fields(bytes, "ValueInfoProto")) {
    if (no === 1) name = r.string();
    else if (no === 2) {
      for (const [tno, , tr] of fields(r.bytes(), "TypeProto")) {
        if (tno !== 1) throw new Error(`value ${name}: only tensor types are supported`);
        for (const [eno, , er] of fields(tr.bytes(), "TypeProto.Tensor")) {
          if (eno === 1) elemType = er.int32();
          else if (eno === 2) {
            for (const [sno, , sr] of fields(er.bytes(), "TensorShapeProto")) {
              if (sno !== 1) continue;
              let dim: number | string | null = null;
              for (const [dno, , dr] of fields(sr.bytes(), "Dimension")) {
                if (dno === 1) dim = Number(dr.int64());
                else if (dno === 2) dim = dr.string();
              }
              shape.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, elemType: elemType as OnnxDataType, shape };
}

function readGraph(bytes: Uint8Array): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  let name = "";
  let docString: string | undefined;
  for (const [no, , r] of fields(bytes, "GraphProto")) {
    if (no === 1) nodes.push(readNode(r.bytes()));
    else if (no === 2) name = r.string();
    else if (no === 5) initializers.push(readTensor(r.bytes()));
    else if (no === 10) docString = r.string();
    else if (no === 11) inputs.push(readValueInfo(r.bytes()));
    else if (no === 12) outputs.push(readValueInfo(r.bytes()));
    else throw new Error(`GraphProto ${name}: field ${no} is not supported`);
  }
  return { name, nodes, initializers, inputs, outputs, ...(docString !== undefined ? { docString } : {}) };
}

/**
 * Parse ONNX model bytes written by `encodeOnnxModel` back into an {@link OnnxModel}. Tensors'
 * `rawData` are views into `bytes` (not copies).
 *
 * @throws Error for bytes that are not such a model (a field outside the subset, a truncated message)
 */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  let irVersion = 0;
  let producerName = "";
  let producerVersion = "";
  let docString: string | undefined;
  let graph: OnnxGraph | null = null;
  const opsetImports: Array<{ domain: string; version: number }> = [];
  const metadata: Record<string, string> = {};
  for (const [no, , r] of fields(bytes, "ModelProto")) {
    if (no === 1) irVersion = Number(r.int64());
    else if (no === 2) producerName = r.string();
    else if (no === 3) producerVersion = r.string();
    else if (no === 6) docString = r.string();
    else if (no === 7) graph = readGraph(r.bytes());
    else if (no === 8) {
      let domain = "";
      let version = 0;
      for (const [ono, , or] of fields(r.bytes(), "OperatorSetIdProto")) {
        if (ono === 1) domain = or.string();
        else if (ono === 2) version = Number(or.int64());
      }
      opsetImports.push({ domain, version });
    } else if (no === 14) {
      let key = "";
      let value = "";
      for (const [eno, , er] of fields(r.bytes(), "StringStringEntryProto")) {
        if (eno === 1) key = er.string();
        else if (eno === 2) value = er.string();
      }
      metadata[key] = value;
    }
  }
  if (!graph) throw new Error("ModelProto: no graph");
  return { irVersion, opsetImports, producerName, producerVersion, ...(docString !== undefined ? { docString } : {}), metadata, graph };
}
