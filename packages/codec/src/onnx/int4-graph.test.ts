import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { mulberry32 } from "../internal/mulberry32.js";
import { GraphBuilder } from "./graph-builder.js";
import { addInt4LstmStack, addInt4MatMul, INT4_BLOCK, quantize4BitBlocks } from "./int4-graph.js";
import { OnnxDataType } from "./onnx-proto.js";

describe("int4 precision graphs", () => {
  test("quantize4BitBlocks: one scale per block, nibbles q + 8 low first, the last block padded with zeros", () => {
    // One row of 20 values in blocks of 16: block 0 holds ±7 and smaller values, block 1 four values and 12 of padding.
    const w = Float32Array.from([7, -7, 3, 0, 1, -1, 2, -2, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, -0.25, 0, 0]);
    const { packed, scales, blocks } = quantize4BitBlocks(w, 1, 20, 16);
    expect(blocks).toBe(2);
    expect(scales[0]).toBe(1); // max 7 → 7 / 7
    expect([...packed.subarray(0, 8)]).toEqual([(1 << 4) | 15, (8 << 4) | 11, (7 << 4) | 9, (6 << 4) | 10, 0x88, 0x88, 0x88, 0x88]);
    // block 1: scale 0.5 / 7, so 0.5 is 7 steps (nibble 15) and −0.25 is −3.5, rounded to −3 (nibble 5)
    expect(scales[1]).toBeCloseTo(0.5 / 7, 7);
    expect(packed[8]).toBe((5 << 4) | 15);
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
