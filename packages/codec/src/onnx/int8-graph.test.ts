import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { loadGoldenFixture } from "../../test/support/fixtures.js";
import { prepareWeights } from "../model/prepare-weights.js";
import { buildDecodeGraph, buildEncoderGraph } from "./encodec-graphs.js";
import { GraphBuilder } from "./graph-builder.js";
import { addInt4LstmStack, addInt4MatMul, addInt8Conv, checkPrecision, INT4_BLOCK, quantize4BitBlocks, quantizeRowsTransposed } from "./int8-graph.js";
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

  test("quantize4BitBlocks: one scale per block, nibbles q + 8 low first, the last block padded with zeros", () => {
    // One row of 20 values in blocks of 16: block 0 holds ±7 and smaller values, block 1 four values and 12 of padding.
    const w = Float32Array.from([7, -7, 3, 0, 1, -1, 2, -2, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, -0.25, 0, 0]);
    const { packed, scales, blocks } = quantize4BitBlocks(w, 1, 20, 16);
    expect(blocks).toBe(2);
    expect(scales[0]).toBe(1); // max 7 → 7 / 7; no smaller scale rounds ±7, 3, 2, 1 with less error
    expect([...packed.subarray(0, 8)]).toEqual([(1 << 4) | 15, (8 << 4) | 11, (7 << 4) | 9, (6 << 4) | 10, 0x88, 0x88, 0x88, 0x88]);
    // block 1: 0.5 and −0.25 with a scale that puts 0.5 at ±7 steps or fewer
    const q = (v: number) => Math.round(v / scales[1]!);
    expect(q(0.5)).toBeLessThanOrEqual(7);
    expect(packed[8]).toBe(((q(-0.25) + 8) << 4) | (q(0.5) + 8));
    expect([...packed.subarray(9, 16)]).toEqual(Array(7).fill(0x88));
    expect(() => quantize4BitBlocks(w, 1, 20, 24)).toThrow(/power of two/);
    expect(() => quantize4BitBlocks(w, 2, 20)).toThrow(/20 values for \[2, 20\]/);
  });

  test("addInt4MatMul matches a float64 product within the 4-bit error, for one row and several", async () => {
    const [n, k] = [48, 3 * INT4_BLOCK + 40]; // a padded last block
    const rand = mulberry32(404);
    const rows = Float32Array.from({ length: n * k }, () => rand() * 2 - 1);
    const bias = Float32Array.from({ length: n }, () => rand() - 0.5);
    const g = new GraphBuilder("int4_mm");
    const x = g.input("x", OnnxDataType.FLOAT, ["m", k]);
    g.output(addInt4MatMul(g, x, rows, bias, n, k, "mm"), "y", OnnxDataType.FLOAT, ["m", n]);
    const session = await ort.InferenceSession.create(g.toModelBytes({ producerVersion: "test" }));
    for (const m of [1, 5]) {
      const a = Float32Array.from({ length: m * k }, () => rand() * 2 - 1);
      const y = (await session.run({ x: new ort.Tensor("float32", a, [m, k]) })).y!.data as Float32Array;
      let err = 0;
      let scale = 0;
      for (let i = 0; i < m; i++) {
        for (let o = 0; o < n; o++) {
          let acc = bias[o]!;
          for (let j = 0; j < k; j++) acc += a[i * k + j]! * rows[o * k + j]!;
          err = Math.max(err, Math.abs(y[i * n + o]! - acc));
          scale = Math.max(scale, Math.abs(acc));
        }
      }
      // 4-bit weights (steps of a seventh of each block's largest value) and 8-bit activations: 5–6 % of the largest
      // output; nibbles in the wrong order or a wrong block layout give errors of the outputs' size.
      expect(err).toBeLessThan(0.12 * scale);
      expect(err).toBeGreaterThan(0); // approximate, not float32
    }
    await session.release();
  });

  test("addInt4LstmStack runs two LSTM layers like ONNX's float32 LSTM within the 4-bit error, with and without initial states", async () => {
    const [H, T, B] = [32, 6, 2];
    const rand = mulberry32(77);
    const layer = () => ({ w: Float32Array.from({ length: 4 * H * H }, () => (rand() * 2 - 1) * 0.3), r: Float32Array.from({ length: 4 * H * H }, () => (rand() * 2 - 1) * 0.3), b: Float32Array.from({ length: 8 * H }, () => (rand() * 2 - 1) * 0.2) });
    const layers = [layer(), layer()];
    const build = (int4: boolean, withInitial: boolean) => {
      const g = new GraphBuilder("lstm");
      const seq = g.input("x", OnnxDataType.FLOAT, [T, B, H]);
      const initial = withInitial ? layers.map((_, l) => [g.input(`h${l}`, OnnxDataType.FLOAT, [B, H]), g.input(`c${l}`, OnnxDataType.FLOAT, [B, H])] as const) : null;
      let y: string;
      const finals: string[] = [];
      if (int4) {
        const out = addInt4LstmStack(g, seq, layers, H, initial, "lstm");
        y = out.y;
        finals.push(...out.finals.flat());
      } else {
        y = seq;
        layers.forEach((wl, l) => {
          const init = initial ? [g.op("Unsqueeze", [initial[l]![0], g.int64([0])]), g.op("Unsqueeze", [initial[l]![1], g.int64([0])])] : ["", ""];
          const [yl, yh, yc] = g.opN("LSTM", [y, g.initializer(`W${l}`, wl.w, [1, 4 * H, H]), g.initializer(`R${l}`, wl.r, [1, 4 * H, H]), g.initializer(`B${l}`, wl.b, [1, 8 * H]), "", ...init], 3, { hidden_size: { kind: "int", value: H } });
          y = g.op("Squeeze", [yl!, g.int64([1])]);
          finals.push(g.op("Squeeze", [yh!, g.int64([0])]), g.op("Squeeze", [yc!, g.int64([0])]));
        });
      }
      g.output(y, "y", OnnxDataType.FLOAT, [T, B, H]);
      finals.forEach((f, i) => g.output(f, `s${i}`, OnnxDataType.FLOAT, [B, H]));
      return ort.InferenceSession.create(g.toModelBytes({ producerVersion: "test" }));
    };
    const x = new ort.Tensor("float32", Float32Array.from({ length: T * B * H }, () => rand() * 2 - 1), [T, B, H]);
    const states: Record<string, ort.Tensor> = {};
    for (const n of ["h0", "c0", "h1", "c1"]) states[n] = new ort.Tensor("float32", Float32Array.from({ length: B * H }, () => rand() - 0.5), [B, H]);
    for (const withInitial of [false, true]) {
      const [q, f] = await Promise.all([build(true, withInitial), build(false, withInitial)]);
      const feeds = withInitial ? { x, ...states } : { x };
      const [a, b] = [await q.run(feeds), await f.run(feeds)];
      for (const name of ["y", "s0", "s1", "s2", "s3"]) {
        const u = a[name]!.data as Float32Array;
        const v = b[name]!.data as Float32Array;
        expect(a[name]!.dims).toEqual(b[name]!.dims);
        let err = 0;
        let scale = 0;
        u.forEach((e, i) => {
          err = Math.max(err, Math.abs(e - v[i]!));
          scale = Math.max(scale, Math.abs(v[i]!));
        });
        // 4-bit weights move h, c and y by 5–9 % of their largest value here; the forget and output gates swapped move
        // y by 24 %, layers swapped or states not carried by tens of %.
        expect(err, `${name}, initial states ${withInitial}`).toBeLessThan(0.15 * scale);
      }
      await Promise.all([q.release(), f.release()]);
    }
  });
});
