import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { WavFileWriter } from "../../src/audio/wav-writer.js";
import { makeTempDir, sine } from "../helpers.js";
import { startHubServer, type HubServer } from "../hub-server.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, SPEECH_48K, TINY24_DIR, TINY48_DIR, writeInputWav } from "./support/fixtures.js";
import { firstDifference } from "./support/reference.js";

/*
 * The rough edges a new user hits (issue 14), each driven through the built `encstream` command
 * with real files, sockets and servers: help text, flag errors, `--buffer-size` durations, an
 * idle `--timeout`, the jitter figure of the summary, the 5.1 downmix, `pull` failures and
 * mirrors, and one multicast sender heard by three receivers.
 */

let dir: string;
let cache: string;
let input24: string;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-everyday");
  cache = join(dir, "cache");
  input24 = join(dir, "in24.wav");
  await writeInputWav(input24, SPEECH_24K, 1, 2);
});

afterAll(cleanupCli);

/** Runs `encstream <args>` to completion. */
async function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = await CliProcess.start(args, env);
  const code = await child.finish();
  return { code, stdout: child.stdout, stderr: child.stderr };
}

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe.concurrent("help and flag errors", () => {
  test("receive --help has no send-side flags, and gives --buffer-size as a duration", async () => {
    const { code, stdout: wrapped } = await run(["receive", "--help"]);
    const stdout = wrapped.replace(/\s+/g, " ");
    expect(code).toBe(0);
    for (const flag of ["--no-lm", "--bandwidth", "--mtu", "--input", "--ttl", "--chunk-ms"]) expect(stdout).not.toContain(flag);
    expect(stdout).toContain("--buffer-size <size> the jitter buffer's prefill, a duration (200ms, 1.5s; up to 60s, rounded up to whole units) or a count of units");
    expect(stdout).toContain('(default: 200ms)');
    expect(stdout).toMatch(/--group <address>/);
    expect(stdout).toContain("--port <port> UDP port to listen on, 0-65535");
  });

  test("send --help gives the ranges of its numeric flags", async () => {
    const { code, stdout: wrapped } = await run(["send", "--help"]);
    const stdout = wrapped.replace(/\s+/g, " ");
    expect(code).toBe(0);
    expect(stdout).toMatch(/--port <port>\s+receiver UDP port, 1-65535/);
    expect(stdout).toMatch(/--mtu <bytes>\s+largest datagram, 24-byte header included, 64-65507/);
    expect(stdout).toMatch(/--chunk-ms <ms>\s+chunk length of the chunked mode, 20-10000/);
    expect(stdout).toMatch(/--overlap <percent>\s+crossfade between chunks, 1-50 percent/);
    expect(stdout).toMatch(/--ttl <hops>\s+multicast time-to-live, 0-255/);
  });

  test("pull --help names ENCSTREAM_LM_URL and says where the language model comes from", async () => {
    const { code, stdout: wrapped } = await run(["pull", "--help"]);
    const stdout = wrapped.replace(/\s+/g, " ");
    expect(code).toBe(0);
    expect(stdout).toContain("ENCSTREAM_LM_URL");
    expect(stdout).toContain("from --base-url when given, else from $ENCSTREAM_LM_URL, else from https://dl.fbaipublicfiles.com/encodec/v0");
  });

  test.each([
    { args: ["send", "--inptu", "a.wav"], message: /^error: unknown option '--inptu'\n\(Did you mean --input\?\)/m },
    { args: ["--mode", "send", "--inptu", "a.wav"], message: /^error: unknown option '--inptu'/m },
    { args: ["send"], message: /^error: required option '-i, --input <file>' not specified/m },
    { args: ["receive", "--no-lm"], message: /^error: unknown option '--no-lm'/m },
    { args: ["receive", "--buffer-size", "2 parsecs"], message: /--buffer-size must be a duration from 1ms to 60s \(like 200ms or 1\.5s\) or a count of units/ },
  ])("$args: exit 2, the flag named", async ({ args, message }) => {
    const { code, stderr, stdout } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
  });
});

// One stream at a time: on a loaded machine a sender can take many seconds to load its model,
// and --timeout (generous here) only has to outlast that.
describe("receive", { timeout: 240_000 }, () => {
  test("--timeout with no packets at all: exit 1 with one line saying so, and no WAV left behind", async () => {
    const output = join(dir, "nothing.wav");
    const { receiver } = await startReceiver(["--model", TINY24_DIR, "--cache-dir", cache, "--output", output, "--timeout", "1"]);
    expect(await receiver.finish()).toBe(1);
    expect(receiver.stderr).toMatch(/^error: no packets on 127\.0\.0\.1:\d+ in 1 s \(--timeout\); .*nothing\.wav not written: is a sender running/m);
    expect(existsSync(output)).toBe(false);
  });

  test.each([
    { name: "24 kHz --stream: 15 frames of 13.3 ms", model: TINY24_DIR, source: SPEECH_24K, send: ["--stream"], receive: ["--stream"], buffer: "15 frames (200.0 ms) of 315" },
    { name: "24 kHz chunks: 2 hops of 187.5 ms", model: TINY24_DIR, source: SPEECH_24K, send: [], receive: [], buffer: "2 frames (375.0 ms) of 302" },
    { name: "48 kHz chunks: 1 hop of 750 ms", model: TINY48_DIR, source: SPEECH_48K, send: [], receive: [], buffer: "1 frames (750.0 ms) of 301" },
  ])("the default --buffer-size, 200 ms, in whole units of the stream: $name; the summary gives the jitter", async ({ model, source, send, receive, buffer }) => {
    const input = join(dir, `buffer-${model === TINY48_DIR ? 48 : 24}-${send.length}.wav`);
    // Long enough for the jitter estimate (two units at least).
    await writeInputWav(input, source, model === TINY48_DIR ? 2 : 1);
    const common = ["--model", model, "--cache-dir", cache];
    const output = `${input}.out.wav`;
    const { receiver, port } = await startReceiver([...common, ...receive, "--output", output, "--stats", "--timeout", "60"]);
    const sender = await CliProcess.start(["send", ...common, ...send, "--no-lm", "--input", input, "--port", String(port)]);
    expect(await sender.finish(90_000), sender.stderr).toBe(0);
    expect(await receiver.finish(90_000), receiver.stderr + sender.stderr + sender.stdout).toBe(0);
    expect(receiver.stderr).toContain("buffer 200 ms)");
    expect(receiver.stderr).toMatch(new RegExp(`jitter \\d+\\.\\d\\d ms, buffer ${buffer.replace(/[()]/g, "\\$&")}`));
    expect(parseReceiveSummary(receiver.stderr)).toMatchObject({ lost: 0 });
  });

  test("--buffer-size 1.5s on a --stream: 113 frames", async () => {
    const output = join(dir, "long-buffer.wav");
    const common = ["--model", TINY24_DIR, "--cache-dir", cache];
    const { receiver, port } = await startReceiver([...common, "--stream", "--buffer-size", "1.5s", "--output", output, "--stats", "--timeout", "60"]);
    const sender = await CliProcess.start(["send", ...common, "--stream", "--no-lm", "--input", input24, "--port", String(port)]);
    expect(await sender.finish(90_000), sender.stderr).toBe(0);
    expect(await receiver.finish(90_000), receiver.stderr).toBe(0);
    expect(receiver.stderr).toMatch(/buffer 113 frames \(1506\.7 ms\) of 413/);
    expect((await readWavFile(output)).audio[0]!.length).toBe(24_000);
  });
});

describe("multicast", { timeout: 240_000 }, () => {
  test("one sender to 239.255.77.14 on loopback, three receivers of the group: three identical WAVs, the input's length", async () => {
    const group = "239.255.77.14";
    const common = ["--model", TINY24_DIR, "--cache-dir", cache];
    const outputs = [0, 1, 2].map((i) => join(dir, `multicast-${i}.wav`));
    const receiveArgs = (i: number) => [...common, "--group", group, "--interface", "127.0.0.1", "--output", outputs[i]!, "--sample-format", "f32", "--stats", "--timeout", "60"];
    const first = await CliProcess.start(["receive", "--port", "0", ...receiveArgs(0)]);
    const port = Number((await first.waitForStderr(/listening on [^\s]*:(\d+), group 239\.255\.77\.14/))[1]);
    const others = await Promise.all([1, 2].map((i) => CliProcess.start(["receive", "--port", String(port), ...receiveArgs(i)])));
    await Promise.all(others.map((r) => r.waitForStderr(/listening on/)));
    const sender = await CliProcess.start(["send", ...common, "--input", input24, "--ip", group, "--port", String(port), "--ttl", "1", "--bind", "127.0.0.1", "--no-lm"]);
    expect(await sender.finish(90_000), sender.stderr).toBe(0);
    const receivers = [first, ...others];
    for (const r of receivers) expect(await r.finish(90_000), r.stderr).toBe(0);
    const wavs = await Promise.all(outputs.map((o) => readWavFile(o)));
    expect(wavs[0]!.audio[0]!.length).toBe(24_000);
    expect(firstDifference(wavs[1]!.audio, wavs[0]!.audio)).toBe(-1);
    expect(firstDifference(wavs[2]!.audio, wavs[0]!.audio)).toBe(-1);
    for (const r of receivers) expect(parseReceiveSummary(r.stderr)).toMatchObject({ lost: 0, concealed: 0 });
  });
});

describe.concurrent("5.1 input", () => {
  test("encode of a 5.1 WAV with centre and LFE equals the mono file of the centre at -3 dB over 1 + √2: the LFE left out, the centre on both sides", async () => {
    const frames = 24_000;
    const centre = sine(frames, 440, 24_000, 0.5);
    const lfe = sine(frames, 50, 24_000, 0.8);
    const silent = new Float32Array(frames);
    const surround = join(dir, "surround.wav");
    const mono = join(dir, "centre.wav");
    const writer = await WavFileWriter.create(surround, { sampleRateHz: 24_000, channels: 6, sampleFormat: "f32" });
    await writer.write([silent, silent, centre, lfe, silent, silent]);
    await writer.close();
    const gain = Math.SQRT1_2 / (1 + 2 * Math.SQRT1_2);
    const monoWriter = await WavFileWriter.create(mono, { sampleRateHz: 24_000, channels: 1, sampleFormat: "f32" });
    await monoWriter.write([centre.map((v) => v * gain)]);
    await monoWriter.close();
    const common = ["encode", "--model", TINY24_DIR, "--cache-dir", cache, "--no-lm", "--bandwidth", "6"];
    const [a, b] = await Promise.all([run([...common, surround, `${surround}.ecdc`]), run([...common, mono, `${mono}.ecdc`])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(Buffer.compare(await readFile(`${surround}.ecdc`), await readFile(`${mono}.ecdc`))).toBe(0);
  });
});

describe.concurrent("pull", () => {
  let hub: HubServer;
  beforeAll(async () => {
    const lm = await readFile(join(TINY24_DIR, "lm.th"));
    hub = await startHubServer({
      "/facebook/encodec_24khz/resolve/main/config.json": await readFile(join(TINY24_DIR, "config.json")),
      "/facebook/encodec_24khz/resolve/main/model.safetensors": await readFile(join(TINY24_DIR, "model.safetensors")),
      // The mirror serves the LM beside the model (its bytes do not have the published checksum).
      "/facebook/encodec_24khz/resolve/main/encodec_lm_24khz-1608e3c0.th": lm,
    });
  });
  afterAll(() => hub.close());

  test("a refused connection: the cause in the message, and no empty folders left in the cache", async () => {
    const port = await closedPort();
    const cacheDir = join(dir, "pull-refused");
    const { code, stderr } = await run(["pull", "24khz", "--base-url", `http://127.0.0.1:${port}`, "--cache-dir", cacheDir]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^error: pull facebook/encodec_24khz: http://127\\.0\\.0\\.1:${port}/facebook/encodec_24khz/resolve/main/config\\.json: request failed \\(fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`, "m"));
    expect(existsSync(cacheDir) ? await readdir(cacheDir, { recursive: true }) : []).toEqual([]);
  });

  test("--base-url: the language model comes from the mirror too, beside the model's files", async () => {
    const cacheDir = join(dir, "pull-mirror");
    const { code, stderr } = await run(["pull", "24khz", "--base-url", hub.baseUrl, "--cache-dir", cacheDir], { ENCSTREAM_LM_URL: "http://127.0.0.1:9/never" });
    // Fetched from the mirror, then refused: these bytes are not the published LM.
    expect(hub.requests).toContain("/facebook/encodec_24khz/resolve/main/encodec_lm_24khz-1608e3c0.th");
    expect(code).toBe(1);
    expect(stderr).toContain(`could not be downloaded from ${hub.baseUrl}/facebook/encodec_24khz/resolve/main/encodec_lm_24khz-1608e3c0.th`);
  });
});
