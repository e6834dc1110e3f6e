import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { StreamInput } from "../../src/audio/stream-input.js";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_48K, TINY24_DIR, writeInputWav } from "./support/fixtures.js";
import { firstDifference } from "./support/reference.js";

/*
 * Pipes as real processes: `send --input -` fed a WAV and a raw stream on stdin gives the
 * receiver exactly what `send --input file.wav` gives; `receive --output -` writes a streamable
 * WAV (or raw samples) on stdout whose samples are the file case's, of the exact length.
 */

let dir: string;
let cache: string;
let input: string;
/** The input's 16-bit interleaved samples (48 kHz stereo), what `--raw-format s16le:48000:2` reads. */
let rawInput: Uint8Array;
let wavBytes: Uint8Array;
const INPUT_S = 1.3;
const OUTPUT_SAMPLES = Math.round(INPUT_S * 24_000);

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-pipes");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_48K, INPUT_S, 0.5);
  wavBytes = new Uint8Array(await readFile(input));
  rawInput = wavBytes.subarray(44); // WavFileWriter's s16 header is 44 bytes
  expect(rawInput.length).toBe(Math.round(INPUT_S * 48_000) * 4);
});

afterAll(cleanupCli);

/** Streams `sendInput` (a path or `-` with `stdin`) into a receiver; returns the receiver and its output. */
async function stream(name: string, sendArgs: string[], stdin?: Uint8Array, receiveOutput: string[] = ["--output", join(dir, `${name}.wav`), "--sample-format", "f32"]) {
  const common = ["--model", TINY24_DIR, "--cache-dir", cache, "--stream"];
  const toStdout = receiveOutput.includes("-");
  const { receiver, port } = await startReceiver([...common, ...receiveOutput, "--stats", "--buffer-size", "64", "--timeout", "20"], {}, { binaryStdout: toStdout });
  const sender = await CliProcess.start(["send", ...common, "--no-lm", "--port", String(port), ...sendArgs], {}, stdin === undefined ? {} : { stdin });
  const [sendCode, receiveCode] = await Promise.all([sender.finish(), receiver.finish()]);
  expect(sendCode, sender.stderr).toBe(0);
  expect(receiveCode, receiver.stderr).toBe(0);
  expect(parseReceiveSummary(receiver.stderr)).toMatchObject({ concealed: 0, lost: 0 });
  return { sender, receiver, stdout: new Uint8Array(Buffer.concat(receiver.stdoutBytes)) };
}

describe("pipes", () => {
  let fileCase: Float32Array[];
  beforeAll(async () => {
    await stream("file", ["--input", input]);
    fileCase = (await readWavFile(join(dir, "file.wav"))).audio;
    expect(fileCase[0]!.length).toBe(OUTPUT_SAMPLES);
  }, 60_000);

  test("a WAV piped into send --input - arrives identical to the file case; receive --output - writes it as a streamable WAV of the exact length", async () => {
    const { sender, receiver, stdout } = await stream("stdin-wav", ["--input", "-"], wavBytes, ["--output", "-", "--sample-format", "f32"]);
    expect(sender.stderr).toMatch(/sending stdin \(WAV, 48000 Hz, 2 channel\(s\)\)/);
    // The summary line goes to stderr: stdout holds the audio only.
    expect(receiver.stderr).toMatch(/received 1\.30 s into stdout/);
    const view = new DataView(stdout.buffer, stdout.byteOffset, stdout.byteLength);
    expect(new TextDecoder().decode(stdout.subarray(0, 4))).toBe("RIFF");
    expect(view.getUint32(4, true)).toBe(0xffffffff); // sizes unknown while streaming
    expect(view.getUint16(20, true)).toBe(3); // IEEE float
    expect(view.getUint32(24, true)).toBe(24_000);
    expect(new TextDecoder().decode(stdout.subarray(50, 54))).toBe("data");
    expect(view.getUint32(54, true)).toBe(0xffffffff);
    expect(stdout.length - 58).toBe(OUTPUT_SAMPLES * 4);
    // Read back as a stream, as a pipe's reader would, in small pieces.
    const pieces = Array.from({ length: Math.ceil(stdout.length / 1000) }, (_, i) => stdout.subarray(i * 1000, (i + 1) * 1000));
    const reader = await StreamInput.open(Readable.from(pieces), { sampleRateHz: 24_000, channels: 1 });
    const parts: Float32Array[] = [];
    for (let piece = await reader.read(); piece !== null; piece = await reader.read()) parts.push(piece[0]!);
    const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (samples.set(p, at), at + p.length), 0);
    expect(samples.length).toBe(OUTPUT_SAMPLES);
    expect(firstDifference([samples], fileCase)).toBe(-1);
  }, 40_000);

  test("a raw s16le:48000:2 stream piped into send --input - arrives identical to the file case; receive --output - --raw-format f32le:24000:1 writes the bare samples", async () => {
    const { sender, stdout } = await stream("stdin-raw", ["--input", "-", "--raw-format", "s16le:48000:2"], rawInput, ["--output", "-", "--raw-format", "f32le:24000:1"]);
    expect(sender.stderr).toMatch(/sending stdin \(raw s16le:48000:2\)/);
    const fileBytes = new Uint8Array(await readFile(join(dir, "file.wav"))).subarray(58);
    expect(stdout.length).toBe(OUTPUT_SAMPLES * 4);
    expect(Buffer.from(stdout).equals(Buffer.from(fileBytes))).toBe(true);
  }, 40_000);
});
