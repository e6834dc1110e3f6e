import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { attr, GraphBuilder } from "./graph-builder.js";
import { encodeOnnxModel, littleEndianBytes, OnnxDataType, type OnnxModel } from "./onnx-proto.js";

type Field = { no: number; wire: WireType; value: bigint | number | Uint8Array };

/** Split one protobuf message into its raw fields (a generic reader, independent of the writer). */
function fields(bytes: Uint8Array): Field[] {
  const r = new BinaryReader(bytes);
  const out: Field[] = [];
  while (r.pos < r.len) {
    const [no, wire] = r.tag();
    if (wire === WireType.Varint) out.push({ no, wire, value: BigInt(r.int64()) });
    else if (wire === WireType.LengthDelimited) out.push({ no, wire, value: r.bytes() });
    else if (wire === WireType.Bit32) out.push({ no, wire, value: r.float() });
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}
const one = (fs: Field[], no: number) => fs.filter((f) => f.no === no);
const text = (f: Field | undefined) => new TextDecoder().decode(f!.value as Uint8Array);
const sub = (f: Field | undefined) => fields(f!.value as Uint8Array);

const model: OnnxModel = {
  irVersion: 8,
  opsetImports: [{ domain: "", version: 17 }],
  producerName: "p",
  producerVersion: "1",
  metadata: { k: "v" },
  graph: {
    name: "g",
    nodes: [
      {
        opType: "Pad",
        inputs: ["x", "pads"],
        outputs: ["y"],
        name: "n0",
        attributes: [
          { name: "mode", kind: "string", value: "reflect" },
          { name: "i", kind: "int", value: -3 },
          { name: "f", kind: "float", value: 0.5 },
          { name: "is", kind: "ints", value: [1, 2] },
          { name: "fs", kind: "floats", value: [1.5] },
        ],
      },
    ],
    initializers: [{ name: "pads", dataType: OnnxDataType.INT64, dims: [6], rawData: littleEndianBytes(new BigInt64Array([0n, 0n, 2n, 0n, 0n, 1n])) }],
    inputs: [{ name: "x", elemType: OnnxDataType.FLOAT, shape: [1, 2, "T"] }],
    outputs: [{ name: "y", elemType: OnnxDataType.FLOAT, shape: [1, 2, "T2"] }],
  },
};

describe("encodeOnnxModel", () => {
  const bytes = encodeOnnxModel(model);
  const top = fields(bytes);

  test("ModelProto fields: ir_version 1, producer 2/3, graph 7, opset_import 8, metadata 14", () => {
    expect(one(top, 1)[0]!.value).toBe(8n);
    expect(text(one(top, 2)[0])).toBe("p");
    expect(text(one(top, 3)[0])).toBe("1");
    const opset = sub(one(top, 8)[0]);
    expect(text(one(opset, 1)[0])).toBe("");
    expect(one(opset, 2)[0]!.value).toBe(17n);
    const meta = sub(one(top, 14)[0]);
    expect([text(one(meta, 1)[0]), text(one(meta, 2)[0])]).toEqual(["k", "v"]);
  });

  test("GraphProto: node 1, name 2, initializer 5, input 11, output 12", () => {
    const graph = sub(one(top, 7)[0]);
    expect(text(one(graph, 2)[0])).toBe("g");
    const node = sub(one(graph, 1)[0]);
    expect(one(node, 1).map(text)).toEqual(["x", "pads"]);
    expect(one(node, 2).map(text)).toEqual(["y"]);
    expect(text(one(node, 3)[0])).toBe("n0");
    expect(text(one(node, 4)[0])).toBe("Pad");
    const attrs = one(node, 5).map((f) => sub(f));
    // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20
    expect(attrs.map((a) => text(one(a, 1)[0]))).toEqual(["mode", "i", "f", "is", "fs"]);
    expect(text(one(attrs[0]!, 4)[0])).toBe("reflect");
    expect(one(attrs[0]!, 20)[0]!.value).toBe(3n);
    expect(one(attrs[1]!, 3)[0]!.value).toBe(-3n);
    expect(one(attrs[1]!, 20)[0]!.value).toBe(2n);
    expect(one(attrs[2]!, 2)[0]!.value).toBe(0.5);
    expect(one(attrs[2]!, 20)[0]!.value).toBe(1n);
    expect(one(attrs[3]!, 8).map((f) => f.value)).toEqual([1n, 2n]);
    expect(one(attrs[3]!, 20)[0]!.value).toBe(7n);
    expect(one(attrs[4]!, 7).map((f) => f.value)).toEqual([1.5]);
    expect(one(attrs[4]!, 20)[0]!.value).toBe(6n);

    const init = sub(one(graph, 5)[0]);
    // TensorProto: dims 1, data_type 2, name 8, raw_data 9
    expect(one(init, 1).map((f) => f.value)).toEqual([6n]);
    expect(one(init, 2)[0]!.value).toBe(7n);
    expect(text(one(init, 8)[0])).toBe("pads");
    expect((one(init, 9)[0]!.value as Uint8Array).length).toBe(48);

    const input = sub(one(graph, 11)[0]);
    expect(text(one(input, 1)[0])).toBe("x");
    const tensorType = sub(one(sub(one(input, 2)[0]), 1)[0]);
    expect(one(tensorType, 1)[0]!.value).toBe(1n);
    const dims = one(sub(one(tensorType, 2)[0]), 1).map((f) => fields(f.value as Uint8Array)[0]!);
    expect(dims.map((d) => (d.no === 1 ? d.value : text(d)))).toEqual([1n, 2n, "T"]);
    expect(text(one(sub(one(graph, 12)[0]), 1)[0])).toBe("y");
  });

  test("ONNX Runtime runs it (reflect pad by 2 left, 1 right)", async () => {
    const runnable: OnnxModel = {
      ...model,
      graph: { ...model.graph, nodes: [{ ...model.graph.nodes[0]!, attributes: [{ name: "mode", kind: "string", value: "reflect" }] }] },
    };
    const s = await ort.InferenceSession.create(encodeOnnxModel(runnable));
    const r = await s.run({ x: new ort.Tensor("float32", new Float32Array([1, 2, 3, 4, 5, 6]), [1, 2, 3]) });
    expect(r.y!.dims).toEqual([1, 2, 6]);
    expect([...(r.y!.data as Float32Array)]).toEqual([3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5]);
    await s.release();
  });
});

describe("GraphBuilder", () => {
  test("unique names, shared constants, Identity for renamed outputs", async () => {
    const g = new GraphBuilder("t");
    const x = g.input("x", OnnxDataType.FLOAT, ["n"]);
    expect(g.float32([2])).toBe(g.float32([2]));
    expect(g.float32([2])).not.toBe(g.float32([3], [1]));
    const a = g.op("Mul", [x, g.float32([2])], {}, "v");
    const b = g.op("Add", [a, g.float32([3], [1])], {}, "v");
    expect(a).not.toBe(b);
    const c = g.op("Elu", [b], { alpha: attr.float(1) });
    g.output(c, "y", OnnxDataType.FLOAT, ["n"]);
    expect(() => g.input("x", OnnxDataType.FLOAT, [1])).toThrow(/duplicate/);
    const s = await ort.InferenceSession.create(g.toModelBytes({ producerVersion: "t" }));
    const r = await s.run({ x: new ort.Tensor("float32", new Float32Array([-2, 0, 1]), [3]) });
    // elu(2x + 3): x=-2 → elu(-1) = e^-1 - 1
    const y = r.y!.data as Float32Array;
    expect(y[0]).toBeCloseTo(Math.exp(-1) - 1, 6);
    expect([y[1], y[2]]).toEqual([3, 5]);
    await s.release();
  });

  test("initializer size must match its dims", () => {
    const g = new GraphBuilder("t");
    expect(() => g.initializer("w", new Float32Array(5), [2, 3])).toThrow(/5 values/);
  });
});
