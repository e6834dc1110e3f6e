import { spawn } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseEcdcHeader } from "@encstream/codec";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../src/audio/wav-input.js";
import { WavFileWriter } from "../src/audio/wav-writer.js";
import { buildCli } from "./build-cli.js";
import { TEST_24K_WAV, TINY24_DIR } from "./codec-fixtures.js";
import { makeTempDir, snrDb } from "./helpers.js";

// The built `encstream encode` / `decode` on real files: the fixed behaviours of issue #14
// (items 5, 8 and the output-path check), driven as a user runs them.

/** Runs the built `encstream` with `args`; resolves with its exit code and output (killed after 60 s). */
function encstream(bin: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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

const dir = await makeTempDir("offline-bin");
const cacheDir = join(dir, "cache");
let buildDir: string;
let bin: string;
let input: string;
beforeAll(async () => {
  buildDir = await buildCli();
  bin = join(buildDir, "bin.js");
  input = join(dir, "speech.wav");
  // The first 6 s of the test speech.
  const { audio } = await readWavFile(TEST_24K_WAV);
  const writer = await WavFileWriter.create(input, { sampleRateHz: 24_000, channels: 1, sampleFormat: "s16" });
  await writer.write([audio[0]!.subarray(0, 6 * 24_000)]);
  await writer.close();
}, 60_000);
afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
});

const model = (): string[] => ["--model", TINY24_DIR, "--cache-dir", cacheDir];

describe("encstream encode/decode (built command)", () => {
  test("encode a.wav a.wav refuses, exit 2, and leaves the input as it was", async () => {
    const before = await readFile(input);
    const run = await encstream(bin, ["encode", input, input, ...model()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${input} is the input file`);
    expect((await readFile(input)).equals(before)).toBe(true);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  test("an output in a missing folder is reported before any work, naming the output path (not a temporary file)", async () => {
    const out = join(dir, "no-such-folder", "out.ecdc");
    // The model is not in this cache either: the output is checked first.
    const run = await encstream(bin, ["encode", input, out, "--model", "24khz", "--cache-dir", join(dir, "empty-cache")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${out}: cannot write (no such file or directory)`);
    expect(run.stderr).not.toMatch(/\.tmp|pull/);
    const decode = await encstream(bin, ["decode", join(TINY24_DIR, "bw6_nolm.ecdc"), join(dir, "missing", "x.wav"), ...model()]);
    expect(decode.code).toBe(1);
    expect(decode.stderr).toContain(`${join(dir, "missing", "x.wav")}: cannot write (no such file or directory)`);
  });

  test("encode writes packed codes unless --lm (as the reference's tool); --no-lm is still accepted; progress is shown", async () => {
    const plain = join(dir, "plain.ecdc");
    const lm = join(dir, "lm.ecdc");
    const noLm = join(dir, "no-lm.ecdc");
    const runs = [await encstream(bin, ["encode", input, plain, ...model()]), await encstream(bin, ["encode", "--lm", input, lm, ...model()]), await encstream(bin, ["encode", input, noLm, "--no-lm", ...model()])];
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(parseEcdcHeader(new Uint8Array(await readFile(plain))).metadata.useLm).toBe(false);
    expect(parseEcdcHeader(new Uint8Array(await readFile(lm))).metadata.useLm).toBe(true);
    expect((await readFile(noLm)).equals(await readFile(plain))).toBe(true);
    expect(runs[0]!.stderr).toMatch(/^encode: \d+\/6 s \(\d+ %\), [\d.]+× real time, \d+ s left$/m);
    expect(runs[1]!.stderr).toMatch(/^encode \(LM\): \d+\/6 s/m);
    const decoded = await encstream(bin, ["decode", lm, join(dir, "lm.wav"), ...model()]);
    expect(decoded.code, decoded.stderr).toBe(0);
    expect(decoded.stderr).toMatch(/^decode \(LM\): \d+\/6 s/m);
  }, 60_000);

  test("decode of a file LM-coded by the reference's Python tool says what happened and what to do; no output is left", async () => {
    const out = join(dir, "reference-lm.wav");
    const run = await encstream(bin, ["decode", join(TINY24_DIR, "bw6_lm.ecdc"), out, ...model()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("bw6_lm.ecdc: the LM-coded codes cannot be decoded");
    expect(run.stderr).toContain("Files LM-coded by the reference Python encodec (its --lm option) cannot be decoded by encstream");
    expect(run.stderr).toContain("Encode the audio again without --lm");
    expect((await readdir(dir)).filter((n) => n.startsWith("reference-lm") || n.endsWith(".tmp"))).toEqual([]);
  });

  test("--precision int4 encodes and decodes close to float32, its graphs cached under their own names", async () => {
    const paths = { f32: join(dir, "f32.ecdc"), int4: join(dir, "int4.ecdc") };
    for (const [name, extra] of [["f32", []], ["int4", ["--precision", "int4"]]] as const) {
      const enc = await encstream(bin, ["encode", input, paths[name], ...model(), ...extra]);
      expect(enc.code, enc.stderr).toBe(0);
      const dec = await encstream(bin, ["decode", paths[name], join(dir, `${name}.wav`), ...model(), ...extra]);
      expect(dec.code, dec.stderr).toBe(0);
    }
    const [a, b] = [(await readWavFile(join(dir, "f32.wav"))).audio[0]!, (await readWavFile(join(dir, "int4.wav"))).audio[0]!];
    expect(b.length).toBe(a.length);
    const snr = snrDb(a, b);
    // tiny24 in int4 end to end against float32: 21.8 dB on these 6 s (21.0 dB on its fixture input, codec README); a broken int4 graph is
    // noise, below 0 dB. Not a copy of float32 either.
    expect(snr).toBeGreaterThan(12);
    expect(snr).toBeLessThan(60);
    const graphs = await readdir(join(cacheDir, "graphs"), { recursive: true });
    expect(graphs.some((n) => n.includes("-int4v"))).toBe(true);
  }, 60_000);
});
