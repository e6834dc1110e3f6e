import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { WavFileWriter } from "../../src/audio/wav-writer.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR } from "./support/fixtures.js";

/*
 * `send --dtx` with real processes: a WAV of speech with a 2 s stretch of digital silence in the
 * middle, sent once with --dtx and once without. With --dtx the silence (after the 200 ms
 * hangover) goes as comfort noise units: fewer bytes on the wire, the same count on both sides'
 * stats, low noise in the output where the silence was, and the output exactly as long.
 */

const RATE = 24_000;
const SPEECH_S = 1.5;
const SILENCE_S = 2;

let dir: string;
let cache: string;
let input: string;
let inputLength: number;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-dtx");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  const speech = (await readWavFile(SPEECH_24K)).audio[0]!;
  const a = speech.subarray(RATE, RATE * (1 + SPEECH_S));
  const b = speech.subarray(RATE * 4, RATE * (4 + SPEECH_S));
  const audio = new Float32Array(a.length + RATE * SILENCE_S + b.length);
  audio.set(a, 0);
  audio.set(b, a.length + RATE * SILENCE_S);
  inputLength = audio.length;
  const writer = await WavFileWriter.create(input, { sampleRateHz: RATE, channels: 1 });
  await writer.write([audio]);
  await writer.close();
});

afterAll(async () => {
  await cleanupCli();
});

async function stream(name: string, sendArgs: string[]) {
  const output = join(dir, `${name}.wav`);
  const common = ["--model", TINY24_DIR, "--cache-dir", cache];
  const { receiver, port } = await startReceiver([...common, "--output", output, "--sample-format", "f32", "--stats", "--timeout", "30", "--buffer-size", "3s"]);
  const sender = await CliProcess.start(["send", ...common, "--input", input, "--port", String(port), "--stream", "--no-lm", "--bandwidth", "6", "--stats", ...sendArgs]);
  const [sendCode, receiveCode] = await Promise.all([sender.finish(), receiver.finish()]);
  expect(sendCode, sender.stderr).toBe(0);
  expect(receiveCode, receiver.stderr).toBe(0);
  const sent = sender.stderr.match(/summary: (\d+) frames, (\d+) datagrams, (\d+) bytes.* (\d+) comfort-noise/);
  expect(sent, sender.stderr).not.toBeNull();
  return { summary: parseReceiveSummary(receiver.stderr), sentBytes: Number(sent![3]), sentNoise: Number(sent![4]), audio: (await readWavFile(output)).audio[0]!, receiver: receiver.stderr };
}

function rmsDb(audio: Float32Array): number {
  return 10 * Math.log10(audio.reduce((n, x) => n + x * x, 0) / audio.length);
}

test("--dtx: silence goes as comfort noise units, counted on both sides, fewer bytes, exact length", async () => {
  const plain = await stream("plain", []);
  const dtx = await stream("dtx", ["--dtx"]);
  // 2 s of silence = 150 frames, those that hold only silence less the 200 ms hangover (15 frames)
  expect(dtx.sentNoise).toBeGreaterThanOrEqual(130);
  expect(dtx.sentNoise).toBeLessThanOrEqual(136);
  expect(dtx.summary["comfort-noise"], dtx.receiver.slice(dtx.receiver.lastIndexOf("summary"))).toBe(dtx.sentNoise);
  expect(plain.sentNoise).toBe(0);
  expect(plain.summary["comfort-noise"]).toBe(0);
  expect(dtx.summary).toMatchObject({ concealed: 0, lost: 0 });
  // a coded 6 kbps frame is 15 + 24 header bytes and more, a comfort noise one 12 + 24
  expect(dtx.sentBytes).toBeLessThan(plain.sentBytes - dtx.sentNoise * 3);
  console.log(`dtx: ${dtx.sentNoise} comfort-noise units, ${dtx.sentBytes} bytes sent vs ${plain.sentBytes} without --dtx`);
  expect(dtx.audio.length).toBe(inputLength);
  expect(plain.audio.length).toBe(inputLength);
  // the comfort noise stretch (past the hangover) is quiet: digital silence in, the noise floor out
  const quiet = dtx.audio.subarray(RATE * (SPEECH_S + 0.4), RATE * (SPEECH_S + SILENCE_S - 0.1));
  expect(rmsDb(quiet)).toBeLessThan(-100);
}, 60_000);
