import { join } from "node:path";
import type { EncodecModel, StreamingCodec } from "@encstream/codec";
import { loadEncodec } from "@encstream/codec/node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, loadStreaming, writeInputWav } from "./support/fixtures.js";
import { expectFromRelay, ImpairmentRelay, type Impairments } from "./support/impairment-relay.js";
import { decodeStream, encodeChunks, encodeStream, firstDifference, joinChunks } from "./support/reference.js";

/*
 * send → impairment relay (seeded: 20 % loss, 5 % reordering, 5 % duplication, up to 30 ms
 * jitter) → receive, as real processes on loopback. The receiver must not stall, must write
 * exactly the input's length, must decode every unit that arrived bit-identically (the whole
 * output equals the offline reference with the same units concealed), and its statistics must
 * agree with the relay's log.
 *
 * Which units the receiver concealed is read back from its output (chunked: a concealed chunk's
 * middle is exactly zero; stream: the first sample that differs from the reference points at
 * the first unit concealed that the relay did deliver), because a unit the relay delivered can
 * still come too late on a loaded machine; such units must then be the receiver's "late" ones.
 */

const IMPAIRMENTS: Impairments = { seed: 20_240_611, lossRate: 0.2, reorderRate: 0.05, duplicateRate: 0.05, maxJitterMs: 30 };

let dir: string;
let cache: string;
let input: string;
let model: EncodecModel;
let streaming: StreamingCodec;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-impaired");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_24K, 2, 1);
  model = await loadEncodec(TINY24_DIR, { cacheDir: cache });
  streaming = await loadStreaming(TINY24_DIR, cache);
});

afterAll(async () => {
  await cleanupCli();
  await Promise.all([model?.release(), streaming?.release()]);
});

/** receive ← relay ← send; returns the relay log, the receiver's summary and WAV. */
async function impairedRun(name: string, seed: number, sendArgs: string[], receiveArgs: string[]) {
  const output = join(dir, `${name}.wav`);
  const common = ["--model", TINY24_DIR, "--cache-dir", cache];
  const { receiver, port } = await startReceiver([...common, "--output", output, "--sample-format", "f32", "--stats", "--timeout", "10", ...receiveArgs]);
  const relay = await ImpairmentRelay.start(port, { ...IMPAIRMENTS, seed });
  try {
    const sender = await CliProcess.start(["send", ...common, "--input", input, "--port", String(relay.port), "--no-lm", ...sendArgs]);
    const [sendCode, receiveCode] = await Promise.all([sender.finish(30_000), receiver.finish(30_000)]);
    expect(sendCode, sender.stderr).toBe(0);
    expect(receiveCode, receiver.stderr).toBe(0);
    return { relay, wav: await readWavFile(output), summary: parseReceiveSummary(receiver.stderr), stderr: receiver.stderr };
  } finally {
    await relay.close();
  }
}

describe.concurrent("send → 20 % loss, reordering, duplication, jitter → receive", () => {
  test("--stream: exact length, arrived frames decode bit-identically, stats agree with the relay", async () => {
    const audio = (await readWavFile(input, { sampleRateHz: 24_000, channels: 1 })).audio;
    const length = audio[0]!.length;
    const frames = await encodeStream(streaming, audio, 12);
    const { relay, wav, summary } = await impairedRun("stream", 11, ["--stream", "--bandwidth", "12"], ["--stream", "--buffer-size", "6"]);
    const expected = expectFromRelay(relay.records, frames.length - 1);
    expect(expected.dropped).toBeGreaterThan(frames.length * 0.1); // the relay really impaired the stream
    expect(expected.reordered + expected.duplicated).toBeGreaterThan(0);

    expect(wav.audio[0]!.length).toBe(length);
    expect(summary.duplicates).toBe(expected.duplicates);
    expect(summary.datagrams).toBe(expected.forwarded);
    expect(summary.malformed).toBe(0);

    // Frames concealed: the lost ones, plus any that came too late (found where the output departs).
    const concealed = new Set(expected.lostSeqs);
    let reference = await decodeStream(streaming, frames, { length, concealed });
    for (let tries = 0; tries < 10; tries++) {
      const at = firstDifference(wav.audio, reference);
      if (at < 0) break;
      const frame = Math.floor(at / 320);
      expect(concealed.has(frame), `frame ${frame} differs but was concealed in the reference`).toBe(false);
      concealed.add(frame);
      reference = await decodeStream(streaming, frames, { length, concealed });
    }
    expect(firstDifference(wav.audio, reference)).toBe(-1);
    expect(summary.concealed).toBe(concealed.size);
    expect(summary.played).toBe(frames.length - concealed.size);
    // Every frame the relay dropped is lost; one it delivered but too late is late, unless it came
    // after the stream had ended (the receiver no longer knows the stream, so it stays lost): only
    // frames within the buffer's reach of the end can be so.
    const lateOnes = [...concealed].filter((frame) => !expected.lostSeqs.has(frame));
    const lostAfterEnd = (summary.lost ?? Number.NaN) - expected.lostSeqs.size; // no count: NaN, which fails below
    expect(lostAfterEnd).toBeGreaterThanOrEqual(0);
    expect(lostAfterEnd, `frames concealed though delivered: ${lateOnes.join(", ")}`).toBeLessThanOrEqual(lateOnes.filter((frame) => frame >= frames.length - 10).length);
    expect(summary.late).toBe(lateOnes.length - lostAfterEnd);
  });

  test("chunked (100 ms chunks in 2 datagrams each): exact length, arrived chunks bit-identical, stats agree", async () => {
    const audio = (await readWavFile(input, { sampleRateHz: 24_000, channels: 1 })).audio;
    const length = audio[0]!.length;
    const options = { chunkSamples: 2400, overlapRatio: 0.25, bandwidthKbps: 24 };
    const coded = await encodeChunks(model, audio, options);
    const { relay, wav, summary } = await impairedRun(
      "chunked",
      5,
      ["--bandwidth", "24", "--chunk-ms", "100", "--overlap", "25"],
      ["--overlap", "25", "--buffer-size", "3"],
    );
    const last = coded.chunks.length - 1;
    const expected = expectFromRelay(relay.records, last);
    expect(relay.records.filter((r) => r.seq === 0).length).toBeGreaterThanOrEqual(2); // chunks span two datagrams
    expect(expected.lostSeqs.size).toBeGreaterThan(0);

    expect(wav.audio[0]!.length).toBe(length);
    expect(summary.lost).toBe(expected.lostSeqs.size);
    expect(summary.duplicates).toBe(expected.duplicates);
    expect(summary.datagrams).toBe(expected.forwarded);

    // A concealed chunk leaves exact zeros between its crossfades; a decoded one never does.
    const n = 600;
    const hop = 1800;
    const concealed = new Set<number>();
    coded.chunks.forEach((chunk, k) => {
      const middle = wav.audio[0]!.subarray(k * hop + n, k * hop + chunk.samples[0]!.length - n);
      // (the last chunk may be too short to have a middle: the relay's log decides)
      if (middle.length > 0 ? middle.every((x) => x === 0) : expected.lostSeqs.has(k)) concealed.add(k);
    });
    for (const seq of expected.lostSeqs) expect(concealed.has(seq), `lost chunk ${seq} was not concealed`).toBe(true);
    const reference = joinChunks(1, coded, { ...options, length, concealed });
    expect(firstDifference(wav.audio, reference)).toBe(-1);
    expect(summary.concealed).toBe(concealed.size);
    expect(summary.late).toBe(concealed.size - expected.lostSeqs.size);
  });
});
