import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  encodecConfigToJson,
  frameRateHz,
  hopLengthSamples,
  numQuantizers,
  numQuantizersForBandwidth,
  parseEncodecConfig,
  segmentLengthSamples,
  segmentStrideSamples,
} from "./config.js";
import { isCodecError } from "./errors.js";

const fixture = (p: string) => new URL(`../test/fixtures/${p}`, import.meta.url);
const tiny24 = JSON.parse(readFileSync(fixture("tiny24/config.json"), "utf8")) as Record<string, unknown>;
const tiny48 = JSON.parse(readFileSync(fixture("tiny48/config.json"), "utf8")) as Record<string, unknown>;
const full24 = JSON.parse(readFileSync(new URL("../bench/configs/encodec_24khz.json", import.meta.url), "utf8")) as Record<string, unknown>;
const full48 = JSON.parse(readFileSync(new URL("../bench/configs/encodec_48khz.json", import.meta.url), "utf8")) as Record<string, unknown>;

describe("parseEncodecConfig", () => {
  test.each([
    ["tiny24", tiny24, 24000, 1, 75, 32, null, null],
    ["tiny48", tiny48, 48000, 2, 150, 16, 48000, 47520],
    ["encodec_24khz", full24, 24000, 1, 75, 32, null, null],
    ["encodec_48khz", full48, 48000, 2, 150, 16, 48000, 47520],
  ])("%s: derived sizes", (_name, json, rate, channels, fr, nq, segLen, segStride) => {
    const c = parseEncodecConfig(json);
    expect(c.sampleRateHz).toBe(rate);
    expect(c.audioChannels).toBe(channels);
    expect(hopLengthSamples(c)).toBe(320);
    expect(frameRateHz(c)).toBe(fr);
    expect(numQuantizers(c)).toBe(nq);
    expect(segmentLengthSamples(c)).toBe(segLen);
    expect(segmentStrideSamples(c)).toBe(segStride);
  });

  test.each([
    [24000, 1.5, 2],
    [24000, 3, 4],
    [24000, 6, 8],
    [24000, 12, 16],
    [24000, 24, 32],
    [48000, 3, 2],
    [48000, 6, 4],
    [48000, 12, 8],
    [48000, 24, 16],
  ])("rate %i Hz at %f kbps uses %i quantizers", (rate, bw, nq) => {
    const c = parseEncodecConfig(rate === 24000 ? full24 : full48);
    expect(numQuantizersForBandwidth(c, bw)).toBe(nq);
  });

  test("an empty object takes the Hugging Face defaults (the 24 kHz model)", () => {
    const c = parseEncodecConfig({});
    expect(encodecConfigToJson(c)).toEqual(encodecConfigToJson(parseEncodecConfig(full24)));
    expect(c.codebookDim).toBe(128);
  });

  test("codebook_dim defaults to hidden_size", () => {
    expect(parseEncodecConfig({ hidden_size: 64 }).codebookDim).toBe(64);
  });

  test("accepts JSON text and round-trips through encodecConfigToJson", () => {
    const c = parseEncodecConfig(JSON.stringify(tiny48));
    expect(parseEncodecConfig(encodecConfigToJson(c))).toEqual(c);
  });

  test.each([
    [{ num_filters: 0 }, "num_filters"],
    [{ num_filters: 2.5 }, "num_filters"],
    [{ hidden_size: "128" }, "hidden_size"],
    [{ norm_type: "layer_norm" }, "norm_type"],
    [{ pad_mode: "circular" }, "pad_mode"],
    [{ upsampling_ratios: [] }, "upsampling_ratios"],
    [{ upsampling_ratios: [8, -5] }, "upsampling_ratios"],
    [{ target_bandwidths: [0] }, "target_bandwidths"],
    [{ codebook_dim: 64 }, "codebook_dim"],
    [{ norm_type: "time_group_norm", use_causal_conv: true }, "norm_type"],
    [{ use_causal_conv: false, trim_right_ratio: 0.5 }, "trim_right_ratio"],
    [{ trim_right_ratio: 2 }, "trim_right_ratio"],
    [{ chunk_length_s: 1 }, "overlap"],
    [{ overlap: 1 }, "overlap"],
    [{ normalize: "yes" }, "normalize"],
    [{ model_type: "bert" }, "model_type"],
    [{ audio_channels: 0 }, "audio_channels"],
    [{ compress: 64 }, "compress"],
  ])("rejects %j naming %s", (patch, field) => {
    let err: unknown;
    try {
      parseEncodecConfig({ ...tiny24, ...patch });
    } catch (e) {
      err = e;
    }
    expect(isCodecError(err)).toBe(true);
    expect((err as { code: string }).code).toBe("bad-config");
    expect((err as Error).message.startsWith(`${field}:`)).toBe(true);
  });

  test.each([["not json{"], [[1, 2]], [42]])("rejects a non-object %j", (value) => {
    expect(() => parseEncodecConfig(value)).toThrow(expect.objectContaining({ code: "bad-config" }));
  });
});
