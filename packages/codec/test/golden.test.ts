// Golden tests: the tiny reference models (real EnCodec architecture, seeded random weights)
// against the vectors the official implementation produced. Tolerances are those of
// test/fixtures/VECTORS-README.md, no wider.
import { createRequire } from "node:module";
import path from "node:path";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EncodecModel } from "../src/runtime/encodec-model.js";
import type { OrtRuntime } from "../src/runtime/ort-types.js";
import {
  bwKey,
  loadGoldenFixture,
  maxAbsDiff,
  planar,
  referenceFrame,
  segmentCount,
  TINY_MODELS,
  vector,
  type TinyModel,
} from "./support/fixtures.js";

const EMB_TOLERANCE = 1e-4;
const CODES_MIN_AGREEMENT = 0.99;
const DECODE_TOLERANCE = 2e-4;

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.wasmPaths = `${path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web"))}/`;

const RUNTIMES: ReadonlyArray<readonly [string, OrtRuntime]> = [
  ["onnxruntime-node", ortNode],
  ["onnxruntime-web (wasm)", ortWeb],
];

/** Measured errors, printed at the end (they feed the README's fidelity table). */
const measured: string[] = [];
afterAll(() => {
  console.log(`golden errors:\n${measured.join("\n")}`);
});

const cases = TINY_MODELS.flatMap((name) => RUNTIMES.map(([rt, ort]) => [name, rt, ort] as const));

describe.each(cases)("%s on %s", (name: TinyModel, rtName, runtime) => {
  const f = loadGoldenFixture(name);
  const bandwidths = f.config.targetBandwidthsKbps.map((bw) => [bw] as const);
  let model: EncodecModel;

  beforeAll(async () => {
    model = await EncodecModel.create({ config: f.config, tensors: f.tensors, runtime });
  });
  afterAll(async () => {
    await model?.release();
  });

  test("encoder output of the first segment within 1e-4 of emb", async () => {
    const segLen = f.meta.segment_length ?? f.meta.input_samples;
    const out = await model.embed(f.input.map((ch) => ch.subarray(0, segLen)));
    const ref = vector(f, "emb");
    expect([1, out.hiddenSize, out.numFrames]).toEqual(ref.dims);
    const err = maxAbsDiff(out.embeddings, ref.data);
    measured.push(`${name} ${rtName} emb max abs error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(EMB_TOLERANCE);
  });

  test.each(bandwidths)("codes at %f kbps: every segment at least 99 percent identical, scales equal", async (bw) => {
    const encoded = await model.encode(f.input, { bandwidthKbps: bw });
    expect(encoded.lengthSamples).toBe(f.meta.input_samples);
    expect(encoded.frames).toHaveLength(segmentCount(f, bw));
    let worst = 1;
    encoded.frames.forEach((frame, seg) => {
      const ref = referenceFrame(f, bw, seg);
      expect([frame.numCodebooks, frame.numFrames]).toEqual([ref.numCodebooks, ref.numFrames]);
      let same = 0;
      for (let i = 0; i < ref.codes.length; i++) if (frame.codes[i] === ref.codes[i]) same++;
      const agreement = same / ref.codes.length;
      worst = Math.min(worst, agreement);
      expect(agreement, `segment ${seg}`).toBeGreaterThanOrEqual(CODES_MIN_AGREEMENT);
      if (ref.scale === null) expect(frame.scale).toBeNull();
      else expect(Math.abs(frame.scale! - ref.scale) / ref.scale, `segment ${seg} scale`).toBeLessThanOrEqual(1e-6);
    });
    measured.push(`${name} ${rtName} codes ${bw} kbps: worst segment ${(worst * 100).toFixed(2)} % identical`);
  });

  test.each(bandwidths)("decodeSegment of the reference codes at %f kbps within 2e-4 of decoded_seg0", async (bw) => {
    const ref = vector(f, `decoded_seg0_bw${bwKey(bw)}`);
    const out = await model.decodeSegment(referenceFrame(f, bw, 0));
    const expected = planar(ref);
    expect(out.map((c) => c.length)).toEqual(expected.map((c) => c.length));
    const err = Math.max(...out.map((ch, c) => maxAbsDiff(ch, expected[c]!)));
    measured.push(`${name} ${rtName} decoded_seg0 ${bw} kbps max abs error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(DECODE_TOLERANCE);
  });

  test.each(bandwidths)("decode of the reference codes at %f kbps within 2e-4 of decoded (overlap-add, trimmed)", async (bw) => {
    const ref = vector(f, `decoded_bw${bwKey(bw)}`);
    const frames = Array.from({ length: segmentCount(f, bw) }, (_, s) => referenceFrame(f, bw, s));
    const out = await model.decode({
      frames,
      lengthSamples: f.meta.input_samples,
      bandwidthKbps: bw,
      sampleRateHz: f.config.sampleRateHz,
      channels: f.config.audioChannels,
    });
    const expected = planar(ref);
    expect(out.map((c) => c.length)).toEqual(expected.map((c) => c.length));
    const err = Math.max(...out.map((ch, c) => maxAbsDiff(ch, expected[c]!)));
    measured.push(`${name} ${rtName} decoded ${bw} kbps max abs error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(DECODE_TOLERANCE);
  });
});
