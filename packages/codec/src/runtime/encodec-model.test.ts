import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isCodecError } from "../errors.js";
import { loadGoldenFixture, referenceFrame } from "../../test/support/fixtures.js";
import { EncodecModel, type EncodedFrame } from "./encodec-model.js";
import type { GraphCache } from "./graph-cache.js";

const f24 = loadGoldenFixture("tiny24");
const f48 = loadGoldenFixture("tiny48");
let m24: EncodecModel;
let m48: EncodecModel;

beforeAll(async () => {
  m24 = await EncodecModel.create({ config: f24.config, tensors: f24.tensors, runtime: ort, sessionOptions: { intraOpNumThreads: 1 } });
  m48 = await EncodecModel.create({ config: f48.config, tensors: f48.tensors, runtime: ort, sessionOptions: { intraOpNumThreads: 1 } });
});
afterAll(async () => {
  await m24?.release();
  await m48?.release();
});

const noise = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 0.2 - 0.1;
  });
};

describe("EncodecModel properties", () => {
  test("derived sizes", () => {
    expect([m24.sampleRateHz, m24.channels, m24.frameRateHz, m24.hopLengthSamples, m24.numQuantizers]).toEqual([24000, 1, 75, 320, 32]);
    expect([m48.sampleRateHz, m48.channels, m48.frameRateHz, m48.segmentLengthSamples, m48.segmentStrideSamples]).toEqual([48000, 2, 150, 48000, 47520]);
    expect(m24.bandwidthsKbps).toEqual([1.5, 3, 6, 12, 24]);
    expect(m48.numQuantizersForBandwidth(6)).toBe(4);
  });
});

describe("misuse throws RangeError/TypeError naming the parameter", () => {
  test.each([[5], [0], [Number.NaN], ["6" as unknown as number]])("bandwidth %j lists the supported ones", async (bw) => {
    await expect(m24.encode([noise(640, 1)], { bandwidthKbps: bw })).rejects.toThrow(new RangeError(`bandwidthKbps must be one of 1.5, 3, 6, 12, 24 kbps for this model, got ${String(bw)}`));
  });
  test("channel count", async () => {
    await expect(m48.encode([noise(640, 1)], { bandwidthKbps: 6 })).rejects.toThrow(/audio must have 2 channel\(s\).*got 1/);
    await expect(m24.encodeSegment([noise(640, 1), noise(640, 2)], { bandwidthKbps: 6 })).rejects.toThrow(RangeError);
  });
  test("unequal, empty, or non-Float32Array channels", async () => {
    await expect(m48.encode([noise(640, 1), noise(600, 2)], { bandwidthKbps: 6 })).rejects.toThrow(/equal lengths/);
    await expect(m24.encode([new Float32Array(0)], { bandwidthKbps: 6 })).rejects.toThrow(/at least one sample/);
    await expect(m24.encode([[0.1, 0.2] as unknown as Float32Array], { bandwidthKbps: 6 })).rejects.toThrow(TypeError);
  });
  test("a segment longer than the model's segment", async () => {
    await expect(m48.encodeSegment([noise(48001, 1), noise(48001, 2)], { bandwidthKbps: 6 })).rejects.toThrow(/at most 48000/);
  });
  test("malformed frames", async () => {
    const good = referenceFrame(f24, 6, 0);
    await expect(m24.decodeSegment({ ...good, numCodebooks: 33 })).rejects.toThrow(/numCodebooks must be an integer in \[1, 32\]/);
    await expect(m24.decodeSegment({ ...good, codes: good.codes.subarray(1) })).rejects.toThrow(/numCodebooks × numFrames/);
    await expect(m24.decodeSegment({ ...good, codes: Int32Array.from(good.codes) as unknown as Uint16Array })).rejects.toThrow(TypeError);
  });
});

describe("bad data throws CodecError", () => {
  test("a code outside the codebook is corrupt", async () => {
    const frame = referenceFrame(f24, 1.5, 0);
    const codes = frame.codes.slice();
    codes[7] = 1024;
    const err = await m24.decodeSegment({ ...frame, codes }).catch((e: unknown) => e);
    expect(isCodecError(err) && err.code === "corrupt").toBe(true);
  });
  test("frames that do not match the length are corrupt", async () => {
    const frames = [0, 1].map((s) => referenceFrame(f48, 6, s));
    const err = await m48.decode({ frames, lengthSamples: 120000, bandwidthKbps: 6, sampleRateHz: 48000, channels: 2 }).catch((e: unknown) => e);
    expect(isCodecError(err) && err.code === "corrupt").toBe(true);
  });
});

describe("round trips at awkward lengths (reflect padding of inputs shorter than the kernels)", () => {
  test.each([1, 2, 7, 319, 320, 321, 47521, 95041])("48 kHz, %i samples", async (n) => {
    const audio = [noise(n, 3), noise(n, 4)];
    const encoded = await m48.encode(audio, { bandwidthKbps: 24 });
    expect(encoded.frames).toHaveLength(Math.ceil(n / 47520));
    const last = encoded.frames[encoded.frames.length - 1]!;
    expect(last.numFrames).toBe(Math.ceil((n - (encoded.frames.length - 1) * 47520) / 320));
    const out = await m48.decode(encoded);
    expect(out.map((c) => c.length)).toEqual([n, n]);
    expect(out.every((c) => c.every(Number.isFinite))).toBe(true);
  });
  test.each([1, 5, 320, 641])("24 kHz, %i samples", async (n) => {
    const encoded = await m24.encode([noise(n, 5)], { bandwidthKbps: 1.5 });
    expect(encoded.frames).toHaveLength(1);
    expect(encoded.frames[0]!.numFrames).toBe(Math.ceil(n / 320));
    expect((await m24.decode(encoded))[0]!.length).toBe(n);
  });
  test("silence at 48 kHz has scale 1e-8 and decodes to finite audio", async () => {
    const encoded = await m48.encode([new Float32Array(1000), new Float32Array(1000)], { bandwidthKbps: 3 });
    expect(encoded.frames[0]!.scale).toBe(Math.fround(1e-8));
    expect((await m48.decode(encoded)).every((c) => c.every(Number.isFinite))).toBe(true);
  });
  test("encodeSegment/decodeSegment equal encode/decode for a single-segment model", async () => {
    const audio = [noise(3200, 9)];
    const seg: EncodedFrame = await m24.encodeSegment(audio, { bandwidthKbps: 6 });
    const all = await m24.encode(audio, { bandwidthKbps: 6 });
    expect(all.frames[0]!.codes).toEqual(seg.codes);
    expect((await m24.decode(all))[0]).toEqual((await m24.decodeSegment(seg))[0]!.subarray(0, 3200));
  });
});

describe("graph cache", () => {
  test("a second model with the same cache builds nothing and gives the same codes", async () => {
    const store = new Map<string, Uint8Array>();
    const cache: GraphCache = { read: async (k) => store.get(k), write: async (k, b) => void store.set(k, b) };
    const a = await EncodecModel.create({ config: f24.config, tensors: f24.tensors, runtime: ort, graphCache: cache, preloadBandwidthsKbps: [3] });
    expect(a.graphStats).toMatchObject({ built: 3, fromCache: 0 });
    expect([...store.keys()].map((k) => k.replace(/^encodec-[0-9a-f]{32}-/, "")).sort()).toEqual(["decode", "encoder", "quantizer-encode-4"]);
    const b = await EncodecModel.create({ config: f24.config, tensors: f24.tensors, runtime: ort, graphCache: cache, preloadBandwidthsKbps: [3] });
    expect(b.graphStats).toMatchObject({ built: 0, fromCache: 3 });
    const audio = [noise(2000, 11)];
    expect((await b.encode(audio, { bandwidthKbps: 3 })).frames[0]!.codes).toEqual((await a.encode(audio, { bandwidthKbps: 3 })).frames[0]!.codes);
    await a.release();
    await b.release();
  });
});
