import { describe, expect, test } from "vitest";
import { CodecError } from "../errors.js";
import { deriveHfConfig, publishedHfConfig } from "./derive-config.js";
import type { TensorMap } from "./raw-tensor.js";
import { readSafetensors } from "./safetensors.js";
import { readTorchCheckpoint } from "./torch-checkpoint.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const configOf = (model: string): unknown => JSON.parse(new TextDecoder().decode(fixtureBytes(`${model}/config.json`)));

const th = { tiny24: readTorchCheckpoint(fixtureBytes("tiny24/model.th"), "model.th"), tiny48: readTorchCheckpoint(fixtureBytes("tiny48/model.th"), "model.th") };

describe("deriveHfConfig", () => {
  test.each(["tiny24", "tiny48"] as const)("%s model.th (original names) derives its config.json field for field", (model) => {
    const derived = deriveHfConfig(th[model], {}, "model.th");
    expect(derived).toEqual(configOf(model));
    // Plain JSON data.
    expect(JSON.parse(JSON.stringify(derived))).toEqual(derived);
  });

  test.each(["tiny24", "tiny48"] as const)("%s model.safetensors (HF names) derives the same config", (model) => {
    expect(deriveHfConfig(readSafetensors(fixtureBytes(`${model}/model.safetensors`)))).toEqual(configOf(model));
  });

  test("hints override the settings the weights cannot tell", () => {
    const derived = deriveHfConfig(th.tiny24, { use_causal_conv: false, normalize: true, chunk_length_s: 2, overlap: 0.1, target_bandwidths: [6] });
    expect(derived).toMatchObject({ use_causal_conv: false, normalize: true, chunk_length_s: 2, overlap: 0.1, target_bandwidths: [6], num_filters: 4 });
  });

  test("fewer codebooks keep only the bandwidths they can serve", () => {
    const fewer: TensorMap = new Map([...th.tiny24].filter(([name]) => !/^quantizer\.vq\.layers\.([89]|[1-3]\d)\./.test(name)));
    expect(deriveHfConfig(fewer).target_bandwidths).toEqual([1.5, 3.0, 6.0]);
    const six: TensorMap = new Map([...th.tiny24].filter(([name]) => !/^quantizer\.vq\.layers\.([6-9]|[1-3]\d)\./.test(name)));
    expect(deriveHfConfig(six).target_bandwidths).toEqual([1.5, 3.0, 4.5]);
  });

  test("a missing or misshapen tensor is a CodecError naming it", () => {
    const missing = new Map(th.tiny24);
    missing.delete("encoder.model.13.lstm.weight_ih_l0");
    expect(() => deriveHfConfig(missing, {}, "m.th")).toThrow(/m\.th: missing tensor encoder\.layers\.13\.lstm\.weight_ih_l0/);
    const odd = new Map(th.tiny24);
    odd.set("encoder.model.3.conv.conv.weight_v", { dims: [8, 4, 3], data: new Float32Array(96), sourceDtype: "F32" });
    expect(() => deriveHfConfig(odd, {}, "m.th")).toThrow(CodecError);
    expect(() => deriveHfConfig(odd, {}, "m.th")).toThrow(/kernel 3 .* is odd/);
    expect(() => deriveHfConfig(new Map(), {}, "e.th")).toThrow(/no encoder\.layers/);
  });

  test("a channel count of no published model needs a sampling_rate hint", () => {
    const three: TensorMap = new Map(th.tiny24);
    const w = three.get("encoder.model.0.conv.conv.weight_v")!;
    three.set("encoder.model.0.conv.conv.weight_v", { ...w, dims: [4, 3, 7] });
    expect(() => deriveHfConfig(three)).toThrow(/3 audio channels/);
    expect(deriveHfConfig(three, { sampling_rate: 16000 })).toMatchObject({ audio_channels: 3, sampling_rate: 16000 });
  });
});

describe("publishedHfConfig", () => {
  test.each([
    ["encodec_24khz", "tiny24"],
    ["encodec_48khz", "tiny48"],
  ] as const)("%s is the tiny model's config at full width (32 filters, 128 dims)", (name, tiny) => {
    const full = publishedHfConfig(name);
    expect(full).toEqual({ ...(configOf(tiny) as object), num_filters: 32, hidden_size: 128, codebook_dim: 128 });
    full.upsampling_ratios.push(99);
    expect(publishedHfConfig(name).upsampling_ratios).toEqual([8, 5, 4, 2]);
  });
});
