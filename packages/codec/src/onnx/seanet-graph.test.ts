import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { parseEncodecConfig, type PadMode } from "../config.js";
import { attr, GraphBuilder } from "./graph-builder.js";
import { OnnxDataType } from "./onnx-proto.js";
import { addConvTranspose1d, addSconvPad, onnxLstmWeights } from "./seanet-graph.js";

/** The reference's SConv1d padding, written out directly for one channel (pad1d + extra padding). */
function referencePad(x: number[], kernelEff: number, stride: number, causal: boolean, mode: PadMode): number[] {
  const length = x.length;
  const total = kernelEff - stride;
  const nFrames = (length - kernelEff + total) / stride + 1;
  const extra = (Math.ceil(nFrames) - 1) * stride + (kernelEff - total) - length;
  const right0 = causal ? 0 : Math.floor(total / 2);
  const left = total - right0;
  const right = right0 + extra;
  if (mode === "constant") return [...new Array(left).fill(0), ...x, ...new Array(right).fill(0)];
  if (mode === "replicate") return [...new Array(left).fill(x[0]), ...x, ...new Array(right).fill(x[length - 1])];
  // reflect, zero-extending inputs no longer than the largest pad
  const maxPad = Math.max(left, right);
  const extraPad = length <= maxPad ? maxPad - length + 1 : 0;
  const y = [...x, ...new Array(extraPad).fill(0)];
  const n = y.length;
  const padded: number[] = [];
  for (let i = -left; i < n + right; i++) padded.push(y[i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i]!);
  return padded.slice(0, padded.length - extraPad);
}

async function graphPad(kernelEff: number, stride: number, causal: boolean, mode: PadMode) {
  const config = parseEncodecConfig({ use_causal_conv: causal, pad_mode: mode, ...(causal ? {} : { norm_type: "time_group_norm" }) });
  const g = new GraphBuilder("pad");
  const input = g.input("x", OnnxDataType.FLOAT, [1, 1, "T"]);
  g.output(addSconvPad({ g, config, weights: new Map() }, input, kernelEff, stride), "y", OnnxDataType.FLOAT, [1, 1, "T2"]);
  const s = await ort.InferenceSession.create(g.toModelBytes({ producerVersion: "test" }));
  return {
    run: async (x: number[]) => [...((await s.run({ x: new ort.Tensor("float32", Float32Array.from(x), [1, 1, x.length]) })).y!.data as Float32Array)],
    release: () => s.release(),
  };
}

describe("addSconvPad equals the reference padding for every length, short ones included", () => {
  // (effective kernel, stride): first/last conv, residual (dilation 1 and 2), 1x1, downsampling 2/4/5/8
  const shapes = [[7, 1], [3, 1], [5, 1], [1, 1], [4, 2], [8, 4], [10, 5], [16, 8]] as const;
  const cases = shapes.flatMap(([k, s]) => [true, false].flatMap((causal) => (["reflect", "constant", "replicate"] as const).map((mode) => [k, s, causal, mode] as const)));
  test.each(cases)("kernel %i stride %i causal %s %s", async (k, s, causal, mode) => {
    const pad = await graphPad(k, s, causal, mode);
    for (const length of [1, 2, 3, 4, 5, 7, 8, 9, 13, 17]) {
      const x = Array.from({ length }, (_, i) => i + 1);
      expect(await pad.run(x), `length ${length}`).toEqual(referencePad(x, k, s, causal, mode));
    }
    await pad.release();
  });
});

describe("onnxLstmWeights", () => {
  test("reorders PyTorch gates i,f,g,o to ONNX i,o,f,c and concatenates the biases", () => {
    const h = 1;
    const t = (name: string, values: number[]) => [name, { dims: [values.length], data: Float32Array.from(values), sourceDtype: "F32" as const }] as const;
    const weights = new Map([
      t("p.lstm.weight_ih_l0", [1, 2, 3, 4]),
      t("p.lstm.weight_hh_l0", [5, 6, 7, 8]),
      t("p.lstm.bias_ih_l0", [9, 10, 11, 12]),
      t("p.lstm.bias_hh_l0", [13, 14, 15, 16]),
    ]);
    const { w, r, b } = onnxLstmWeights(weights, "p", 0, h);
    expect([...w]).toEqual([1, 4, 2, 3]);
    expect([...r]).toEqual([5, 8, 6, 7]);
    expect([...b]).toEqual([9, 12, 10, 11, 13, 16, 14, 15]);
  });
});

describe("addConvTranspose1d equals ConvTranspose + the reference trim (and norm before the trim)", () => {
  const rand = (n: number, seed: number) => {
    let s = seed;
    return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647), s / 2147483647 - 0.5));
  };
  const cases = [
    // kernel, stride, causal, trim_right_ratio, norm
    [4, 2, true, 1, "weight_norm"],
    [16, 8, true, 1, "weight_norm"],
    [10, 5, true, 0.5, "weight_norm"],
    [10, 5, true, 0, "weight_norm"],
    [10, 5, false, 1, "weight_norm"],
    [10, 5, false, 1, "time_group_norm"],
    [8, 4, false, 1, "time_group_norm"],
    [5, 2, true, 1, "weight_norm"],
    [5, 2, false, 1, "time_group_norm"],
  ] as const;
  test.each(cases)("kernel %i stride %i causal %s ratio %f %s", async (k, s, causal, ratio, norm) => {
    const cin = 3;
    const cout = 2;
    const config = parseEncodecConfig({ use_causal_conv: causal, trim_right_ratio: ratio, norm_type: norm });
    const w = rand(cin * cout * k, 7);
    const b = rand(cout, 11);
    const nw = rand(cout, 13);
    const nb = rand(cout, 17);
    const weights = new Map([
      ["l.conv.weight", { dims: [cin, cout, k], data: w, sourceDtype: "F32" as const }],
      ["l.conv.bias", { dims: [cout], data: b, sourceDtype: "F32" as const }],
      ["l.norm.weight", { dims: [cout], data: nw, sourceDtype: "F32" as const }],
      ["l.norm.bias", { dims: [cout], data: nb, sourceDtype: "F32" as const }],
    ]);
    const g = new GraphBuilder("t");
    const x = g.input("x", OnnxDataType.FLOAT, [1, cin, "T"]);
    g.output(addConvTranspose1d({ g, config, weights }, x, { kind: "conv-transpose", prefix: "l", inChannels: cin, outChannels: cout, kernelSize: k, stride: s }), "y", OnnxDataType.FLOAT, [1, cout, "T2"]);
    const ours = await ort.InferenceSession.create(g.toModelBytes({ producerVersion: "test" }));

    const total = k - s;
    const right = causal ? Math.ceil(total * ratio) : Math.floor(total / 2);
    const left = total - right;
    const h = new GraphBuilder("ref");
    const hx = h.input("x", OnnxDataType.FLOAT, [1, cin, "T"]);
    let y = h.op("ConvTranspose", [hx, h.initializer("w", w, [cin, cout, k]), h.initializer("b", b, [cout])], { kernel_shape: attr.ints([k]), strides: attr.ints([s]) });
    if (norm === "time_group_norm") {
      const mean = h.op("ReduceMean", [y], { axes: attr.ints([1, 2]), keepdims: attr.int(1) });
      const c = h.op("Sub", [y, mean]);
      const v = h.op("ReduceMean", [h.op("Mul", [c, c])], { axes: attr.ints([1, 2]), keepdims: attr.int(1) });
      y = h.op("Div", [c, h.op("Sqrt", [h.op("Add", [v, h.float32([1e-5])])])]);
      y = h.op("Add", [h.op("Mul", [y, h.initializer("nw", nw, [cout, 1])]), h.initializer("nb", nb, [cout, 1])]);
    }
    y = h.op("Slice", [y, h.int64([left]), h.op("Sub", [h.op("Shape", [y], { start: attr.int(2) }), h.int64([right])]), h.int64([2])]);
    h.output(y, "y", OnnxDataType.FLOAT, [1, cout, "T2"]);
    const ref = await ort.InferenceSession.create(h.toModelBytes({ producerVersion: "test" }));
    for (const t of [1, 2, 9]) {
      const feed = { x: new ort.Tensor("float32", rand(cin * t, t), [1, cin, t]) };
      const a = (await ours.run(feed)).y!;
      const e = (await ref.run(feed)).y!;
      expect(a.dims).toEqual(e.dims);
      expect(a.dims[2]).toBe(t * s + (k - s) - total);
      const ad = a.data as Float32Array;
      const ed = e.data as Float32Array;
      for (let i = 0; i < ad.length; i++) expect(Math.abs(ad[i]! - ed[i]!)).toBeLessThan(1e-5);
    }
    await ours.release();
    await ref.release();
  });
});
