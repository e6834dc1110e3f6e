import { OverlapAdd, splitIntoChunks } from "@encstream/ola";
import * as ortNode from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadGoldenFixture } from "../../test/support/fixtures.js";
import { joinPlanar, maxAbsDiffRange, snrDb } from "../../test/support/streaming-support.js";
import { isCodecError } from "../errors.js";
import { decodePayload, encodePayload } from "../payload/frame-payload.js";
import { segmentScale } from "../runtime/audio-segments.js";
import { EncodecModel } from "../runtime/encodec-model.js";
import { decodeChunk, encodeChunk } from "./chunk-codec.js";

describe.each(["tiny24", "tiny48"] as const)("%s chunks (onnxruntime-node)", (name) => {
  const f = loadGoldenFixture(name);
  let model: EncodecModel;
  beforeAll(async () => {
    model = await EncodecModel.create({ config: f.config, tensors: f.tensors, runtime: ortNode });
  });
  afterAll(async () => {
    await model?.release();
  });

  test("encodeChunk: ceil(length / hop) frames, the chunk's own scale at 48 kHz; decodeChunk trims to the chunk length", async () => {
    const length = Math.round(0.25 * f.config.sampleRateHz) + 7;
    const audio = f.input.map((c) => c.subarray(1000, 1000 + length));
    const chunk = await encodeChunk(model, audio, { bandwidthKbps: 6 });
    expect(chunk.lengthSamples).toBe(length);
    expect(chunk.numFrames).toBe(Math.ceil(length / 320));
    expect(chunk.scale).toBe(name === "tiny48" ? segmentScale(audio) : null);
    const decoded = await decodeChunk(model, chunk);
    expect(decoded.map((c) => c.length)).toEqual(audio.map(() => length));
    const untrimmed = await model.decodeSegment(chunk);
    expect(untrimmed[0]!.length).toBe(chunk.numFrames * 320);
    expect(maxAbsDiffRange(decoded, untrimmed)).toBe(0);
  });

  test("through a frame payload and back, the chunk decodes to the same audio", async () => {
    const audio = f.input.map((c) => c.subarray(0, 5000));
    const chunk = await encodeChunk(model, audio, { bandwidthKbps: 12 });
    const bytes = encodePayload({ modelKind: name === "tiny24" ? "24k" : "48k", mode: "chunked", ...chunk });
    const received = decodePayload(bytes);
    expect(received.lengthSamples).toBe(5000);
    const again = await decodeChunk(model, { ...received, codes: received.codes! });
    expect(maxAbsDiffRange(again, await decodeChunk(model, chunk))).toBe(0);
  });

  test("a length that does not fit the frames is CodecError corrupt", async () => {
    const chunk = await encodeChunk(model, f.input.map((c) => c.subarray(0, 1000)), { bandwidthKbps: 6 }); // 4 frames
    for (const lengthSamples of [960, 1281]) {
      const error = await decodeChunk(model, { ...chunk, lengthSamples }).catch((e: unknown) => e);
      expect(isCodecError(error) && error.code).toBe("corrupt");
    }
    await expect(decodeChunk(model, { ...chunk, lengthSamples: 0 })).rejects.toThrow(RangeError);
  });
});

test("48 kHz chunks of 1 s with 1 % overlap joined by @encstream/ola reproduce the offline path (its segmentation)", async () => {
  const f = loadGoldenFixture("tiny48");
  const model = await EncodecModel.create({ config: f.config, tensors: f.tensors, runtime: ortNode });
  try {
    const options = { chunkSamples: 48_000, overlapRatio: 0.01 }; // hop 47 520 = the offline segment stride
    const offline = await model.decode(await model.encode(f.input, { bandwidthKbps: 6 }));
    const ola = new OverlapAdd({ channels: 2, ...options });
    const parts: Float32Array[][] = [];
    for (const chunk of splitIntoChunks(f.input, options)) parts.push(ola.push(await decodeChunk(model, await encodeChunk(model, chunk.samples, { bandwidthKbps: 6 })), chunk));
    parts.push(ola.flush());
    const joined = joinPlanar(parts, 2);
    expect(joined[0]!.length).toBe(f.input[0]!.length);
    expect(snrDb(offline, joined)).toBeGreaterThan(100);
  } finally {
    await model.release();
  }
});
