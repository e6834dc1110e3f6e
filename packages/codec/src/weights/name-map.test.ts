import { describe, expect, test } from "vitest";
import { CodecError } from "../errors.js";
import { hasOriginalNames, mapOriginalName, mapOriginalToHfNames } from "./name-map.js";
import type { TensorMap } from "./raw-tensor.js";
import { readSafetensors } from "./safetensors.js";
import { readTorchCheckpoint } from "./torch-checkpoint.js";
import { fixtureBytes } from "../../test/support/fixtures.js";


/** Bit-for-bit equality of two float32 arrays (NaN payloads and -0 included). */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe("mapOriginalName", () => {
  test.each([
    ["encoder.model.0.conv.conv.weight_g", "encoder.layers.0.conv.weight_g"],
    ["encoder.model.1.block.1.conv.conv.weight_v", "encoder.layers.1.block.1.conv.weight_v"],
    ["encoder.model.1.block.3.conv.norm.bias", "encoder.layers.1.block.3.norm.bias"],
    ["encoder.model.1.shortcut.conv.conv.bias", "encoder.layers.1.shortcut.conv.bias"],
    ["encoder.model.4.shortcut.conv.norm.weight", "encoder.layers.4.shortcut.norm.weight"],
    ["encoder.model.13.lstm.weight_ih_l0", "encoder.layers.13.lstm.weight_ih_l0"],
    ["decoder.model.1.lstm.bias_hh_l1", "decoder.layers.1.lstm.bias_hh_l1"],
    ["encoder.model.0.conv.norm.weight", "encoder.layers.0.norm.weight"],
    ["decoder.model.3.convtr.convtr.weight_v", "decoder.layers.3.conv.weight_v"],
    ["decoder.model.12.convtr.norm.bias", "decoder.layers.12.norm.bias"],
    ["decoder.model.15.conv.conv.weight", "decoder.layers.15.conv.weight"],
    ["quantizer.vq.layers.7._codebook.embed", "quantizer.layers.7.codebook.embed"],
    ["quantizer.vq.layers.31._codebook.embed_avg", "quantizer.layers.31.codebook.embed_avg"],
    ["quantizer.vq.layers.0._codebook.cluster_size", "quantizer.layers.0.codebook.cluster_size"],
    ["quantizer.vq.layers.0._codebook.inited", "quantizer.layers.0.codebook.inited"],
  ])("%s → %s", (original, hf) => {
    expect(mapOriginalName(original)).toBe(hf);
  });

  test.each([
    "encoder.model.0.conv.conv.weight_x",
    "encoder.model.0.conv.weight",
    "encoder.layers.0.conv.weight",
    "decoder.model.3.convtr.conv.weight",
    "quantizer.vq.layers.x._codebook.embed",
    "lm.transformer.layers.0.weight",
  ])("%s has no mapping", (name) => {
    expect(mapOriginalName(name)).toBeUndefined();
  });
});

describe("mapOriginalToHfNames", () => {
  test.each(["tiny24", "tiny48"])("%s model.th mapped equals model.safetensors exactly (names, order, shapes, bytes)", (model) => {
    const original = readTorchCheckpoint(fixtureBytes(`${model}/model.th`), "model.th");
    expect(hasOriginalNames(original)).toBe(true);
    const mapped = mapOriginalToHfNames(original, "model.th");
    const hf = readSafetensors(fixtureBytes(`${model}/model.safetensors`), "model.safetensors");
    expect(hasOriginalNames(hf)).toBe(false);
    expect([...mapped.keys()]).toEqual([...hf.keys()]);
    for (const [name, want] of hf) {
      const got = mapped.get(name)!;
      expect(got.dims, name).toEqual(want.dims);
      expect(got.sourceDtype, name).toBe(want.sourceDtype);
      expect(sameBytes(got.data, want.data), name).toBe(true);
    }
  });

  test("an unknown name is a CodecError naming it and the file", () => {
    const tensors: TensorMap = new Map([
      ["encoder.model.0.conv.conv.bias", { dims: [1], data: Float32Array.of(1), sourceDtype: "F32" }],
      ["encoder.model.0.mystery", { dims: [1], data: Float32Array.of(1), sourceDtype: "F32" }],
    ]);
    expect(() => mapOriginalToHfNames(tensors, "odd.th")).toThrow(CodecError);
    expect(() => mapOriginalToHfNames(tensors, "odd.th")).toThrow(/odd\.th: tensor encoder\.model\.0\.mystery/);
  });
});
