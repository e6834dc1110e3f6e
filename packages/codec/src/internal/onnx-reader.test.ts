// decodeOnnxModel reads back what encodeOnnxModel writes: nodes, attributes of every kind (a
// subgraph included), initializers, inputs and outputs, opsets and metadata.
import { describe, expect, test } from "vitest";
import { encodeOnnxModel, OnnxDataType, type OnnxModel } from "../onnx/onnx-proto.js";
import { decodeOnnxModel } from "./onnx-reader.js";

const tensor = (name: string, values: number[]) => ({ name, dataType: OnnxDataType.FLOAT, dims: [values.length], rawData: new Uint8Array(new Float32Array(values).buffer) });
const model: OnnxModel = {
  irVersion: 8,
  opsetImports: [
    { domain: "", version: 17 },
    { domain: "com.microsoft", version: 1 },
  ],
  producerName: "p",
  producerVersion: "1",
  docString: "d",
  metadata: { k: "v" },
  graph: {
    name: "g",
    nodes: [
      {
        opType: "If",
        inputs: ["c"],
        outputs: ["y"],
        name: "if",
        attributes: [
          { name: "then_branch", kind: "graph", value: { name: "t", nodes: [{ opType: "Identity", inputs: ["w"], outputs: ["t_y"], name: "n1", attributes: [] }], initializers: [], inputs: [], outputs: [{ name: "t_y", elemType: OnnxDataType.FLOAT, shape: [3] }] } },
          { name: "else_branch", kind: "graph", value: { name: "e", nodes: [{ opType: "Neg", inputs: ["w"], outputs: ["e_y"], name: "n2", attributes: [] }], initializers: [tensor("local", [1])], inputs: [], outputs: [{ name: "e_y", elemType: OnnxDataType.FLOAT, shape: ["n"] }] } },
        ],
      },
      {
        opType: "Op",
        domain: "com.microsoft",
        inputs: ["y", ""],
        outputs: ["z"],
        name: "op",
        attributes: [
          { name: "f", kind: "float", value: 0.5 },
          { name: "i", kind: "int", value: -3 },
          { name: "s", kind: "string", value: "reflect" },
          { name: "fs", kind: "floats", value: [1.5, -2] },
          { name: "is", kind: "ints", value: [0, 7, -1] },
          { name: "t", kind: "tensor", value: tensor("tv", [2]) },
        ],
      },
    ],
    initializers: [tensor("w", [1, 2, 3])],
    inputs: [{ name: "c", elemType: 9 as OnnxDataType, shape: [] }],
    outputs: [{ name: "z", elemType: OnnxDataType.FLOAT, shape: [1, "t", null] }],
    docString: "gd",
  },
};

describe("decodeOnnxModel", () => {
  test("round trip of encodeOnnxModel's output", () => {
    const back = decodeOnnxModel(encodeOnnxModel(model));
    expect(back).toEqual(model);
    expect(encodeOnnxModel(back)).toEqual(encodeOnnxModel(model));
  });

  test("bytes outside the subset or broken are refused", () => {
    expect(() => decodeOnnxModel(new Uint8Array([0x08, 0x08]))).toThrow(/no graph/);
    const bytes = encodeOnnxModel(model);
    expect(() => decodeOnnxModel(bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});
