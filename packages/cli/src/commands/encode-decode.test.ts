import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEcdcHeader, readEcdc, writeEcdc, type EncodecModel } from "@encstream/codec";
import wavefile from "wavefile";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../audio/wav-input.js";
import { WavFileWriter } from "../audio/wav-writer.js";
import type { DecodeOptions, EncodeOptions } from "../command-options.js";
import { isCliError } from "../errors.js";
import { resolveModel, type ResolvedModel } from "../model-loader.js";
import { MODEL_PRESETS, type ModelRef } from "../model-ref.js";
import { captureIo } from "../../test/capture-io.js";
import { TEST_24K_WAV, TEST_48K_WAV, TINY24_DIR, TINY48_DIR } from "../../test/codec-fixtures.js";
import { makeTempDir, maxAbsDiff, snrDb } from "../../test/helpers.js";
import { runDecode } from "./decode.js";
import { runEncode } from "./encode.js";

const dir = await makeTempDir("encode-decode");
const cacheDir = join(dir, "cache");
const tiny24: ModelRef = { kind: "directory", path: TINY24_DIR };
const tiny48: ModelRef = { kind: "directory", path: TINY48_DIR };

/** The first `seconds` of a WAV fixture, rewritten at another rate and channel count by wavefile. */
async function excerpt(source: string, seconds: number, name: string, rateHz: number, channels: number): Promise<string> {
  const wav = await readWavFile(source, { sampleRateHz: rateHz, channels });
  const path = join(dir, name);
  const writer = await WavFileWriter.create(path, { sampleRateHz: rateHz, channels, sampleFormat: "f32" });
  await writer.write(wav.audio.map((channel) => channel.slice(0, Math.round(seconds * rateHz))));
  await writer.close();
  return path;
}

function encodeOptions(input: string, output: string, overrides: Partial<EncodeOptions> = {}): EncodeOptions {
  return { input, output, model: tiny24, cacheDir, bandwidthKbps: 6, useLm: false, lmPath: undefined, ...overrides };
}

function decodeOptions(input: string, output: string, overrides: Partial<DecodeOptions> = {}): DecodeOptions {
  return { input, output, model: tiny24, lmPath: undefined, sampleFormat: "f32", cacheDir, ...overrides };
}

/** Samples of a float WAV as planar Float32Arrays, read by wavefile (an independent reader). */
async function readFloatWav(path: string): Promise<{ rateHz: number; audio: Float32Array[] }> {
  const wav = new wavefile.WaveFile(await readFile(path));
  const samples = wav.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  return { rateHz: fmt.sampleRate, audio: fmt.numChannels === 1 ? [samples as Float32Array] : (samples as Float32Array[]) };
}

let model24: ResolvedModel;
let model48: ResolvedModel;
let input24: string; // 44.1 kHz stereo, 3 s: resampled and mixed to 24 kHz mono by encode
let input48: string; // 32 kHz mono, 2.5 s: resampled and upmixed to 48 kHz stereo
beforeAll(async () => {
  model24 = await resolveModel(tiny24, { cacheDir });
  model48 = await resolveModel(tiny48, { cacheDir });
  input24 = await excerpt(TEST_24K_WAV, 3, "speech-44k1-stereo.wav", 44_100, 2);
  input48 = await excerpt(TEST_48K_WAV, 2.5, "music-32k-mono.wav", 32_000, 1);
});
afterAll(async () => {
  await model24.release();
  await model48.release();
});

/** What the codec itself gives for `input`: model.encode then model.decode at the model's format. */
async function offline(model: EncodecModel, input: string, bandwidthKbps: number) {
  const { audio } = await readWavFile(input, { sampleRateHz: model.sampleRateHz, channels: model.channels });
  const encoded = await model.encode(audio, { bandwidthKbps });
  return { encoded, decoded: await model.decode(encoded) };
}

describe("encode then decode", () => {
  test.each([
    { name: "24 kHz", model: () => model24, ref: tiny24, input: () => input24, ecdcName: "encodec_24khz" },
    { name: "48 kHz", model: () => model48, ref: tiny48, input: () => input48, ecdcName: "encodec_48khz" },
  ])("$name without LM: the .ecdc holds the codec's codes and decodes to its offline output", async ({ model, ref, input, ecdcName }) => {
    const ecdc = join(dir, `${ecdcName}-nolm.ecdc`);
    const out = join(dir, `${ecdcName}-nolm.wav`);
    const { io, stdout } = captureIo();
    const encodeResult = await runEncode(encodeOptions(input(), ecdc, { model: ref }), io);
    expect(stdout()).toContain(`wrote ${ecdc}`);
    expect(encodeResult.useLm).toBe(false);

    const reference = await offline(model().model, input(), 6);
    const bytes = new Uint8Array(await readFile(ecdc));
    const expected = writeEcdc({
      modelName: ecdcName,
      audioLength: reference.encoded.lengthSamples,
      numCodebooks: reference.encoded.frames[0]!.numCodebooks,
      useLm: false,
      segments: reference.encoded.frames.map((f) => ({ codes: f.codes, scale: f.scale })),
    });
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);

    const decodeResult = await runDecode(decodeOptions(ecdc, out, { model: ref }), captureIo().io);
    expect(decodeResult).toMatchObject({ modelName: ecdcName, audioLength: reference.encoded.lengthSamples, useLm: false });
    const written = await readFloatWav(out);
    expect(written.rateHz).toBe(model().model.sampleRateHz);
    expect(written.audio.length).toBe(model().model.channels);
    written.audio.forEach((channel, c) => {
      expect(channel.length).toBe(reference.decoded[c]!.length);
      expect(maxAbsDiff(channel, reference.decoded[c]!)).toBe(0);
    });
  });

  test("with the LM: an lm: true file that decodes to the same audio as the packed one", async () => {
    const withLm = join(dir, "lm.ecdc");
    const withoutLm = join(dir, "nolm.ecdc");
    await runEncode(encodeOptions(input24, withLm, { useLm: true }), captureIo().io);
    await runEncode(encodeOptions(input24, withoutLm), captureIo().io);
    const lmBytes = new Uint8Array(await readFile(withLm));
    expect(parseEcdcHeader(lmBytes).metadata).toMatchObject({ modelName: "encodec_24khz", useLm: true, numCodebooks: 8 });
    await runDecode(decodeOptions(withLm, join(dir, "lm.wav")), captureIo().io);
    await runDecode(decodeOptions(withoutLm, join(dir, "nolm.wav")), captureIo().io);
    const a = await readFloatWav(join(dir, "lm.wav"));
    const b = await readFloatWav(join(dir, "nolm.wav"));
    expect(maxAbsDiff(a.audio[0]!, b.audio[0]!)).toBe(0);
  });

  test("s16 output is the f32 output rounded to 16 bits", async () => {
    const ecdc = join(dir, "s16.ecdc");
    await runEncode(encodeOptions(input24, ecdc), captureIo().io);
    await runDecode(decodeOptions(ecdc, join(dir, "s16.wav"), { sampleFormat: "s16" }), captureIo().io);
    await runDecode(decodeOptions(ecdc, join(dir, "f32.wav")), captureIo().io);
    const s16 = new wavefile.WaveFile(await readFile(join(dir, "s16.wav")));
    expect((s16.fmt as { bitsPerSample: number }).bitsPerSample).toBe(16);
    const ints = s16.getSamples(false, Float64Array) as unknown as Float64Array;
    const floats = (await readFloatWav(join(dir, "f32.wav"))).audio[0]!;
    expect(ints.length).toBe(floats.length);
    let worst = 0;
    for (let i = 0; i < ints.length; i++) worst = Math.max(worst, Math.abs(ints[i]! - Math.max(-32768, Math.min(32767, Math.round(floats[i]! * 32768)))));
    expect(worst).toBe(0);
  });
});

test("--precision int8: encode writes the int8 model's codes, decode with int8 is close to float32's decoding of them", async () => {
  const ecdc = join(dir, "int8.ecdc");
  const out8 = join(dir, "int8-decoded-int8.wav");
  const out32 = join(dir, "int8-decoded-f32.wav");
  await runEncode(encodeOptions(input24, ecdc, { precision: "int8" }), captureIo().io);
  const int8 = await resolveModel(tiny24, { cacheDir, loadOptions: { precision: "int8" } });
  try {
    const { audio } = await readWavFile(input24, { sampleRateHz: 24_000, channels: 1 });
    const want = await int8.model.encode(audio, { bandwidthKbps: 6 });
    const float32 = await model24.model.encode(audio, { bandwidthKbps: 6 });
    const got = readEcdc(new Uint8Array(await readFile(ecdc)), ecdc);
    expect(Buffer.from(got.segments[0]!.codes.buffer).equals(Buffer.from(want.frames[0]!.codes.buffer))).toBe(true);
    expect(Buffer.from(got.segments[0]!.codes.buffer).equals(Buffer.from(float32.frames[0]!.codes.buffer))).toBe(false);
  } finally {
    await int8.release();
  }
  await runDecode(decodeOptions(ecdc, out8, { precision: "int8" }), captureIo().io);
  await runDecode(decodeOptions(ecdc, out32), captureIo().io);
  const [a8, a32] = [(await readFloatWav(out8)).audio[0]!, (await readFloatWav(out32)).audio[0]!];
  expect(a8.length).toBe(a32.length);
  const snr = snrDb(a32, a8);
  expect(snr).toBeGreaterThan(25); // measured 40 dB on this model (codec README); a broken graph is below 0 dB
  expect(snr).toBeLessThan(120); // and it really ran the int8 graphs
});

describe("decode of the reference files", () => {
  test.each([
    { name: "tiny24", ref: tiny24, model: () => model24, fixture: TINY24_DIR },
    { name: "tiny48", ref: tiny48, model: () => model48, fixture: TINY48_DIR },
  ])("$name bw6_nolm.ecdc (written by encodec.compress) decodes to EncodecModel.decode of its codes", async ({ name, ref, model, fixture }) => {
    const path = join(fixture, "bw6_nolm.ecdc");
    const file = readEcdc(new Uint8Array(await readFile(path)));
    const { model: m } = model();
    const expected = await m.decode({
      frames: file.segments.map((s) => ({ codes: s.codes as Uint16Array, numCodebooks: file.numCodebooks, numFrames: s.codes.length / file.numCodebooks, scale: s.scale })),
      lengthSamples: file.audioLength,
      bandwidthKbps: 6,
      sampleRateHz: m.sampleRateHz,
      channels: m.channels,
    });
    const out = join(dir, `${name}-reference.wav`);
    await runDecode(decodeOptions(path, out, { model: ref }), captureIo().io);
    const written = await readFloatWav(out);
    expect(written.audio.length).toBe(m.channels);
    written.audio.forEach((channel, c) => {
      expect(channel.length).toBe(file.audioLength);
      expect(maxAbsDiff(channel, expected[c]!)).toBe(0);
    });
  });
});

describe("errors", () => {
  test("a non-WAV input names the file, leaves OUT as it was and no temporary file behind", async () => {
    const work = join(dir, "bad-input");
    await mkdir(work);
    const text = join(work, "notes.wav");
    await writeFile(text, "this is not audio\n");
    const out = join(work, "out.ecdc");
    await writeFile(out, "previous content");
    const error = await runEncode(encodeOptions(text, out), captureIo().io).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("not-wav");
    expect((error as Error).message).toContain(text);
    expect(await readFile(out, "utf8")).toBe("previous content");
    expect((await readdir(work)).sort()).toEqual(["notes.wav", "out.ecdc"]);
  });

  test("a truncated WAV is truncated, naming the file", async () => {
    const bytes = await readFile(input24);
    const cut = join(dir, "cut.wav");
    await writeFile(cut, bytes.subarray(0, 40));
    const error = await runEncode(encodeOptions(cut, join(dir, "cut.ecdc")), captureIo().io).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("truncated");
    expect((error as Error).message).toContain(cut);
  });

  test.each([
    { name: "text.ecdc", bytes: () => Buffer.from("not an ecdc file at all"), code: "bad-ecdc" },
    { name: "cut.ecdc", bytes: async () => (await readFile(join(TINY24_DIR, "bw6_nolm.ecdc"))).subarray(0, 600), code: "bad-ecdc" },
    { name: "header.ecdc", bytes: async () => (await readFile(join(TINY24_DIR, "bw6_nolm.ecdc"))).subarray(0, 20), code: "bad-ecdc" },
  ])("decoding $name is $code naming the file; OUT is not created", async ({ name, bytes, code }) => {
    const path = join(dir, name);
    await writeFile(path, await bytes());
    const out = join(dir, `${name}.wav`);
    const error = await runDecode(decodeOptions(path, out), captureIo().io).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe(code);
    expect((error as Error).message).toContain(path);
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("a missing input is an io error naming it", async () => {
    const missing = join(dir, "absent.ecdc");
    await expect(runDecode(decodeOptions(missing, join(dir, "x.wav")), captureIo().io)).rejects.toMatchObject({
      code: "io",
      message: `${missing}: cannot open (no such file or directory)`,
    });
  });

  test("a file of another model is model-mismatch", async () => {
    const error = await runDecode(decodeOptions(join(TINY24_DIR, "bw6_nolm.ecdc"), join(dir, "mismatch.wav"), { model: tiny48 }), captureIo().io).catch(
      (e: unknown) => e,
    );
    expect(isCliError(error) && error.code).toBe("model-mismatch");
    expect((error as Error).message).toMatch(/encoded with encodec_24khz, but the model loaded is encodec_48khz/);
  });

  test("a preset --model that differs from the file's is model-mismatch before any model is loaded", async () => {
    const error = await runDecode(
      decodeOptions(join(TINY24_DIR, "bw6_nolm.ecdc"), join(dir, "preset-mismatch.wav"), { model: { kind: "preset", preset: MODEL_PRESETS["48khz"] } }),
      captureIo().io,
    ).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("model-mismatch");
    expect((error as Error).message).toContain("was encoded with encodec_24khz, but --model is facebook/encodec_48khz");
  });

  test("without --model the file's model is taken from the cache, and its absence says how to pull it", async () => {
    const error = await runDecode(decodeOptions(join(TINY24_DIR, "bw6_nolm.ecdc"), join(dir, "nomodel.wav"), { model: undefined }), captureIo().io).catch(
      (e: unknown) => e,
    );
    expect(isCliError(error) && error.code).toBe("model-not-found");
    expect((error as Error).message).toContain(`encstream pull ${MODEL_PRESETS["24khz"].repoId} --cache-dir ${cacheDir}`);
  });

  test("the LM asked for with none beside the model: lm-unavailable, saying --lm or --no-lm; an LM file without one likewise", async () => {
    const bare = join(dir, "bare-model");
    await mkdir(bare);
    await cp(join(TINY24_DIR, "config.json"), join(bare, "config.json"));
    await cp(join(TINY24_DIR, "model.safetensors"), join(bare, "model.safetensors"));
    const ref: ModelRef = { kind: "directory", path: bare };
    const error = await runEncode(encodeOptions(input24, join(dir, "bare.ecdc"), { model: ref, useLm: true }), captureIo().io).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("lm-unavailable");
    expect((error as Error).message).toMatch(/--lm PATH, or use --no-lm/);

    const lmFile = join(dir, "for-bare.ecdc");
    await runEncode(encodeOptions(input24, lmFile, { useLm: true }), captureIo().io);
    const decodeError = await runDecode(decodeOptions(lmFile, join(dir, "bare.wav"), { model: ref }), captureIo().io).catch((e: unknown) => e);
    expect(isCliError(decodeError) && decodeError.code).toBe("lm-unavailable");
  });

  test("a bandwidth the model lacks is a usage error listing the ones it has", async () => {
    const error = await runEncode(encodeOptions(input48, join(dir, "bw.ecdc"), { model: tiny48, bandwidthKbps: 1.5 }), captureIo().io).catch(
      (e: unknown) => e,
    );
    expect(isCliError(error) && error.code).toBe("usage");
    expect((error as Error).message).toBe("--bandwidth 1.5: this model supports 3, 6, 12, 24 kbps");
  });
});
