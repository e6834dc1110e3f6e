// Benchmark of @encstream/codec with the full-size EnCodec architectures (bench/configs, the
// published models' config.json) and seeded random weights. Prints real-time factors of offline
// encode/decode of 10 s of audio at every bandwidth on onnxruntime-node and onnxruntime-web
// (wasm), graph build time, load-from-cache time, peak RSS — each with a ratio against a
// baseline measured in the same run. Usage: pnpm bench [--model 24k|48k] [--quick]
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { parseEncodecConfig, type EncodecConfig } from "../src/config.js";
import { describeArchitecture } from "../src/model/architecture.js";
import { prepareWeights } from "../src/model/prepare-weights.js";
import { buildQuantizerEncodeGraph } from "../src/onnx/encodec-graphs.js";
import { EncodecModel } from "../src/runtime/encodec-model.js";
import { hashModel } from "../src/runtime/graph-cache.js";
import type { OrtRuntime, OrtSessionOptions } from "../src/runtime/ort-types.js";
import { loadEncodec, nodeSessionOptions } from "../src/node/encodec-node.js";
import { FileGraphCache } from "../src/node/file-graph-cache.js";
import { readSafetensors } from "../src/weights/safetensors.js";
import { readWav16 } from "../test/support/wav.js";
import { randomWeights, sampleCodebooks, writeSafetensors } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.includes("--model") ? args[args.indexOf("--model") + 1] : null;
const quick = args.includes("--quick");
const SECONDS = 10;

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.wasmPaths = `${path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web"))}/`;

const ms = (t: number) => `${t.toFixed(0)} ms`;
const rtf = (seconds: number, t: number) => `${(seconds / (t / 1000)).toFixed(1)}× real time`;
const now = () => performance.now();
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = now();
  const v = await fn();
  return [v, now() - t0];
}
/** Wall and CPU milliseconds (all threads of this process) of the median of `reps` runs after one warm-up run. */
async function median(fn: () => Promise<unknown>, reps: number): Promise<{ wall: number; cpu: number }> {
  await fn();
  const runs: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    await fn();
    const wall = now() - t0;
    const c = process.cpuUsage(c0);
    runs.push({ wall, cpu: (c.user + c.system) / 1000 });
  }
  runs.sort((a, b) => a.wall - b.wall);
  return runs[Math.floor(runs.length / 2)]!;
}

function embedFrames(model: EncodecModel, audio: Float32Array[]): Promise<{ data: Float32Array; frames: number }> {
  return (async () => {
    const segLen = model.segmentLengthSamples ?? audio[0]!.length;
    const parts: Float32Array[] = [];
    let frames = 0;
    let d = 0;
    for (let o = 0; o + segLen <= audio[0]!.length; o += segLen) {
      const e = await model.embed(audio.map((c) => c.subarray(o, o + segLen)));
      d = e.hiddenSize;
      const t = new Float32Array(e.numFrames * d); // [F, D]
      for (let f = 0; f < e.numFrames; f++) for (let i = 0; i < d; i++) t[f * d + i] = e.embeddings[i * e.numFrames + f]!;
      parts.push(t);
      frames += e.numFrames;
    }
    const data = new Float32Array(frames * d);
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    return { data, frames };
  })();
}

async function makeWeights(config: EncodecConfig, audio: Float32Array[], seed: number) {
  const tensors = randomWeights(config, seed);
  const probe = await EncodecModel.create({ config, tensors, runtime: ortNode, sessionOptions: nodeSessionOptions({ intraOpNumThreads: 2 }) });
  const { data, frames } = await embedFrames(probe, audio);
  await probe.release();
  const architecture = describeArchitecture(config);
  const nearest = async (codebook: Float32Array, residual: Float32Array, numFrames: number) => {
    const d = config.codebookDim;
    const layer0 = new Map([["quantizer.layers.0.codebook.embed", { dims: [config.codebookSize, d], data: codebook, sourceDtype: "F32" as const }]]);
    const s = await ortNode.InferenceSession.create(buildQuantizerEncodeGraph({ architecture, tensors: layer0 }, 1));
    const t = new Float32Array(residual.length); // [1, D, F]
    for (let f = 0; f < numFrames; f++) for (let i = 0; i < d; i++) t[i * numFrames + f] = residual[f * d + i]!;
    const out = await s.run({ embeddings: new ortNode.Tensor("float32", t, [1, d, numFrames]) });
    await s.release();
    return Int32Array.from(out.codes!.data as BigInt64Array, (v) => Number(v));
  };
  await sampleCodebooks(config, tensors, data, frames, nearest, seed + 1);
  return tensors;
}

async function benchModel(name: "24k" | "48k", root: string) {
  const config = parseEncodecConfig(JSON.parse(await readFile(path.join(here, "configs", `encodec_${name === "24k" ? "24" : "48"}khz.json`), "utf8")));
  const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", `test_${name}.wav`));
  const audio = wav.channels.map((c) => c.subarray(0, SECONDS * config.sampleRateHz));
  console.log(`\n## ${name}: encodec_${name === "24k" ? "24" : "48"}khz architecture, seeded random weights, ${SECONDS} s of test_${name}.wav`);

  const [tensors, tWeights] = await timed(() => makeWeights(config, wav.channels, name === "24k" ? 24 : 48));
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "config.json"), JSON.stringify(JSON.parse(await readFile(path.join(here, "configs", `encodec_${name === "24k" ? "24" : "48"}khz.json`), "utf8"))));
  await writeFile(path.join(dir, "model.safetensors"), writeSafetensors(tensors));
  const params = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  console.log(`weights: ${(params / 1e6).toFixed(2)} M parameters (codebooks sampled from encoder residuals in ${ms(tWeights)})`);

  // --- build vs load from cache ------------------------------------------------------------
  const cacheDir = path.join(root, "cache");
  const [cold, tCold] = await timed(() => loadEncodec(dir, { cacheDir, preloadBandwidthsKbps: [6] }));
  const stats = cold.graphStats;
  await cold.release();
  const [warm, tWarm] = await timed(() => loadEncodec(dir, { cacheDir, preloadBandwidthsKbps: [6] }));
  const warmStats = warm.graphStats;
  // breakdown of the cached load
  const [bytes, tRead] = await timed(() => readFile(path.join(dir, "model.safetensors")));
  const [raw, tParse] = await timed(async () => readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  const [prepared, tPrep] = await timed(async () => prepareWeights(config, raw));
  const [, tHash] = await timed(() => hashModel(config, prepared.tensors));
  console.log(`graph build: ${stats.built} graphs in ${ms(stats.buildMs)}; first load (build + cache write + sessions) ${ms(tCold)}`);
  console.log(
    `load from cache: ${ms(tWarm)} (${warmStats.fromCache} graphs from cache, ${warmStats.built} built) = ${(tCold / tWarm).toFixed(1)}× faster than the first load; ` +
      `of which read ${ms(tRead)}, parse ${ms(tParse)}, check+fold ${ms(tPrep)}, hash ${ms(tHash)}, sessions ≈ ${ms(tWarm - tRead - tParse - tPrep - tHash)}`,
  );

  // --- node, tuned options, every bandwidth --------------------------------------------------
  const reps = quick ? 1 : 2;
  const bws = quick ? [6] : config.targetBandwidthsKbps;
  const results = new Map<number, { enc: number; dec: number }>();
  for (const bw of bws) {
    let encoded = await warm.encode(audio, { bandwidthKbps: bw });
    const enc = await median(async () => (encoded = await warm.encode(audio, { bandwidthKbps: bw })), reps);
    const dec = await median(() => warm.decode(encoded), reps);
    results.set(bw, { enc: enc.wall, dec: dec.wall });
    console.log(
      `node  1 thread, no spin (default) ${String(bw).padStart(4)} kbps: encode ${rtf(SECONDS, enc.wall)} (${ms(enc.wall)}), decode ${rtf(SECONDS, dec.wall)} (${ms(dec.wall)}), ` +
        `together ${rtf(SECONDS, enc.wall + dec.wall)}; per CPU time: encode ${rtf(SECONDS, enc.cpu)}, decode ${rtf(SECONDS, dec.cpu)}, together ${rtf(SECONDS, enc.cpu + dec.cpu)}`,
    );
  }
  const tuned6 = results.get(6)!;

  // --- node, other session options at 6 kbps (ratio against the tuned ones) ------------------
  const variants: Array<[string, OrtSessionOptions]> = [
    ["ORT defaults (threads = cores, spinning)", {}],
    ["2 threads, no spin", nodeSessionOptions({ intraOpNumThreads: 2 })],
    ["2 threads, spinning", nodeSessionOptions({ intraOpNumThreads: 2, allowSpinning: true })],
  ];
  const graphCache = new FileGraphCache(path.join(cacheDir, "graphs"));
  for (const [label, sessionOptions] of variants) {
    const m = await EncodecModel.create({ config, tensors, runtime: ortNode, sessionOptions, graphCache, preloadBandwidthsKbps: [6] });
    let encoded = await m.encode(audio, { bandwidthKbps: 6 });
    const enc = (await median(async () => (encoded = await m.encode(audio, { bandwidthKbps: 6 })), reps)).wall;
    const dec = (await median(() => m.decode(encoded), reps)).wall;
    // encoder and decoder sessions busy at once, as in a full-duplex call
    const [, both] = await timed(() => Promise.all([m.encode(audio, { bandwidthKbps: 6 }), m.decode(encoded)]));
    console.log(
      `node  ${label.padEnd(40)} 6 kbps: encode+decode ${rtf(SECONDS, enc + dec)} (the default 1 thread/no spin is ${((enc + dec) / (tuned6.enc + tuned6.dec)).toFixed(2)}× as fast); ` +
        `encode ∥ decode at once ${ms(both)}`,
    );
    await m.release();
  }
  const encoded6 = await warm.encode(audio, { bandwidthKbps: 6 });
  const [, bothTuned] = await timed(() => Promise.all([warm.encode(audio, { bandwidthKbps: 6 }), warm.decode(encoded6)]));
  console.log(`node  1 thread, no spin (default)              6 kbps: encode ∥ decode at once ${ms(bothTuned)} (one after the other: ${ms(tuned6.enc + tuned6.dec)})`);
  await warm.release();

  // --- wasm (onnxruntime-web, 1 thread), every bandwidth ------------------------------------
  const [web, tWebLoad] = await timed(() => EncodecModel.create({ config, tensors, runtime: ortWeb as unknown as OrtRuntime, graphCache, preloadBandwidthsKbps: [6] }));
  console.log(`wasm  load (graphs from cache): ${ms(tWebLoad)}`);
  for (const bw of bws) {
    let encoded = await web.encode(audio, { bandwidthKbps: bw });
    const enc = await median(async () => (encoded = await web.encode(audio, { bandwidthKbps: bw })), 1);
    const dec = await median(() => web.decode(encoded), 1);
    const n = results.get(bw)!;
    console.log(
      `wasm  1 thread           ${String(bw).padStart(4)} kbps: encode ${rtf(SECONDS, enc.wall)}, decode ${rtf(SECONDS, dec.wall)}, together ${rtf(SECONDS, enc.wall + dec.wall)} ` +
        `(node is ${((enc.wall + dec.wall) / (n.enc + n.dec)).toFixed(2)}× as fast); per CPU time: together ${rtf(SECONDS, enc.cpu + dec.cpu)}`,
    );
  }
  await web.release();
}

const root = await mkdtemp(path.join(os.tmpdir(), "encstream-bench-"));
console.log(`# @encstream/codec benchmark — ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ""}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`baseline for real-time factors: real time itself (10 s of audio); other ratios as noted`);
const rssStart = process.resourceUsage().maxRSS;
try {
  for (const name of ["24k", "48k"] as const) if (!only || only === name) await benchModel(name, root);
} finally {
  await rm(root, { recursive: true, force: true });
}
const peak = process.resourceUsage().maxRSS / 1024;
console.log(`\npeak RSS: ${peak.toFixed(0)} MiB = ${(peak / (rssStart / 1024)).toFixed(1)}× the RSS at start (${(rssStart / 1024).toFixed(0)} MiB); load average now ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
