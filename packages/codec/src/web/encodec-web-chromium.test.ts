// @encstream/codec/web in real Chromium: the tiny models loaded by relative URL from a loopback
// server, the wasm-only onnxruntime-web build, built graphs cached in the Cache API; every output
// bit-identical to the same workload on onnxruntime-web in Node.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { launchChromium, serveStatic } from "../../test/support/chromium.js";
import { fixtureBytes, fixturePath, loadGoldenFixture, vector } from "../../test/support/fixtures.js";
import { readWavFixture } from "../../test/support/streaming-support.js";
import { runWebWorkload, type WorkloadInput, type WorkloadOutput } from "../../test/support/web-workload.js";
import { LmStreamEncoder } from "../lm/lm-stream.js";
import { loadLmWeights } from "../lm/lm-weights.js";
import { readSafetensors } from "../weights/safetensors.js";

const ortDist = path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web"));
const here = path.dirname(fileURLToPath(import.meta.url));
let bundleDir: string;
let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let input: WorkloadInput;
let nodeOut: WorkloadOutput;
let coldWrites = 0;
const lmExpected: number[] = [];

beforeAll(async () => {
  bundleDir = mkdtempSync(path.join(tmpdir(), "encstream-web-bundle-"));
  await build({
    entryPoints: [path.join(here, "../../test/browser/workload-page.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outdir: bundleDir,
    logLevel: "error",
  });
  writeFileSync(path.join(bundleDir, "index.html"), `<!doctype html><meta charset="utf-8"><script type="module" src="workload-page.js"></script>`);
  server = await serveStatic({ "/app/": bundleDir, "/ort/": ortDist, "/models/": path.dirname(path.dirname(fixturePath("tiny24/config.json"))) });

  const wav = readWavFixture("test_24k.wav");
  const f48 = loadGoldenFixture("tiny48");
  const codes48 = vector(f48, "codes_bw6_0_seg0");
  const scale48 = vector(f48, "scale_bw6_0_seg0");
  // 3 kbps (4 codebooks) codes LM-coded in Node, one frame a payload, a keyframe every 15.
  const lm = loadLmWeights(readSafetensors(fixtureBytes("tiny24/lm.safetensors")));
  const encoder = new LmStreamEncoder(lm, 4);
  const lmPayloads: number[][] = [];
  for (let f = 0; f < 24; f++) {
    const codes = [(f * 37) % 1024, (f * 91 + 5) % 1024, (f * 13) % 1024, 1023 - f];
    lmExpected.push(...codes);
    lmPayloads.push([...encoder.encode(codes)]);
  }
  input = {
    tiny24Url: "../models/tiny24/", // relative to the page: resolved by the loaders
    tiny48Url: "../models/tiny48",
    lmUrl: "../models/tiny24/lm.safetensors",
    audio: [...wav.channels[0]!.subarray(0, 4_960)],
    codes48: [...codes48.data].map(Number),
    numCodebooks48: codes48.dims[1]!,
    numFrames48: codes48.dims[2]!,
    scale48: scale48.data[0]!,
    lmPayloads,
  };
  nodeOut = await runWebWorkload(input, { baseUrl: `${server.url}/app/index.html`, wasmPaths: `${ortDist}/`, numThreads: 1, flavour: "wasm" });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(bundleDir, { recursive: true, force: true });
});

async function runInPage(): Promise<WorkloadOutput & { cache: { hits: number; misses: number; writes: number } }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/app/index.html`);
  await page.waitForFunction(() => typeof (globalThis as Record<string, unknown>).runWorkload === "function");
  const out = await page.evaluate((i) => (globalThis as unknown as { runWorkload: (i: unknown) => Promise<never> }).runWorkload(i), input);
  expect(errors).toEqual([]);
  await page.close();
  return out;
}

describe("@encstream/codec/web in Chromium", () => {
  test("streams, decodes and LM-decodes bit-identically to onnxruntime-web in Node; graphs go to the Cache API", async () => {
    const cold = await runInPage();
    coldWrites = cold.cache.writes;
    expect(cold.streamCodes.length).toBe(Math.ceil(4_960 / 320) * 8);
    expect(cold.streamCodes).toEqual(nodeOut.streamCodes);
    expect(cold.streamAudio.length).toBe(4_960);
    expect(cold.streamAudio).toEqual(nodeOut.streamAudio);
    expect(cold.offline48).toEqual(nodeOut.offline48);
    expect(cold.lmCodes).toEqual(lmExpected);
    expect(nodeOut.lmCodes).toEqual(lmExpected);
    expect(cold.cache.hits).toBe(0);
    expect(cold.cache.writes).toBeGreaterThan(0);
    // The relative URLs were resolved against the page, and the wasm came from wasmPaths.
    expect(server.requests).toContain("/models/tiny24/model.safetensors");
    expect(server.requests).toContain("/models/tiny24/lm.safetensors");
    expect(server.requests.some((r) => r.startsWith("/ort/") && r.endsWith(".wasm"))).toBe(true);
  }, 120_000);

  test("a second page reads every built graph from the Cache API and gives the same output", async () => {
    expect(coldWrites).toBeGreaterThan(0);
    const cached = await runInPage();
    expect(cached.cache.hits).toBe(coldWrites);
    expect(cached.cache.writes).toBe(0);
    expect(cached.streamAudio).toEqual(nodeOut.streamAudio);
    expect(cached.offline48).toEqual(nodeOut.offline48);
  }, 120_000);
});
