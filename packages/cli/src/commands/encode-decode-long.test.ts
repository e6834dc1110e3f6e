import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeEcdc, writeEcdcWithLm, type EncodedAudio } from "@encstream/codec";
import wavefile from "wavefile";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../audio/wav-input.js";
import { WavFileWriter } from "../audio/wav-writer.js";
import type { DecodeOptions, EncodeOptions } from "../command-options.js";
import { resolveModel, type ResolvedModel } from "../model-loader.js";
import type { ModelRef } from "../model-ref.js";
import { captureIo } from "../../test/capture-io.js";
import { TINY24_DIR, TINY48_DIR } from "../../test/codec-fixtures.js";
import { makeTempDir, seededRandom } from "../../test/helpers.js";
import { runDecode } from "./decode.js";
import { runEncode } from "./encode.js";

// Long inputs through encode/decode, which stream everything (WAV pieces, codec blocks, .ecdc
// pieces): the files must equal, bit for bit, what the codec's in-memory encode/decode give.

const dir = await makeTempDir("encode-decode-long");
const cacheDir = join(dir, "cache");
const tiny24: ModelRef = { kind: "directory", path: TINY24_DIR };
const tiny48: ModelRef = { kind: "directory", path: TINY48_DIR };

/** A seeded float WAV at the model's format: gliding tones, noise bursts, silences. */
async function generatedWav(name: string, seconds: number, rateHz: number, channels: number, seed: number): Promise<string> {
  const random = seededRandom(seed);
  const n = Math.round(seconds * rateHz);
  const audio = Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(n);
    let phase = 0;
    for (let t = 0; t < n; t++) {
      const s = t / rateHz;
      phase += (2 * Math.PI * (200 + 150 * Math.sin(s / 4 + c))) / rateHz;
      out[t] = s % 13 > 12 ? 0 : 0.3 * Math.sin(phase) + (s % 5 < 0.4 ? (random() - 0.5) * 0.3 : 0) + (random() - 0.5) * 0.005;
    }
    return out;
  });
  const path = join(dir, name);
  const writer = await WavFileWriter.create(path, { sampleRateHz: rateHz, channels, sampleFormat: "f32" });
  await writer.write(audio);
  await writer.close();
  return path;
}

function encodeOptions(input: string, output: string, model: ModelRef, overrides: Partial<EncodeOptions> = {}): EncodeOptions {
  return { input, output, model, cacheDir, bandwidthKbps: 6, useLm: false, lmPath: undefined, ...overrides };
}

function decodeOptions(input: string, output: string, model: ModelRef): DecodeOptions {
  return { input, output, model, lmPath: undefined, sampleFormat: "f32", cacheDir };
}

/** Samples of a float WAV, read by wavefile (an independent reader). */
async function readFloatWav(path: string): Promise<Float32Array[]> {
  const wav = new wavefile.WaveFile(await readFile(path));
  const samples = wav.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
  return (wav.fmt as { numChannels: number }).numChannels === 1 ? [samples as Float32Array] : (samples as Float32Array[]);
}

function ecdcOf(encoded: EncodedAudio, modelName: string, lm: Awaited<ReturnType<ResolvedModel["loadLm"]>> | null): Uint8Array {
  const file = {
    modelName,
    audioLength: encoded.lengthSamples,
    numCodebooks: encoded.frames[0]!.numCodebooks,
    segments: encoded.frames.map((f) => ({ codes: f.codes, scale: f.scale })),
  };
  return lm === null ? writeEcdc({ ...file, useLm: false }) : writeEcdcWithLm(file, lm);
}

let model24: ResolvedModel;
let model48: ResolvedModel;
let wav24: string;
let wav48: string;
let inMemory24: EncodedAudio;
beforeAll(async () => {
  model24 = await resolveModel(tiny24, { cacheDir });
  model48 = await resolveModel(tiny48, { cacheDir });
  wav24 = await generatedWav("long-24k.wav", 60.003, 24_000, 1, 1);
  wav48 = await generatedWav("long-48k.wav", 12.5, 48_000, 2, 2);
  inMemory24 = await model24.model.encode((await readWavFile(wav24)).audio, { bandwidthKbps: 6 });
}, 60_000);
afterAll(async () => {
  await model24.release();
  await model48.release();
});

describe("encode/decode of long files equal the in-memory result bit for bit", () => {
  test("24 kHz, 60 s, no LM: the .ecdc is writeEcdc(model.encode(audio)); progress lines with speed and time left", async () => {
    const out = join(dir, "long-24k.ecdc");
    const { io, stderr } = captureIo();
    await runEncode(encodeOptions(wav24, out, tiny24), io);
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(ecdcOf(inMemory24, "encodec_24khz", null)))).toBe(true);
    expect(stderr()).toMatch(/^encode: 6\/60 s \(10 %\), [\d.]+× real time, \d+ s left$/m);
    expect(stderr()).toMatch(/^encode: 54\/60 s \(90 %\)/m);
  }, 30_000);

  test("24 kHz, 60 s, LM: the .ecdc is writeEcdcWithLm(model.encode(audio))", async () => {
    const out = join(dir, "long-24k-lm.ecdc");
    const { io, stderr } = captureIo();
    await runEncode(encodeOptions(wav24, out, tiny24, { useLm: true }), io);
    const expected = ecdcOf(inMemory24, "encodec_24khz", await model24.loadLm());
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(expected))).toBe(true);
    expect(stderr()).toMatch(/^encode \(LM\): 30\/60 s \(50 %\)/m);
  }, 30_000);

  test("24 kHz, 60 s: decode (plain and LM-coded) writes model.decode(codes)", async () => {
    const expected = await model24.model.decode(inMemory24);
    for (const name of ["long-24k.ecdc", "long-24k-lm.ecdc"]) {
      const wav = join(dir, `${name}.wav`);
      const { io, stderr } = captureIo();
      await runDecode(decodeOptions(join(dir, name), wav, tiny24), io);
      const written = await readFloatWav(wav);
      expect(written[0]!.length).toBe(expected[0]!.length);
      expect(written[0]!.every((v, i) => Object.is(v, expected[0]![i]))).toBe(true);
      expect(stderr()).toMatch(/^decode( \(LM\))?: \d+\/60 s \(\d+ %\), [\d.]+× real time, \d+ s left$/m);
    }
  }, 40_000);

  test("48 kHz stereo, 12.5 s: encode and decode equal model.encode/decode, segment by segment", async () => {
    const { audio } = await readWavFile(wav48);
    const encoded = await model48.model.encode(audio, { bandwidthKbps: 12 });
    const ecdc = join(dir, "long-48k.ecdc");
    await runEncode(encodeOptions(wav48, ecdc, tiny48, { bandwidthKbps: 12 }), captureIo().io);
    expect(Buffer.from(await readFile(ecdc)).equals(Buffer.from(ecdcOf(encoded, "encodec_48khz", null)))).toBe(true);
    const expected = await model48.model.decode(encoded);
    const wav = join(dir, "long-48k.wav");
    await runDecode(decodeOptions(ecdc, wav, tiny48), captureIo().io);
    const written = await readFloatWav(wav);
    expected.forEach((ch, c) => expect(written[c]!.every((v, i) => Object.is(v, ch[i]))).toBe(true));
  }, 30_000);
});
