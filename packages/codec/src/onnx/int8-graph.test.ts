import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { loadGoldenFixture } from "../../test/support/fixtures.js";
import { prepareWeights } from "../model/prepare-weights.js";
import { buildDecodeGraph, buildEncoderGraph } from "./encodec-graphs.js";
import { GraphBuilder } from "./graph-builder.js";
import { addInt8Conv, checkPrecision, quantizeRowsTransposed } from "./int8-graph.js";
import { OnnxDataType } from "./onnx-proto.js";
import { buildStreamDecoderGraph, buildStreamEncoderGraph } from "./streaming-graphs.js";
import { mulberry32 } from "../internal/mulberry32.js";

/** A plain float64 convolution without padding: `[cin, L]` → `[cout, T]`. */
function referenceConv(x: Float32Array, w: Float32Array, b: Float32Array, cin: number, cout: number, k: number, s: number, d: number, len: number): Float64Array {
  const t = Math.floor((len - (k - 1) * d - 1) / s) + 1;
  const y = new Float64Array(cout * t);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < t; i++) {
      let acc = b[o]!;
      for (let c = 0; c < cin; c++) for (let j = 0; j < k; j++) acc += w[(o * cin + c) * k + j]! * x[c * len + i * s + j * d]!;
      y[o * t + i] = acc;
    }
  }
  return y;
}

describe("int8 precision graphs", () => {
  test("checkPrecision accepts the three precisions and names a bad one", () => {
    expect(checkPrecision(undefined)).toBe("float32");
    expect(checkPrecision("int8")).toBe("int8");
    expect(checkPrecision("int4")).toBe("int4");
    expect(() => checkPrecision("bf16")).toThrow(/precision must be "float32", "int8", "int4", got "bf16"/);
  });

  test("quantizeRowsTransposed: one scale per row, values within half a step, transposed", () => {
    const w = Float32Array.from([0.5, -1, 0.25, 0, 0, 0]);
    const { q, scales } = quantizeRowsTransposed(w, 2, 3);
    expect(scales[0]).toBeCloseTo(1 / 127, 9);
    expect(scales[1]).toBe(1); // all-zero row
    expect([...q]).toEqual([64, 0, -127, 0, 32, 0]); // [cols, rows]
  });

  // Every unfolding path: k = 1; stride-1 kernels with and without dilation; k a multiple of a stride > 1; k not a multiple of the stride.
  test.each([
    [8, 16, 1, 1, 1, 9],
    [8, 16, 3, 1, 1, 12],
    [8, 16, 3, 1, 3, 15],
    [6, 10, 4, 2, 1, 12],
    [6, 10, 16, 8, 1, 32],
    [5, 7, 5, 2, 1, 13],
  ])("int8 conv %i→%i channels, k %i, stride %i, dilation %i over %i samples matches a float64 convolution within the quantization error", async (cin, cout, k, s, d, len) => {
    const rand = mulberry32(cin * 1000 + k * 10 + s);
    const x = Float32Array.from({ length: cin * len }, () => rand() * 2 - 1);
    const w = Float32Array.from({ length: cout * cin * k }, () => (rand() * 2 - 1) * 0.3);
    const b = Float32Array.from({ length: cout }, () => rand() - 0.5);
    const g = new GraphBuilder("int8_conv");
    const input = g.input("x", OnnxDataType.FLOAT, [1, cin, len]);
    g.output(addInt8Conv(g, input, w, b, { inChannels: cin, outChannels: cout, kernelSize: k, stride: s, dilation: d }, "conv"), "y", OnnxDataType.FLOAT, [1, cout, null]);
    const session = await ort.InferenceSession.create(g.toModelBytes({ producerVersion: "test" }));
    const y = (await session.run({ x: new ort.Tensor("float32", x, [1, cin, len]) })).y!;
    const ref = referenceConv(x, w, b, cin, cout, k, s, d, len);
    expect(y.dims).toEqual([1, cout, ref.length / cout]);
    let err = 0;
    let scale = 0;
    (y.data as Float32Array).forEach((v, i) => {
      err = Math.max(err, Math.abs(v - ref[i]!));
      scale = Math.max(scale, Math.abs(ref[i]!));
    });
    // 8-bit weights and activations: errors of about 1 % of the largest output; a wrong unfolding gives errors of the outputs' size.
    expect(err).toBeLessThan(0.03 * scale);
    await session.release();
  });

  test("float32 graphs are the same bytes with and without the precision argument", () => {
    const f = loadGoldenFixture("tiny24");
    const prepared = prepareWeights(f.config, f.tensors);
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    expect(same(buildEncoderGraph(prepared, "float32"), buildEncoderGraph(prepared))).toBe(true);
    expect(same(buildDecodeGraph(prepared, "float32"), buildDecodeGraph(prepared))).toBe(true);
    expect(same(buildStreamEncoderGraph(prepared, 4, "step", "float32"), buildStreamEncoderGraph(prepared, 4, "step"))).toBe(true);
    expect(same(buildStreamDecoderGraph(prepared, "first", "float32"), buildStreamDecoderGraph(prepared, "first"))).toBe(true);
    expect(same(buildStreamDecoderGraph(prepared, "step", "int8"), buildStreamDecoderGraph(prepared, "step"))).toBe(false);
  });
});
