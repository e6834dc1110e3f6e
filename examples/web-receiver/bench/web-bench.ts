// pnpm bench (examples/web-receiver): the browser against Node, measured in the same run.
// 1. Open-to-first-sound: `encstream receive --web` relaying a running `encstream send` (tiny24
//    model); a page opened in a fresh Chromium profile (cold: graphs built) and again (cached:
//    graphs from the Cache API), from navigation start to the worklet's first sound. Node: loading
//    the same model with @encstream/codec/node and warming up the same decoders (cold cache dir,
//    then warm), the work the page does before it can play.
//    WEB_BENCH_ONLY=frames runs part 2 alone, WEB_BENCH_ONLY=startup part 1 alone.
// 2. CPU per frame of the full-size 24 kHz stream decoder (random weights, 6 kbps, one frame a
//    call) in Chromium (onnxruntime-web, 1 thread: wall time of each call, the page being idle
//    otherwise) and in Node (onnxruntime-node, 1 thread: process CPU time per call).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { build } from "esbuild";
import { createStreamDecoder, parseEncodecConfig } from "@encstream/codec";
import { loadEncodec, loadStreamingCodec } from "@encstream/codec/node";
import { createChunkedDecoder, createFrameStreamDecoder, createSessionCodec, defaultChunkMsOf } from "@encstream/session";
import { randomWeights, writeSafetensors } from "../../../packages/codec/bench/bench-support.js";
import { launchChromium, startCli, tempDir, TINY24, FIXTURES, writeWavPrefix, exampleDir } from "../test/support.js";
import { serveStatic } from "../../../packages/codec/test/support/chromium.js";

const tmp = tempDir("encstream-web-bench-");
const browser = await launchChromium();
const ratio = (a: number, b: number) => (a / b).toFixed(2);

/** One page's start: navigation to ready, to first sound, and the page's own phases (where it reports them). */
interface FirstSound {
  readyMs: number;
  soundMs: number;
  startupMs: Record<string, number> | undefined;
}

async function nodeReady(cacheDir: string): Promise<number> {
  const t0 = performance.now();
  const model = await loadEncodec(TINY24, { cacheDir });
  const codec = createSessionCodec({ model, streaming: () => (async () => (await import("@encstream/codec/node")).loadStreamingCodec(TINY24, { cacheDir }))() });
  const nq = model.numQuantizersForBandwidth(6);
  await createChunkedDecoder(codec, { chunkSamples: Math.round((defaultChunkMsOf(codec.modelKind) * codec.sampleRateHz) / 1000), overlapRatio: 0.25 }).warmUp(nq);
  await (await createFrameStreamDecoder(codec)).warmUp(nq);
  const ms = performance.now() - t0;
  await model.release();
  return ms;
}

try {
  // ---- 1. open to first sound
  if (process.env.WEB_BENCH_ONLY !== "frames") {
  const wav = path.join(tmp.dir, "in.wav");
  writeWavPrefix(path.join(FIXTURES, "audio/test_24k.wav"), wav, 180); // long enough to be running when a slow page is ready
  // WEB_BENCH_BEFORE=<a built page's dir> measures that page too, each in a fresh Chromium profile,
  // alternately with this one, so a change to the start is compared on the same machine state.
  const variants: [string, string | undefined][] = process.env.WEB_BENCH_BEFORE ? [["before", process.env.WEB_BENCH_BEFORE], ["after", undefined]] : [["Chromium", undefined]];
  const phases = (p: Record<string, number> | undefined): string => Object.entries(p ?? {}).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ");
  const results = new Map<string, { cold: FirstSound; cached: FirstSound }>();
  for (const [label, webRoot] of variants) {
    const port = 39_950 + Math.floor(Math.random() * 40);
    const own = webRoot === undefined ? browser : await launchChromium();
    const relay = startCli(["receive", "--port", String(port), "--bind", "127.0.0.1", "--web", "127.0.0.1:0", "--model", TINY24, "--cache-dir", path.join(tmp.dir, "c1"), "--buffer-size", "4", ...(webRoot ? ["--web-root", webRoot] : [])]);
    const url = (await relay.waitFor(/web receiver at (\S+)/))[1]!;
    const firstSound = async (): Promise<FirstSound> => {
      const send = startCli(["send", "--input", wav, "--port", String(port), "--model", TINY24, "--no-lm", "--bandwidth", "6", "--cache-dir", path.join(tmp.dir, "c1")]);
      const page = await own.context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { encstream: { firstSoundAtMs?: number } }).encstream.firstSoundAtMs !== undefined, undefined, { timeout: 120_000 });
      const r = await page.evaluate(() => {
        const e = (window as unknown as { encstream: { firstSoundAtMs: number; readyAtMs: number; startupMs?: Record<string, number> } }).encstream;
        return { readyMs: e.readyAtMs, soundMs: e.firstSoundAtMs, startupMs: e.startupMs };
      });
      await page.close();
      send.kill();
      await send.exited;
      return r;
    };
    const cold = await firstSound();
    const cached = await firstSound();
    relay.kill();
    await relay.exited;
    if (own !== browser) await own.close();
    results.set(label, { cold, cached });
  }
  const nodeCold = await nodeReady(path.join(tmp.dir, "n1"));
  const nodeCached = await nodeReady(path.join(tmp.dir, "n1"));
  console.log(`open to first sound (tiny24, chunked 6 kbps, --buffer-size 4), machine load average ${os.loadavg()[0]!.toFixed(1)}:`);
  for (const [label, { cold, cached }] of results) {
    console.log(`  ${label} cold   ${cold.soundMs.toFixed(0)} ms to first sound (ready after ${cold.readyMs.toFixed(0)} ms); Node load + warm-up ${nodeCold.toFixed(0)} ms; ready ratio browser/Node ${ratio(cold.readyMs, nodeCold)}`);
    console.log(`  ${label} cached ${cached.soundMs.toFixed(0)} ms to first sound (ready after ${cached.readyMs.toFixed(0)} ms); Node load + warm-up ${nodeCached.toFixed(0)} ms; ready ratio browser/Node ${ratio(cached.readyMs, nodeCached)}`);
    if (cold.startupMs) console.log(`    where the cold page's time went (ms): ${phases(cold.startupMs)}`);
    if (cached.startupMs) console.log(`    where the cached page's time went (ms): ${phases(cached.startupMs)}`);
  }
  const before = results.get("before");
  const after = results.get("after");
  if (before && after) {
    console.log(`  after/before, first sound: cold ${ratio(after.cold.soundMs, before.cold.soundMs)}, cached ${ratio(after.cached.soundMs, before.cached.soundMs)}`);
  }
  }

  // ---- 2. CPU per frame, full-size 24 kHz decoder
  if (process.env.WEB_BENCH_ONLY !== "startup") {
  const configJson = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(path.resolve(exampleDir, "../../packages/codec/bench/configs/encodec_24khz.json"), "utf8"))) as unknown;
  const config = parseEncodecConfig(configJson);
  const tensors = randomWeights(config, 7);
  const modelDir = path.join(tmp.dir, "full24");
  mkdirSync(modelDir);
  writeFileSync(path.join(modelDir, "config.json"), JSON.stringify(configJson));
  writeFileSync(path.join(modelDir, "model.safetensors"), writeSafetensors(tensors));
  const bundle = path.join(tmp.dir, "bundle");
  await build({
    entryPoints: [path.join(exampleDir, "bench/frame-cost-page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    outdir: bundle,
    logLevel: "error",
    // The page passes onnxruntime-web/wasm; the codec's imports of the other builds never run.
    plugins: [{ name: "other-ort-builds-external", setup: (b) => void b.onResolve({ filter: /^onnxruntime-web(\/all)?$/ }, (a) => ({ path: a.path, external: true })) }],
  });
  writeFileSync(path.join(bundle, "index.html"), `<!doctype html><meta charset="utf-8"><script type="module" src="frame-cost-page.js"></script>`);
  const ortDist = path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web/wasm"));
  const server = await serveStatic({ "/app/": bundle, "/app/model/": modelDir, "/ort/": ortDist });
  const FRAMES = 150;
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/app/index.html`);
  await page.waitForFunction(() => typeof (globalThis as Record<string, unknown>).measureFrames === "function", undefined, { timeout: 120_000 });
  const web = await page.evaluate((n) => (globalThis as unknown as { measureFrames: (f: number, k: number) => Promise<{ medianMs: number; meanMs: number }> }).measureFrames(n, 8), FRAMES);
  await page.close();
  await server.close();
  const codec = await loadStreamingCodec({ config, tensors }, { cacheGraphs: false });
  const decoder = createStreamDecoder(codec);
  const cpu: number[] = [];
  const wall: number[] = [];
  let seed = 1;
  for (let f = 0; f < FRAMES + decoder.startupFrames + 5; f++) {
    const codes = Uint16Array.from({ length: 8 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) % 1024);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await decoder.push({ codes, numCodebooks: 8, numFrames: 1 });
    const c = process.cpuUsage(c0);
    if (f >= decoder.startupFrames + 5) {
      cpu.push((c.user + c.system) / 1000);
      wall.push(performance.now() - t0);
    }
  }
  await codec.release();
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const nodeMedian = cpu[cpu.length >> 1]!;
  const nodeWall = wall[wall.length >> 1]!;
  console.log(`full-size 24 kHz stream decoder, 6 kbps, 1 frame (13.3 ms) a call, ${FRAMES} frames, 1 thread:`);
  console.log(
    `  Chromium ${web.medianMs.toFixed(2)} ms/frame median wall (mean ${web.meanMs.toFixed(2)}); Node ${nodeMedian.toFixed(2)} ms CPU / ${nodeWall.toFixed(2)} ms wall per frame median; ` +
      `ratio browser/Node ${ratio(web.medianMs, nodeWall)} (wall/wall), machine load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  }
} finally {
  await browser.close();
  tmp.remove();
}
