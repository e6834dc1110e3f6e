import { join } from "node:path";
import { loadEncodec } from "@encstream/codec/node";
import type { EncodecModel, StreamingCodec } from "@encstream/codec";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, SPEECH_48K, TINY24_DIR, TINY48_DIR, loadStreaming, writeInputWav } from "./support/fixtures.js";
import { decodeStream, encodeChunks, encodeStream, firstDifference, joinChunks } from "./support/reference.js";

/*
 * `encstream send` → loopback UDP → `encstream receive --output`, as two real processes, without
 * loss: the received WAV (f32) is bit-identical to the same chunk → encode → decode → overlap-add
 * done offline (chunked), or to the streaming decode of the same frames (--stream), and exactly as
 * long as the input, and the receiver exits by itself at the end of the stream.
 */

let dir: string;
let cache: string;
let model24: EncodecModel;
let model48: EncodecModel;
let streaming24: StreamingCodec;
let input24: string;
let input48: string;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e");
  cache = join(dir, "cache");
  input24 = join(dir, "in24.wav"); // 48 kHz stereo speech: the 24 kHz sender resamples and downmixes it
  input48 = join(dir, "in48.wav");
  await writeInputWav(input24, SPEECH_48K, 1.3, 0.5);
  await writeInputWav(input48, SPEECH_48K, 1.6, 2);
  model24 = await loadEncodec(TINY24_DIR, { cacheDir: cache });
  model48 = await loadEncodec(TINY48_DIR, { cacheDir: cache });
  streaming24 = await loadStreaming(TINY24_DIR, cache);
});

afterAll(async () => {
  await cleanupCli();
  await Promise.all([model24?.release(), model48?.release(), streaming24?.release()]);
});

/** Runs a receiver and a sender to completion; returns the receiver's stderr and the WAV it wrote. */
async function stream(name: string, model: string, input: string, sendArgs: string[], receiveArgs: string[] = []) {
  const output = join(dir, `${name}.wav`);
  const common = ["--model", model, "--cache-dir", cache];
  const { receiver, port } = await startReceiver([...common, "--output", output, "--sample-format", "f32", "--stats", "--timeout", "15", ...receiveArgs]);
  const sender = await CliProcess.start(["send", ...common, "--input", input, "--port", String(port), ...sendArgs]);
  const [sendCode, receiveCode] = await Promise.all([sender.finish(), receiver.finish()]);
  expect(sendCode, sender.stderr).toBe(0);
  expect(receiveCode, receiver.stderr).toBe(0);
  return { receiver, sender, wav: await readWavFile(output), summary: parseReceiveSummary(receiver.stderr) };
}

describe.concurrent("send → receive over loopback, no loss", () => {
  test("24 kHz chunked: bit-identical to the offline chunk/encode/decode/overlap-add, input length, no concealment", async () => {
    const { wav, summary, receiver } = await stream("chunked24", TINY24_DIR, input24, ["--no-lm", "--bandwidth", "6", "--overlap", "25"], ["--buffer-size", "2"]);
    const audio = (await readWavFile(input24, { sampleRateHz: 24_000, channels: 1 })).audio;
    const options = { chunkSamples: 6000, overlapRatio: 0.25, bandwidthKbps: 6 };
    const reference = joinChunks(1, await encodeChunks(model24, audio, options), { ...options, length: audio[0]!.length });
    expect(wav.sampleRateHz).toBe(24_000);
    expect(wav.audio[0]!.length).toBe(audio[0]!.length);
    expect(firstDifference(wav.audio, reference)).toBe(-1);
    expect(summary).toMatchObject({ concealed: 0, lost: 0, late: 0, malformed: 0, samples: audio[0]!.length });
    expect(summary.duplicates! % 3).toBe(0); // the end-of-stream repeats
    expect(receiver.stderr).toMatch(/chunked, 6000 samples a chunk, hop 4500/);
  });

  test("24 kHz --stream: bit-identical to the frame-by-frame streaming decode of the same frames", async () => {
    const { wav, summary } = await stream("stream24", TINY24_DIR, input24, ["--stream", "--no-lm", "--bandwidth", "12"], ["--stream", "--buffer-size", "16"]);
    const audio = (await readWavFile(input24, { sampleRateHz: 24_000, channels: 1 })).audio;
    const frames = await encodeStream(streaming24, audio, 12);
    const reference = await decodeStream(streaming24, frames, { length: audio[0]!.length });
    expect(wav.audio[0]!.length).toBe(audio[0]!.length);
    expect(firstDifference(wav.audio, reference)).toBe(-1);
    expect(summary).toMatchObject({ played: frames.length, concealed: 0, lost: 0, malformed: 0 });
  });

  test("24 kHz --stream with the model on the main thread (--no-workers on both sides): the same bit-identical output", async () => {
    const { wav, summary } = await stream("stream24-main", TINY24_DIR, input24, ["--stream", "--no-lm", "--bandwidth", "12", "--no-workers"], ["--stream", "--buffer-size", "16", "--no-workers"]);
    const audio = (await readWavFile(input24, { sampleRateHz: 24_000, channels: 1 })).audio;
    const reference = await decodeStream(streaming24, await encodeStream(streaming24, audio, 12), { length: audio[0]!.length });
    expect(firstDifference(wav.audio, reference)).toBe(-1);
    expect(summary).toMatchObject({ concealed: 0, lost: 0, malformed: 0 });
  });

  test("48 kHz stereo chunked (1 s chunks, scale per chunk): bit-identical, input length", async () => {
    const { wav, summary } = await stream("chunked48", TINY48_DIR, input48, ["--no-lm", "--bandwidth", "12", "--overlap", "10"], ["--overlap", "10", "--buffer-size", "1"]);
    const audio = (await readWavFile(input48, { sampleRateHz: 48_000, channels: 2 })).audio;
    const options = { chunkSamples: 48_000, overlapRatio: 0.1, bandwidthKbps: 12 };
    const reference = joinChunks(2, await encodeChunks(model48, audio, options), { ...options, length: audio[0]!.length });
    expect(wav.audio.length).toBe(2);
    expect(wav.audio[0]!.length).toBe(audio[0]!.length);
    expect(firstDifference(wav.audio, reference)).toBe(-1);
    expect(summary).toMatchObject({ concealed: 0, lost: 0 });
  });

  test("LM-coded --stream (--lm: the tiny model's own LM, found beside it): the same audio as without LM", async () => {
    const { wav, sender, receiver } = await stream("stream24lm", TINY24_DIR, input24, ["--stream", "--lm", "--bandwidth", "6"], ["--stream"]);
    const audio = (await readWavFile(input24, { sampleRateHz: 24_000, channels: 1 })).audio;
    const reference = await decodeStream(streaming24, await encodeStream(streaming24, audio, 6), { length: audio[0]!.length });
    expect(sender.stderr).toMatch(/LM-coded/);
    expect(receiver.stderr).toMatch(/LM-coded/);
    expect(firstDifference(wav.audio, reference)).toBe(-1);
  });
});
