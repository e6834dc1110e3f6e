import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import wavefile from "wavefile";
import { afterAll, expect, test } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
let dir: string | undefined;
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs the example as a user would (`tsx src/main.ts ...`); resolves with its exit code and output. */
function runExample(args: string[], cacheDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ENCSTREAM_CACHE_DIR: cacheDir } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("the example sends 1.5 s of speech over loopback and writes all of it back, every chunk played", async () => {
  dir = await mkdtemp(join(tmpdir(), "encstream-example-"));
  const out = join(dir, "out.wav");
  const { code, stdout, stderr } = await runExample(["--seconds", "1.5", "--out", out], join(dir, "cache"));
  expect(code, stderr).toBe(0);
  // 1.5 s at 24 kHz in 250 ms chunks with 25 % overlap (hop 187.5 ms): 8 chunks.
  expect(stdout).toMatch(/^sent 8 chunks in \d+ datagrams; received \d+, 8 chunks played, 0 lost, jitter \d+\.\d\d ms; wrote .*out\.wav: 36000 samples \(input 36000\)\n$/);
  const wav = new wavefile.WaveFile(await readFile(out));
  expect(wav.fmt).toMatchObject({ sampleRate: 24_000, numChannels: 1, bitsPerSample: 16 });
  const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array;
  expect(samples.length).toBe(36_000);
  expect(samples.some((v) => v !== 0)).toBe(true);
});
