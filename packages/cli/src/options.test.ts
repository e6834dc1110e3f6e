import { parseWebAddress } from "./web/web-address.js";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { CliError } from "./errors.js";
import { MODEL_PRESETS } from "./model-ref.js";
import type { CommandHandlers, CommandName, ParsedCommandLine } from "./command-options.js";
import { buildProgram, parseCommandLine, runCommandLine } from "./options.js";
import { makeTempDir } from "../test/helpers.js";

let dir: string;
let modelDir: string;
beforeAll(async () => {
  dir = await makeTempDir("options");
  modelDir = join(dir, "my-model");
  await mkdir(modelDir);
});

const preset24 = { kind: "preset", preset: MODEL_PRESETS["24khz"] };
const preset48 = { kind: "preset", preset: MODEL_PRESETS["48khz"] };

/** Handlers that record what they were called with. */
function recordingHandlers() {
  const calls: Array<{ command: CommandName; options: unknown }> = [];
  const record = (command: CommandName) => async (options: unknown) => {
    calls.push({ command, options });
  };
  const handlers: CommandHandlers = {
    send: record("send"),
    receive: record("receive"),
    encode: record("encode"),
    decode: record("decode"),
    pull: record("pull"),
    devices: record("devices"),
    keygen: record("keygen"),
  };
  return { calls, handlers };
}

/** Runs a command line through runCommandLine with recording handlers and captured output. */
async function run(argv: string[], handlers?: CommandHandlers) {
  const recording = recordingHandlers();
  let stdout = "";
  let stderr = "";
  const exitCode = await runCommandLine(argv, handlers ?? recording.handlers, {
    writeOut: (text) => (stdout += text),
    writeErr: (text) => (stderr += text),
  });
  return { exitCode, stdout, stderr, calls: recording.calls };
}

function options(parsed: ParsedCommandLine): unknown {
  return "options" in parsed ? parsed.options : parsed.text;
}

describe("the seed's command lines", () => {
  const seedSend = ["--mode", "send", "--input", "a.wav", "--ip", "127.0.0.1", "--port", "9527", "--no-lm", "--overlap", "25"];
  const seedReceive = ["--mode", "receive", "--port", "9527", "--buffer-size", "24", "--overlap", "25"];

  test("--mode send parses like `send`, with every default", () => {
    const parsed = parseCommandLine(seedSend);
    expect(parsed).toEqual({
      command: "send",
      options: {
        input: "a.wav",
        ip: "127.0.0.1",
        ttl: 1,
        port: 9527,
        bind: undefined,
        mtuBytes: 220,
        chunkMs: undefined,
        adaptive: undefined,
        fec: undefined,
        lmKeyframeIntervalFrames: 15,
        model: preset24,
        bandwidthKbps: 12,
        useLm: false,
        lmPath: undefined,
        cacheDir: undefined,
        precision: "float32",
        framing: "chunked",
        overlapRatio: 0.25,
        stats: false,
        workers: true,
      },
    });
    expect(parseCommandLine(["send", ...seedSend.slice(2)])).toEqual(parsed);
  });

  test("--mode receive parses like `receive`, playing when no --output is given", () => {
    const parsed = parseCommandLine(seedReceive);
    expect(parsed).toEqual({
      command: "receive",
      options: {
        port: 9527,
        bind: "0.0.0.0",
        group: undefined,
        interface: undefined,
        bufferSize: { unit: "units", units: 24 },
        output: undefined,
        play: true,
        webrtc: true,
        sampleFormat: "s16",
        idleTimeoutS: undefined,
        streamIdleS: 3,
        model: preset24,
        lmPath: undefined,
        cacheDir: undefined,
        precision: "float32",
        framing: "chunked",
        overlapRatio: 0.25,
        stats: false,
        workers: true,
      },
    });
    expect(parseCommandLine(["receive", ...seedReceive.slice(2)])).toEqual(parsed);
  });

  test.each([
    [["--port", "9527", "--mode", "receive"], "receive"],
    [["--mode=send", "--input", "a.wav"], "send"],
    [["--input", "a.wav", "--mode", "send", "--stats"], "send"],
  ])("--mode may appear anywhere: %j", (argv, command) => {
    expect(parseCommandLine(argv).command).toBe(command);
  });

  test("buildProgram's own parseAsync understands --mode and awaits the handler", async () => {
    let finished = false;
    const { handlers } = recordingHandlers();
    const program = buildProgram({
      ...handlers,
      send: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        finished = true;
      },
    });
    await program.parseAsync(seedSend, { from: "user" });
    expect(finished).toBe(true);
  });
});

describe("good command lines", () => {
  test.each<[string, string[], Record<string, unknown>]>([
    [
      "send with every flag",
      ["send", "-i", "in.wav", "--ip", "::1", "-p", "5000", "--bind", "::", "--mtu", "64", "-m", "48khz", "-b", "24", "--stream", "--stats", "--lm", "/w/lm.th", "--cache-dir", "/c"],
      { input: "in.wav", ip: "::1", port: 5000, bind: "::", mtuBytes: 64, model: preset48, bandwidthKbps: 24, framing: "stream", stats: true, useLm: true, lmPath: "/w/lm.th", cacheDir: "/c" },
    ],
    ["a host name for --ip", ["send", "-i", "a.wav", "--ip", "receiver.local"], { ip: "receiver.local" }],
    ["--precision int8 (float32 by default)", ["send", "-i", "a.wav", "--stream", "--precision", "int8"], { framing: "stream", precision: "int8" }],
    ["--precision int4", ["send", "-i", "a.wav", "--stream", "--precision", "int4"], { framing: "stream", precision: "int4" }],
    ["--chunk-ms and a fractional --overlap", ["send", "-i", "a.wav", "--chunk-ms", "500", "--overlap", "12.5"], { chunkMs: 500, overlapRatio: 0.125 }],
    ["largest MTU", ["send", "-i", "a.wav", "--mtu", "65507"], { mtuBytes: 65507 }],
    ["--lm then --no-lm: the last wins", ["send", "-i", "a.wav", "--lm", "x.th", "--no-lm"], { useLm: false, lmPath: undefined }],
    ["--no-lm then --lm: the last wins", ["send", "-i", "a.wav", "--no-lm", "--lm", "x.th"], { useLm: true, lmPath: "x.th" }],
    ["chunks are LM-coded by default", ["send", "-i", "a.wav"], { framing: "chunked", useLm: true, lmPath: undefined }],
    ["--stream sends packed codes by default (a lost packet would cost frames up to the next LM keyframe)", ["send", "-i", "a.wav", "--stream"], { framing: "stream", useLm: false }],
    ["--stream --lm: LM coding with the model's own LM", ["send", "-i", "a.wav", "--stream", "--lm"], { useLm: true, lmPath: undefined, lmKeyframeIntervalFrames: 15 }],
    ["--stream --lm PATH --keyframe-interval 1", ["send", "-i", "a.wav", "--stream", "--lm", "x.th", "--keyframe-interval", "1"], { useLm: true, lmPath: "x.th", lmKeyframeIntervalFrames: 1 }],
    ["--stream --lm --no-lm: the last wins", ["send", "-i", "a.wav", "--stream", "--lm", "--no-lm"], { useLm: false }],
    ["bandwidth written as 6.0", ["send", "-i", "a.wav", "-b", "6.0"], { bandwidthKbps: 6 }],
    ["bandwidth written as 24kbps", ["send", "-i", "a.wav", "-b", "24kbps"], { bandwidthKbps: 24 }],
    ["1.5 kbps on the 24 kHz model", ["send", "-i", "a.wav", "-b", "1.5"], { bandwidthKbps: 1.5 }],
    ["a Hugging Face repo id", ["send", "-i", "a.wav", "-m", "someone/encodec_custom"], { model: { kind: "repo", repoId: "someone/encodec_custom" } }],
    ["Meta's repo id is the preset", ["send", "-i", "a.wav", "-m", "facebook/encodec_48khz"], { model: preset48 }],
    ["receive to a WAV only", ["receive", "-o", "out.wav"], { output: "out.wav", play: false }],
    ["receive to a WAV and the speakers", ["receive", "-o", "out.wav", "--play", "--sample-format", "f32"], { output: "out.wav", play: true, sampleFormat: "f32" }],
    ["receive on any port, with a timeout", ["receive", "-p", "0", "--timeout", "2.5", "--stream"], { port: 0, idleTimeoutS: 2.5, framing: "stream" }],
    ["receive with a key, pinned to a source", ["receive", "--key-file", "s.key", "--allow-from", "192.0.2.7:9000", "--stream-idle", "1.5"], { keyFile: "s.key", allowFrom: { address: "192.0.2.7", port: 9000 }, streamIdleS: 1.5 }],
    ["receive pinned to an IPv6 address and port", ["receive", "--allow-from", "[::1]:5"], { allowFrom: { address: "::1", port: 5 } }],
    ["receive pinned to an address, any port", ["receive", "--allow-from", "::1"], { allowFrom: { address: "::1", port: undefined } }],
    ["jitter buffer of one frame", ["receive", "--buffer-size", "1"], { bufferSize: { unit: "units", units: 1 } }],
    ["the default buffer is 200 ms", ["receive"], { bufferSize: { unit: "ms", ms: 200 } }],
    ["a buffer of 200ms", ["receive", "--buffer-size", "200ms"], { bufferSize: { unit: "ms", ms: 200 } }],
    ["a buffer of 1.5s", ["receive", "--buffer-size", "1.5s"], { bufferSize: { unit: "ms", ms: 1500 } }],
    ["a buffer of '250 ms'", ["receive", "--buffer-size", "250 ms"], { bufferSize: { unit: "ms", ms: 250 } }],
    ["a multicast receiver", ["receive", "--group", "239.1.2.3", "--interface", "127.0.0.1"], { group: "239.1.2.3", interface: "127.0.0.1", bind: "0.0.0.0" }],
    ["an IPv6 multicast receiver binds ::", ["receive", "--group", "ff15::1"], { group: "ff15::1", bind: "::" }],
    ["a multicast sender", ["send", "-i", "a.wav", "--ip", "239.1.2.3", "--ttl", "4"], { ip: "239.1.2.3", ttl: 4 }],
    ["the model on the main thread", ["receive", "--stream", "--no-workers"], { framing: "stream", workers: false }],
    ["send with the model on the main thread", ["send", "-i", "a.wav", "--no-workers"], { workers: false }],
    [
      "encode with options before the files",
      ["encode", "-m", "48khz", "-b", "6", "--no-lm", "in.wav", "out.ecdc"],
      { input: "in.wav", output: "out.ecdc", model: preset48, bandwidthKbps: 6, useLm: false },
    ],
    ["encode with options after the files", ["encode", "in.wav", "out.ecdc", "-b", "3"], { input: "in.wav", output: "out.ecdc", bandwidthKbps: 3, model: preset24, useLm: false }],
    ["encode --lm: LM coding is opt-in, as in the reference's tool", ["encode", "--lm", "in.wav", "out.ecdc"], { input: "in.wav", output: "out.ecdc", useLm: true, lmPath: undefined }],
    ["encode --lm-weights PATH implies --lm", ["encode", "in.wav", "out.ecdc", "--lm-weights", "w/lm.th"], { useLm: true, lmPath: "w/lm.th" }],
    ["encode --lm --no-lm: the last wins", ["encode", "--lm", "--no-lm", "in.wav", "out.ecdc"], { useLm: false }],
    [
      "decode with the model from the file",
      ["decode", "in.ecdc", "out.wav"],
      { input: "in.ecdc", output: "out.wav", model: undefined, lmPath: undefined, sampleFormat: "s16", cacheDir: undefined },
    ],
    ["decode to float", ["decode", "--sample-format", "f32", "-m", "24khz", "in.ecdc", "out.wav"], { sampleFormat: "f32", model: preset24 }],
    ["pull a preset", ["pull", "24khz"], { repoId: "facebook/encodec_24khz", baseUrl: undefined, revision: "main", force: false, cacheDir: undefined }],
    [
      "pull from a mirror",
      ["pull", "owner/name", "--base-url", "https://mirror.example/hf/", "--revision", "v1.0", "--force", "--cache-dir", "/c"],
      { repoId: "owner/name", baseUrl: "https://mirror.example/hf", revision: "v1.0", force: true, cacheDir: "/c" },
    ],
  ])("%s", (_name, argv, expected) => {
    const parsed = parseCommandLine(argv);
    expect(parsed.command).toBe(argv[0]);
    expect(options(parsed)).toMatchObject(expected);
  });

  test("a directory given to --model is a directory, made absolute", () => {
    const parsed = parseCommandLine(["encode", "--model", modelDir, "a.wav", "b.ecdc"]);
    expect(options(parsed)).toMatchObject({ model: { kind: "directory", path: modelDir } });
  });

  test("runCommandLine calls exactly the one handler and returns 0", async () => {
    const { exitCode, calls, stdout, stderr } = await run(["pull", "48khz"]);
    expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(calls).toEqual([{ command: "pull", options: expect.objectContaining({ repoId: "facebook/encodec_48khz" }) }]);
  });
});

describe("bad command lines exit with 2 and say what is wrong", () => {
  test.each<[string[], RegExp]>([
    [[], /Usage: encstream/],
    [["help", "bogus"], /Usage: encstream/],
    [["bogus"], /^error: unknown command 'bogus'/],
    [["send"], /^error: required option '-i, --input <file>' not specified/],
    [["send", "-i", ""], /--input must not be empty/],
    [["send", "-i", "a.wav", "--port", "0"], /^error: option '-p, --port <port>' argument '0' is invalid\. --port must be an integer from 1 to 65535\./],
    [["send", "-i", "a.wav", "--port", "65536"], /--port must be an integer from 1 to 65535/],
    [["send", "-i", "a.wav", "--port", "1e3"], /--port must be an integer from 1 to 65535/],
    [["send", "-i", "a.wav", "--port", "80x"], /--port must be an integer/],
    [["send", "-i", "a.wav", "--ip", "not a host!"], /--ip must be an IPv4 or IPv6 address or a host name/],
    [["send", "-i", "a.wav", "--bind", "localhost"], /--bind must be an IPv4 or IPv6 address/],
    [["send", "-i", "a.wav", "--mtu", "63"], /--mtu must be an integer from 64 to 65507 bytes/],
    [["send", "-i", "a.wav", "--mtu", "65508"], /--mtu must be an integer from 64 to 65507 bytes/],
    [["send", "-i", "a.wav", "--overlap", "0.5"], /--overlap must be a number from 1 to 50 \(percent\)/],
    [["send", "-i", "a.wav", "--overlap", "51"], /--overlap must be a number from 1 to 50/],
    [["send", "-i", "a.wav", "--overlap", "abc"], /--overlap must be a number/],
    [["send", "-i", "a.wav", "--bandwidth", "5"], /--bandwidth must be one of 1\.5, 3, 6, 12, 24 \(kbps\)/],
    [["send", "-i", "a.wav", "-m", "48khz", "-b", "1.5"], /^error: --bandwidth 1\.5 is not available with the 48khz model \(3, 6, 12, 24 kbps\)/],
    [["send", "-i", "a.wav", "-m", "./no/such/dir"], /--model: "\.\/no\/such\/dir" is not an existing directory/],
    [["send", "-i", "a.wav", "-m", "what is this"], /--model: expected 24khz, 48khz, a Hugging Face repository id \(owner\/name\) or a model directory/],
    [["send", "-i", "a.wav", "--stream", "--overlap", "10"], /option '--overlap <percent>' cannot be used with option '--stream'/],
    [["send", "-i", "a.wav", "--stream", "--chunk-ms", "100"], /option '--chunk-ms <ms>' cannot be used with option '--stream'/],
    [["send", "-i", "a.wav", "--chunk-ms", "10"], /--chunk-ms must be an integer from 20 to 10000 ms/],
    [["send", "-i", "a.wav", "--buffer-size", "8"], /unknown option '--buffer-size'/],
    [["receive", "--buffer-size", "0"], /--buffer-size must be a duration from 1ms to 60s \(like 200ms or 1\.5s\) or a count of units \(frames or chunks\) from 1 to 65536/],
    [["receive", "--buffer-size", "61s"], /--buffer-size must be a duration from 1ms to 60s/],
    [["receive", "--buffer-size", "0.5ms"], /--buffer-size must be a duration/],
    [["receive", "--buffer-size", "200 frames"], /--buffer-size must be a duration/],
    [["receive", "--buffer-size", "1.5"], /--buffer-size must be a duration/],
    [["receive", "--no-lm"], /unknown option '--no-lm'/],
    [["receive", "--bandwidth", "6"], /unknown option '--bandwidth'/],
    [["receive", "--group", "not-an-address"], /--group must be an IPv4 or IPv6 address/],
    [["send", "--inptu", "a.wav"], /^error: unknown option '--inptu'\n\(Did you mean --input\?\)/],
    [["send", "-i", "a.wav", "--ttl", "256"], /--ttl must be an integer from 0 to 255 hops/],
    [["send", "-i", "a.wav", "--stream", "--lm", "--keyframe-interval", "0"], /--keyframe-interval must be an integer from 1 to 75 frames/],
    [["send", "-i", "a.wav", "--stream", "--lm", "--keyframe-interval", "76"], /--keyframe-interval must be an integer from 1 to 75 frames/],
    [["receive", "--keyframe-interval", "5"], /unknown option '--keyframe-interval'/],
    [["receive", "--timeout", "0"], /--timeout must be a number from 0\.001 to 86400 s/],
    [["receive", "--timeout", "-1"], /--timeout must be a number/],
    [["receive", "--sample-format", "s24"], /argument 's24' is invalid\. Allowed choices are s16, f32/],
    [["receive", "--input", "a.wav"], /unknown option '--input'/],
    [["receive", "--mode", "send"], /unknown option '--mode'/],
    [["--mode", "bogus"], /option '--mode <mode>' argument 'bogus' is invalid\. Allowed choices are send, receive/],
    [["--mode"], /option '--mode <mode>' argument missing/],
    [["encode", "a.wav"], /missing required argument 'output'/],
    [["encode", "a.wav", "b.ecdc", "c"], /too many arguments for 'encode'/],
    [["decode", "a.ecdc", "b.wav", "--bandwidth", "6"], /unknown option '--bandwidth'/],
    [["send", "-i", "a.wav", "--precision", "bf16"], /argument 'bf16' is invalid. Allowed choices are float32, int8, int4/],
    [["pull"], /missing required argument 'repo-id'/],
    [["pull", "../x"], /<repo-id> must be 24khz, 48khz or a Hugging Face repository id like owner\/name/],
    [["pull", "x", "--base-url", "ftp://host"], /--base-url must be an http:\/\/ or https:\/\/ URL/],
    [["pull", "x", "--revision", "a/../b"], /--revision must be a branch, tag or commit name/],
  ])("%j", async (argv, message) => {
    const { exitCode, stderr, calls } = await run(argv);
    expect(calls).toEqual([]);
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(message);
    // parseCommandLine reports the same problem as a CliError "usage".
    let thrown: unknown;
    try {
      parseCommandLine(argv);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CliError);
    expect(thrown).toMatchObject({ code: "usage" });
  });
});

test.each([
  ["receive", "--precision", "int8"],
  ["encode", "a.wav", "b.ecdc", "--precision", "int8"],
  ["decode", "a.ecdc", "b.wav", "--precision", "int8"],
])("%s takes --precision", (...argv) => {
  expect(parseCommandLine(argv)).toMatchObject({ options: { precision: "int8" } });
  expect(parseCommandLine(argv.slice(0, -2))).toMatchObject({ options: { precision: "float32" } });
});

describe("help and version", () => {
  test("--help lists every command and exits 0", async () => {
    const { exitCode, stdout, stderr } = await run(["--help"]);
    expect(exitCode).toBe(0);
    expect(stderr).toBe("");
    for (const command of ["send", "receive", "encode", "decode", "pull", "--mode <mode>"]) expect(stdout).toContain(command);
  });

  test.each(["send", "receive", "encode", "decode", "pull"])("%s --help lists every flag with its default", async (name) => {
    const { exitCode, stdout } = await run([name, "--help"]);
    expect(exitCode).toBe(0);
    const command = buildProgram(recordingHandlers().handlers).commands.find((c) => c.name() === name);
    const help = command?.createHelp();
    expect(command?.options.length).toBeGreaterThan(3);
    for (const option of command?.options ?? []) {
      expect(stdout).toContain(option.flags);
      if (option.long === "--help") continue;
      // What the help prints for the flag: its description plus commander's (default: …).
      const described = help?.optionDescription(option) ?? "";
      expect(described, option.flags).toMatch(/default: |\(required\)/);
    }
  });

  test("`help receive` is receive's help; --version prints the package version", async () => {
    const viaHelp = await run(["help", "receive"]);
    const viaFlag = await run(["receive", "--help"]);
    expect(viaHelp.exitCode).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(parseCommandLine(["help", "receive"])).toEqual({ command: "help", text: viaFlag.stdout });
    const version = await run(["--version"]);
    expect(version).toMatchObject({ exitCode: 0, stdout: `${packageJson.version}\n` });
  });
});

describe("handler failures", () => {
  test("a CliError prints its message and exits 1", async () => {
    const { handlers } = recordingHandlers();
    const failing = { ...handlers, decode: async () => Promise.reject(new CliError("io", "in.ecdc: cannot open (no such file or directory)")) };
    const result = await run(["decode", "in.ecdc", "out.wav"], failing);
    expect(result).toMatchObject({ exitCode: 1, stderr: "error: in.ecdc: cannot open (no such file or directory)\n" });
  });

  test("any other error prints its stack and exits 1", async () => {
    const { handlers } = recordingHandlers();
    const failing = { ...handlers, pull: async () => Promise.reject(new TypeError("boom")) };
    const result = await run(["pull", "24khz"], failing);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^error: unexpected failure: TypeError: boom\n\s+at /);
  });
});

describe("receive --web", () => {
  test.each<[string, { host: string; port: number }]>([
    ["8080", { host: "127.0.0.1", port: 8080 }],
    ["0.0.0.0:9000", { host: "0.0.0.0", port: 9000 }],
    ["[::1]:0", { host: "::1", port: 0 }],
    ["localhost:8080", { host: "localhost", port: 8080 }],
  ])("--web %s", (value, expected) => {
    expect(parseWebAddress(value)).toEqual(expected);
  });
  test.each(["", "http://x:80", "[1.2.3.4]:80", "80000", "host:"])("--web %j is refused", (value) => {
    expect(() => parseWebAddress(value)).toThrow(/--web/);
  });
  test("--no-webrtc keeps pages on the WebSocket; WebRTC is offered by default", () => {
    expect(parseCommandLine(["receive", "--web", "8080"])).toMatchObject({ options: { webrtc: true } });
    expect(parseCommandLine(["receive", "--web", "8080", "--no-webrtc"])).toMatchObject({ options: { webrtc: false } });
  });
});

describe("live sources and pipes", () => {
  test("send --input - --raw-format, send --input mic --input-device, receive --output - --raw-format, devices", () => {
    const send = parseCommandLine(["send", "--input", "-", "--raw-format", "s16le:48000:2"]);
    expect(send).toMatchObject({ command: "send", options: { input: "-", rawFormat: { sampleFormat: "s16", sampleRateHz: 48_000, channels: 2 } } });
    expect(parseCommandLine(["send", "--input", "mic", "--input-device", "2"])).toMatchObject({ options: { input: "mic", inputDevice: "2" } });
    const receive = parseCommandLine(["receive", "--output", "-", "--raw-format", "f32le:24000:1"]);
    expect(receive).toMatchObject({ command: "receive", options: { output: "-", play: false, rawFormat: { sampleFormat: "f32", sampleRateHz: 24_000, channels: 1 } } });
    expect(parseCommandLine(["devices", "--json"])).toEqual({ command: "devices", options: { json: true } });
  });

  test.each([
    [["send", "--input", "-", "--raw-format", "s16:48000:2"], /--raw-format .*s16le or f32le/],
    [["receive", "--output", "-", "--play"], /--play cannot go with --output -/],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});

describe("multi-track", () => {
  test("send: --input given again, per-track lists by position; receive: --model list, {track}, --mix", () => {
    const send = parseCommandLine(["send", "--input", "a.wav", "--input", "mic", "--model", "24khz,48khz", "--bandwidth", "6,auto:3-12", "--lm-tracks", "on,off"]);
    expect(send).toMatchObject({
      command: "send",
      options: {
        input: "a.wav",
        model: preset24,
        bandwidthKbps: 6,
        tracks: { inputs: ["a.wav", "mic"], split: false, models: [preset24, preset48], bandwidths: [6, { minKbps: 3, maxKbps: 12 }], lm: [true, false] },
      },
    });
    expect(parseCommandLine(["send", "--input", "multi.wav", "--tracks", "split", "--model", "48khz"])).toMatchObject({
      options: { tracks: { inputs: ["multi.wav"], split: true, models: [preset48], bandwidths: [12], lm: undefined } },
    });
    expect(parseCommandLine(["send", "--input", "a.wav"])).toMatchObject({ options: { input: "a.wav", tracks: undefined } });
    expect(parseCommandLine(["receive", "--model", "24khz,48khz", "--output", "out-{track}.wav"])).toMatchObject({
      options: { model: preset24, models: [preset24, preset48], output: "out-{track}.wav", play: false, mix: undefined },
    });
    expect(parseCommandLine(["receive", "--model", "24khz,48khz", "--mix"])).toMatchObject({ options: { mix: true, play: true } });
    expect(parseCommandLine(["receive", "--output", "t-{track}.wav", "--mix", "mix.wav"])).toMatchObject({ options: { mix: "mix.wav", play: false } });
  });

  test.each([
    [["send", "--input", "a.wav", "--model", "24khz,48khz"], /per-track lists .* need several tracks/],
    [["send", "--input", "a.wav", "--input", "b.wav", "--bandwidth", "6,12,24"], /--bandwidth lists 3 values for 2 tracks/],
    [["send", "--input", "a.wav", "--input", "b.wav", "--tracks", "split"], /--tracks split .* give one --input/],
    [["send", "--input", "-", "--tracks", "split"], /--tracks split needs a WAV file/],
    [["send", "--input", "mic", "--input", "mic"], /capture device can feed one track only/],
    [["send", "--input", "a.wav", "--input", "b.wav", "--lm-tracks", "on,maybe"], /--lm-tracks: each entry must be on or off/],
    [["receive", "--output", "t-{track}.wav", "--play"], /one WAV per track/],
    [["receive", "--output", "t-{track}.wav", "--mix"], /give the mix a file/],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});
