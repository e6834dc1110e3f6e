import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseEncodecConfig } from "../config.js";
import { readSafetensors } from "../weights/safetensors.js";
import type { RawTensor, TensorMap } from "../weights/raw-tensor.js";
import { describeArchitecture } from "./architecture.js";
import { foldWeightNorm, prepareWeights } from "./prepare-weights.js";

const fixture = (p: string) => new URL(`../../test/fixtures/${p}`, import.meta.url);
const load = (name: string) => ({
  config: parseEncodecConfig(JSON.parse(readFileSync(fixture(`${name}/config.json`), "utf8"))),
  tensors: readSafetensors(readFileSync(fixture(`${name}/model.safetensors`)), `${name}/model.safetensors`),
});
const models = { tiny24: load("tiny24"), tiny48: load("tiny48") };

const errorOf = (fn: () => unknown): { code?: string; message: string } => {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error("expected a throw");
};

describe("describeArchitecture", () => {
  test.each(["tiny24", "tiny48"] as const)("%s: names and shapes equal the Hub-layout file exactly", (name) => {
    const { config, tensors } = models[name];
    const arch = describeArchitecture(config);
    expect(arch.tensors.map((t) => t.name).sort()).toEqual([...tensors.keys()].sort());
    for (const t of arch.tensors) expect(tensors.get(t.name)!.dims).toEqual(t.dims);
  });

  test("layer order follows the reference (24 kHz layout)", () => {
    const arch = describeArchitecture(models.tiny24.config);
    expect(arch.encoder.map((l) => l.kind).join(",")).toBe(
      "conv,resnet,elu,conv,resnet,elu,conv,resnet,elu,conv,resnet,elu,conv,lstm,elu,conv",
    );
    expect(arch.decoder.map((l) => l.kind).join(",")).toBe(
      "conv,lstm,elu,conv-transpose,resnet,elu,conv-transpose,resnet,elu,conv-transpose,resnet,elu,conv-transpose,resnet,elu,conv",
    );
    // strides: encoder uses the ratios reversed
    expect(arch.encoder.filter((l) => l.kind === "conv").map((l) => (l.kind === "conv" ? l.stride : 0))).toEqual([1, 2, 4, 5, 8, 1]);
  });

  test("num_residual_layers and dilation growth", () => {
    const config = parseEncodecConfig({ ...JSON.parse(readFileSync(fixture("tiny24/config.json"), "utf8")), num_residual_layers: 3, dilation_growth_rate: 3, num_lstm_layers: 0, use_conv_shortcut: false });
    const arch = describeArchitecture(config);
    const res = arch.encoder.filter((l) => l.kind === "resnet");
    expect(res).toHaveLength(12);
    expect(res.slice(0, 3).map((r) => (r.kind === "resnet" ? r.convs[0]!.dilation : 0))).toEqual([1, 3, 9]);
    expect(res.every((r) => r.kind === "resnet" && r.shortcut === null)).toBe(true);
    expect(arch.encoder.some((l) => l.kind === "lstm")).toBe(false);
  });
});

describe("prepareWeights", () => {
  test.each(["tiny24", "tiny48"] as const)("%s: accepts the fixture weights", (name) => {
    const { config, tensors } = models[name];
    const prepared = prepareWeights(config, tensors);
    for (const name of prepared.tensors.keys()) {
      expect(name).not.toMatch(/weight_[gv]$|inited|cluster_size|embed_avg/);
    }
    expect(prepared.tensors.get("encoder.layers.0.conv.weight")!.dims).toEqual([4, config.audioChannels, 7]);
  });

  test("folds weight norm per output channel (also [in, out, k] transposed weights)", () => {
    const { config, tensors } = models.tiny24;
    const prepared = prepareWeights(config, tensors);
    for (const prefix of ["encoder.layers.3.conv", "decoder.layers.3.conv"]) {
      const g = tensors.get(`${prefix}.weight_g`)!;
      const v = tensors.get(`${prefix}.weight_v`)!;
      const w = prepared.tensors.get(`${prefix}.weight`)!;
      const per = v.data.length / v.dims[0]!;
      for (let r = 0; r < v.dims[0]!; r++) {
        const row = v.data.subarray(r * per, (r + 1) * per);
        const norm = Math.hypot(...row);
        expect(w.data[r * per + 1]).toBeCloseTo((g.data[r]! * row[1]!) / norm, 6);
        // the folded row has norm |g|
        expect(Math.hypot(...w.data.subarray(r * per, (r + 1) * per))).toBeCloseTo(Math.abs(g.data[r]!), 5);
      }
    }
  });

  test("foldWeightNorm on a hand example", () => {
    const g: RawTensor = { dims: [2, 1, 1], data: new Float32Array([2, -1]), sourceDtype: "F32" };
    const v: RawTensor = { dims: [2, 1, 2], data: new Float32Array([3, 4, 5, 0]), sourceDtype: "F32" };
    expect([...foldWeightNorm(g, v).data]).toStrictEqual([1.2000000476837158, 1.600000023841858, -1, -0]);
  });

  test("the training buffers may be absent", () => {
    const { config, tensors } = models.tiny24;
    const slim: TensorMap = new Map([...tensors].filter(([n]) => !/inited|cluster_size|embed_avg/.test(n)));
    expect(prepareWeights(config, slim).tensors.size).toBe(prepareWeights(config, tensors).tensors.size);
  });

  test("accepts parametrizations.weight.original0/1 for weight_g/weight_v", () => {
    const { config, tensors } = models.tiny24;
    const renamed: TensorMap = new Map(
      [...tensors].map(([n, t]) => [n.replace(/\.conv\.weight_g$/, ".conv.parametrizations.weight.original0").replace(/\.conv\.weight_v$/, ".conv.parametrizations.weight.original1"), t]),
    );
    const a = prepareWeights(config, renamed).tensors.get("decoder.layers.15.conv.weight")!;
    const b = prepareWeights(config, tensors).tensors.get("decoder.layers.15.conv.weight")!;
    expect(a.data).toEqual(b.data);
  });

  test("a missing tensor is named with its expected shape", () => {
    const { config, tensors } = models.tiny48;
    const m = new Map(tensors);
    m.delete("decoder.layers.7.block.3.norm.bias");
    const e = errorOf(() => prepareWeights(config, m));
    expect(e.code).toBe("missing-tensor");
    expect(e.message).toContain("decoder.layers.7.block.3.norm.bias [16]");
  });

  test("a mis-shaped tensor is named with both shapes", () => {
    const { config, tensors } = models.tiny24;
    const m = new Map(tensors);
    m.set("quantizer.layers.5.codebook.embed", { dims: [512, 32], data: new Float32Array(512 * 32), sourceDtype: "F32" });
    const e = errorOf(() => prepareWeights(config, m));
    expect(e.code).toBe("shape-mismatch");
    expect(e.message).toContain("quantizer.layers.5.codebook.embed has shape [512, 32], the config expects [1024, 16]");
  });

  test("an unexpected tensor is an error (the config does not describe these weights)", () => {
    const { config, tensors } = models.tiny24;
    const m = new Map(tensors);
    m.set("quantizer.layers.32.codebook.embed", { dims: [1024, 16], data: new Float32Array(1024 * 16), sourceDtype: "F32" });
    const e = errorOf(() => prepareWeights(config, m));
    expect(e.code).toBe("unexpected-tensor");
    expect(e.message).toContain("quantizer.layers.32.codebook.embed");
  });

  test("weights of the other model do not fit", () => {
    const e = errorOf(() => prepareWeights(models.tiny24.config, models.tiny48.tensors));
    expect(["missing-tensor", "shape-mismatch"]).toContain(e.code);
  });
});
