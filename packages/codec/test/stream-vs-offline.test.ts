// What the codec README states about frame-exact streaming against the offline reference on a
// long input ("Equality with offline", measured by bench/stream-vs-offline.ts), checked on the
// tiny 24 kHz model, the whole 20 s test_24k.wav, 6 kbps, onnxruntime-node, so that the statement
// cannot silently become false.
import * as ortNode from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mulberry32 } from "../src/internal/mulberry32.js";
import { EncodecModel, type EncodedFrame } from "../src/runtime/encodec-model.js";
import { StreamingCodec } from "../src/streaming/streaming-codec.js";
import { loadGoldenFixture } from "./support/fixtures.js";
import { readWavFixture } from "./support/streaming-support.js";
import { compareStreamToOffline } from "./support/stream-vs-offline.js";

const fixture = loadGoldenFixture("tiny24");
const audio = readWavFixture("test_24k.wav").channels[0]!;
const BANDWIDTH_KBPS = 6;
let model: EncodecModel;
let codec: StreamingCodec;
let reference: EncodedFrame;

beforeAll(async () => {
  const sessionOptions = { intraOpNumThreads: 1 };
  model = await EncodecModel.create({ config: fixture.config, tensors: fixture.tensors, runtime: ortNode, sessionOptions });
  codec = await StreamingCodec.create({ config: fixture.config, tensors: fixture.tensors, runtime: ortNode, sessionOptions, preloadBandwidthsKbps: [BANDWIDTH_KBPS] });
  reference = await model.encodeSegment([audio], { bandwidthKbps: BANDWIDTH_KBPS }); // the offline graphs over all 20 s, one call
});
afterAll(async () => {
  await codec?.release();
  await model?.release();
});

describe("streaming against offline on 20 s of speech (tiny24, 6 kbps)", () => {
  test("one frame per call (a live sender): every code equal, audio within 2e-6", async () => {
    const r = await compareStreamToOffline(model, codec, audio, BANDWIDTH_KBPS, reference);
    expect(r.codes.framesDiffering).toEqual([]);
    expect(r.maxError).toBeLessThanOrEqual(2e-6);
    expect(r.decoderMaxError).toBeLessThanOrEqual(2e-6);
  });

  test("random pieces (multi-frame calls): ≥ 99.9 % of codes equal, flips on isolated frames, audio within 0.1 near them and 2e-4 from 20 frames after", async () => {
    const random = mulberry32(7);
    const r = await compareStreamToOffline(model, codec, audio, BANDWIDTH_KBPS, reference, () => 1 + Math.floor(random() * 3000));
    console.log(`random pieces: ${r.codes.equalCodes}/${r.codes.totalCodes} codes equal, frames ${r.codes.framesDiffering.join(",")}, max ${r.maxError}, away ${r.maxErrorAwayFromFlips}`);
    expect(r.codes.equalCodes / r.codes.totalCodes).toBeGreaterThanOrEqual(0.999);
    expect(r.codes.framesDiffering.length).toBeLessThanOrEqual(3);
    expect(r.maxError).toBeLessThanOrEqual(0.1);
    expect(r.maxErrorAwayFromFlips).toBeLessThanOrEqual(2e-4);
  });
});
