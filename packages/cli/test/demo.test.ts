import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { rm } from "node:fs/promises";
import { readWavFile } from "../src/audio/wav-input.js";
import { buildCli } from "./build-cli.js";
import { TEST_24K_WAV } from "./codec-fixtures.js";
import { makeTempDir, maxAbsDiff } from "./helpers.js";

const dir = await makeTempDir("demo");
let buildDir: string;
beforeAll(async () => {
  buildDir = await buildCli();
});
afterAll(() => rm(buildDir, { recursive: true, force: true }));

test("the demo sends the sample over loopback and writes the received WAV, on the tiny model when no real one is cached", async () => {
  const out = join(dir, "out");
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(buildDir, "demo.js"), "--seconds", "2", "--out", out], {
      cwd: dir,
      // An empty cache: the real model is absent, so the demo must say how to get it.
      env: { ...process.env, ENCSTREAM_CACHE_DIR: join(dir, "cache") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain("Get it with:  encstream pull facebook/encodec_24khz");
  expect(result.stdout).toContain("sound is NOT meaningful");
  expect(result.stdout).toContain(`output:    ${join(out, "received.wav")}`);
  expect(result.stdout).toMatch(/received: {2}2\.00 s, \d+ played, 0 lost/);

  // The input is the sample's first 2 s; the received file has exactly its length, and is not silence.
  const input = await readWavFile(join(out, "input.wav"));
  const sample = await readWavFile(TEST_24K_WAV);
  expect(input.audio[0]!.length).toBe(48_000);
  expect(maxAbsDiff(input.audio[0]!, sample.audio[0]!, 0, 48_000)).toBeLessThanOrEqual(1 / 32_768);
  const received = await readWavFile(join(out, "received.wav"));
  expect(received.sampleRateHz).toBe(24_000);
  expect(received.audio[0]!.length).toBe(48_000);
  expect(received.audio[0]!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
});
