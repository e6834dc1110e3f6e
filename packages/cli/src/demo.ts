/**
 * `pnpm demo`: sends a bundled speech sample over loopback UDP to a receiver started in the same
 * process, writes what was received to `demo-out/received.wav` and prints the figures. It uses
 * the real EnCodec 24 kHz model when `encstream pull facebook/encodec_24khz` has put it in the
 * cache, else the tiny model of the codec's test fixtures (random weights: the pipeline is real,
 * the sound is not meaningful).
 *
 * Usage: node packages/cli/dist/demo.js [--out DIR] [--seconds S] [--stream]
 * (the audio is sent at real time, so it takes about S seconds; S is at most 20, default 5).
 */
import { existsSync } from "node:fs";
import { access, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readWavFile } from "./audio/wav-input.js";
import { WavFileWriter } from "./audio/wav-writer.js";
import { runReceive } from "./commands/receive.js";
import { runSend } from "./commands/send.js";
import type { ReceiveOptions, SendOptions, StreamingOptions } from "./command-options.js";
import { DEFAULT_BUFFER_MS, DEFAULT_MULTICAST_TTL } from "./constants.js";
import { isCliError } from "./errors.js";
import { processIo, type CommandIo } from "./internal/command-io.js";
import { cachedModelDir, LM_FILE_NAMES } from "./model-loader.js";
import { MODEL_PRESETS, type ModelRef } from "./model-ref.js";

/** Longest excerpt of the bundled sample (it is 20 s long), seconds. */
const MAX_DEMO_SECONDS = 20;
const REAL_MODEL = MODEL_PRESETS["24khz"];

/**
 * The codec package's test fixtures (the sample and the tiny model), found by walking up from
 * this file: they ship with the repository, not with the npm package.
 */
function findFixtures(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 6; level++) {
    for (const candidate of [join(dir, "codec", "test", "fixtures"), join(dir, "packages", "codec", "test", "fixtures")]) {
      if (existsSync(join(candidate, "tiny24", "config.json"))) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error("the demo's sample and tiny model are in the encstream repository (packages/codec/test/fixtures); run it from a checkout");
}

/** Which model the demo runs on, and whether it has a language model. */
interface DemoModel {
  readonly ref: ModelRef;
  readonly description: string;
  readonly useLm: boolean;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The real model from the cache when it is there; otherwise the bundled tiny one, said plainly. */
async function chooseModel(tinyModelDir: string, log: (line: string) => void): Promise<DemoModel> {
  const cached = cachedModelDir(REAL_MODEL.repoId);
  if (await exists(join(cached, "model.safetensors"))) {
    const names = await readdir(cached);
    const useLm = names.some((n) => LM_FILE_NAMES.includes(n) || /^encodec_lm_.*\.th$/.test(n));
    return { ref: { kind: "preset", preset: REAL_MODEL }, description: `${REAL_MODEL.repoId} (from ${cached})`, useLm };
  }
  log(`No real EnCodec model in the cache (${cached}).`);
  log(`Get it with:  encstream pull ${REAL_MODEL.repoId}   (or: node packages/cli/dist/bin.js pull ${REAL_MODEL.repoId})`);
  log("Running on the bundled tiny test model instead. Its weights are random, so the received");
  log("sound is NOT meaningful: this run shows the pipeline (encode, packets, UDP, jitter buffer,");
  log("decode, WAV) working end to end, not EnCodec's quality.");
  log("");
  return { ref: { kind: "directory", path: tinyModelDir }, description: "the bundled tiny test model (random weights)", useLm: true };
}

/** Writes the first `seconds` of the bundled sample to `path` (16-bit, 24 kHz mono). */
async function writeExcerpt(sampleWav: string, path: string, seconds: number): Promise<void> {
  const sample = await readWavFile(sampleWav);
  const writer = await WavFileWriter.create(path, { sampleRateHz: sample.sampleRateHz, channels: sample.audio.length });
  try {
    await writer.write(sample.audio.map((channel) => channel.slice(0, Math.round(seconds * sample.sampleRateHz))));
  } finally {
    await writer.close();
  }
}

/**
 * Runs the demo: the sender and the receiver of one process talking over 127.0.0.1. Resolves
 * with the received WAV's path.
 */
async function runDemo(options: { outDir: string; seconds: number; stream: boolean }, io: CommandIo = processIo()): Promise<string> {
  const log = (line: string): void => void io.stdout.write(`${line}\n`);
  log("encstream demo: a speech sample, encoded with EnCodec, sent over loopback UDP and received.");
  log("");
  const fixtures = findFixtures();
  const sampleWav = join(fixtures, "audio", "test_24k.wav");
  const model = await chooseModel(join(fixtures, "tiny24"), log);
  await mkdir(options.outDir, { recursive: true });
  // The output folder ignores itself, so a demo run in a checkout leaves git status clean.
  await writeFile(join(options.outDir, ".gitignore"), "*\n");
  const input = join(options.outDir, "input.wav");
  const output = join(options.outDir, "received.wav");
  await writeExcerpt(sampleWav, input, options.seconds);

  const coding: StreamingOptions = {
    model: model.ref,
    cacheDir: undefined,
    keyFile: undefined,
    framing: options.stream ? "stream" : "chunked",
    overlapRatio: 0.25,
    stats: true,
    workers: true,
  };
  log(`model:     ${model.description}`);
  // as `send`: LM coding for chunks, packed codes for --stream (see the README's "LM coding and loss")
  const useLm = model.useLm && !options.stream;
  log(`coding:    6 kbps, ${useLm ? "language-model entropy coding" : "packed codes (no language model)"}, ${options.stream ? "frame-exact streaming" : "250 ms chunks with a 25 % crossfade"}`);
  const shown = relative(process.cwd(), sampleWav);
  log(`sending:   ${options.seconds} s of ${shown.startsWith("..") ? sampleWav : shown} at real time, datagrams of at most 220 bytes`);
  log("");

  const receiveOptions: ReceiveOptions = {
    ...coding,
    lmPath: undefined,
    port: 0,
    bind: "127.0.0.1",
    group: undefined,
    interface: undefined,
    bufferSize: { unit: "ms", ms: DEFAULT_BUFFER_MS },
    output,
    play: false,
    streamIdleS: 3,
    allowFrom: undefined,
    sampleFormat: "s16",
    idleTimeoutS: 10,
  };
  let listening!: (port: number) => void;
  const port = new Promise<number>((done) => (listening = done));
  const received = runReceive(receiveOptions, io, { onListening: (_address, p) => listening(p) });
  // A receiver that fails before listening must not leave the sender waiting.
  const receiverFailed = received.then(
    () => Promise.reject(new Error("the receiver stopped before listening")),
    (error: unknown) => Promise.reject(error),
  );
  const sendOptions: SendOptions = {
    ...coding,
    bandwidthKbps: 6,
    useLm,
    lmPath: undefined,
    input,
    ip: "127.0.0.1",
    ttl: DEFAULT_MULTICAST_TTL,
    port: await Promise.race([port, receiverFailed]),
    bind: undefined,
    mtuBytes: 220,
    chunkMs: undefined,
  };
  const sent = await runSend(sendOptions, io);
  const result = await received;

  log("");
  log(`sent:      ${sent.durationS.toFixed(2)} s as ${sent.units} ${options.stream ? "frames" : "chunks"} in ${sent.datagrams} datagrams, ${sent.bytes} bytes with headers`);
  log(`received:  ${result.durationS.toFixed(2)} s, ${result.stats.played} played, ${result.stats.lost} lost, ${result.stats.late} late, ${result.stats.malformed} malformed`);
  log(`input:     ${resolve(input)}`);
  log(`output:    ${resolve(output)}`);
  return output;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { out: { type: "string" }, seconds: { type: "string" }, stream: { type: "boolean" } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\nusage: demo [--out DIR] [--seconds S] [--stream]\n`);
    return 2;
  }
  const seconds = values.seconds === undefined ? 5 : Number(values.seconds);
  if (!(seconds >= 1 && seconds <= MAX_DEMO_SECONDS)) {
    process.stderr.write(`demo: --seconds must be a number from 1 to ${MAX_DEMO_SECONDS}\n`);
    return 2;
  }
  try {
    await runDemo({ outDir: resolve(values.out ?? "demo-out"), seconds, stream: values.stream === true });
    return 0;
  } catch (error) {
    process.stderr.write(`demo: ${isCliError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
