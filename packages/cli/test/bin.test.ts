import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { version } from "../package.json";
import { buildCli } from "./build-cli.js";
import { TEST_24K_WAV, TINY24_DIR } from "./codec-fixtures.js";
import { makeTempDir } from "./helpers.js";
import { startHubServer, type HubServer } from "./hub-server.js";

/** Runs the built `encstream` with `args`; resolves with its exit code and output (killed after 60 s). */
function encstream(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const dir = await makeTempDir("bin");
const cacheDir = join(dir, "cache");
let buildDir: string;
let bin: string;
let hub: HubServer;
beforeAll(async () => {
  buildDir = await buildCli();
  bin = join(buildDir, "bin.js");
  hub = await startHubServer({
    "/test/tiny24/resolve/main/config.json": await readFile(join(TINY24_DIR, "config.json")),
    "/test/tiny24/resolve/main/model.safetensors": await readFile(join(TINY24_DIR, "model.safetensors")),
  });
});
afterAll(async () => {
  await hub.close();
  await rm(buildDir, { recursive: true, force: true });
});

describe("the encstream bin", () => {
  test("starts with a node shebang", async () => {
    expect((await readFile(bin, "utf8")).startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  test("--help lists the commands and exits 0; --version prints the package version", async () => {
    const help = await encstream(bin, ["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["send", "receive", "encode", "decode", "pull"]) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(help.stdout).toContain("encstream --mode receive --port 9527");
    const shown = await encstream(bin, ["--version"]);
    expect(shown).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  test.each([
    { args: ["encode", "--bogus", "a.wav", "b.ecdc"], message: "error: unknown option '--bogus'" },
    { args: ["--mode", "broadcast"], message: "argument 'broadcast' is invalid. Allowed choices are send, receive." },
    { args: ["send"], message: "error: required option '-i, --input <file>' not specified" },
    { args: ["encode", "--bandwidth", "5", "a.wav", "b.ecdc"], message: "--bandwidth must be one of 1.5, 3, 6, 12, 24 (kbps)." },
    { args: ["--mode", "receive", "--port", "70000"], message: "--port must be an integer from 0 to 65535." },
    { args: ["frobnicate"], message: "error: unknown command 'frobnicate'" },
  ])("$args: exit 2 with a message on stderr", async ({ args, message }) => {
    const result = await encstream(bin, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });

  test("encode then decode files with a model directory: exit 0, the files written, progress on stderr", async () => {
    const ecdc = join(dir, "speech.ecdc");
    const wav = join(dir, "speech.wav");
    const encoded = await encstream(bin, ["encode", "--model", TINY24_DIR, "--bandwidth", "3", "--no-lm", "--cache-dir", cacheDir, TEST_24K_WAV, ecdc]);
    expect(encoded.stderr).toContain("encode: encoding 20.0 s at 3 kbps");
    expect(encoded).toMatchObject({ code: 0, stdout: expect.stringContaining(`wrote ${ecdc}: `) });
    const decoded = await encstream(bin, ["decode", "--model", TINY24_DIR, "--cache-dir", cacheDir, ecdc, wav]);
    expect(decoded).toMatchObject({ code: 0, stdout: expect.stringContaining(`wrote ${wav}: 20.00 s, 24000 Hz, 1 ch, s16`) });
    expect((await readFile(wav)).subarray(0, 4).toString("latin1")).toBe("RIFF");
  });

  test("a bad input file: exit 1, 'error: <path>: …', no output and no temporary file", async () => {
    const text = join(dir, "notes.ecdc");
    await writeFile(text, "not an ecdc file");
    const result = await encstream(bin, ["decode", "--model", TINY24_DIR, "--cache-dir", cacheDir, text, join(dir, "notes.wav")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^error: ${text.replaceAll("/", "\\/")}: `, "m"));
    expect((await readdir(dir)).filter((n) => n.startsWith(".notes.wav") || n === "notes.wav")).toEqual([]);
  });

  test("Ctrl-C during encode: exit 130, no output file and no temporary file", async () => {
    const work = join(dir, "interrupted");
    await mkdir(work);
    const out = join(work, "speech.ecdc");
    const child = spawn(process.execPath, [bin, "encode", "--model", TINY24_DIR, "--cache-dir", cacheDir, TEST_24K_WAV, out], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let interrupted = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text;
        // One Ctrl-C mid-work: once the model is loaded and the audio is being read.
        if (!interrupted && /encode: reading .*test_24k\.wav/.test(stderr)) {
          interrupted = true;
          child.kill("SIGINT");
        }
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("close", (exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
    expect(code, stderr).toBe(130);
    expect(await readdir(work)).toEqual([]);
  });

  test("decode without a cached model says which pull to run", async () => {
    const result = await encstream(bin, ["decode", "--cache-dir", cacheDir, join(TINY24_DIR, "bw6_nolm.ecdc"), join(dir, "ref.wav")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`download it first with: encstream pull facebook/encodec_24khz --cache-dir ${cacheDir}`);
  });

  test("pull from a local Hub, then encode --model <repo-id> from the cache", async () => {
    const pulled = await encstream(bin, ["pull", "test/tiny24", "--base-url", hub.baseUrl, "--cache-dir", cacheDir]);
    expect(pulled.code).toBe(0);
    expect(pulled.stderr).toContain("pull: downloading model.safetensors");
    expect(pulled.stdout).toContain("test/tiny24: downloaded 2 file(s)");
    const encoded = await encstream(bin, ["encode", "--model", "test/tiny24", "--no-lm", "--bandwidth", "1.5", "--cache-dir", cacheDir, TEST_24K_WAV, join(dir, "cached.ecdc")]);
    expect(encoded.code).toBe(0);
    expect(encoded.stderr).toContain("from test/tiny24 in the cache");
  });
});
