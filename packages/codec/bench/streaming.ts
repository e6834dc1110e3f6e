// Benchmark of frame-exact streaming with the full-size encodec_24khz architecture (seeded random
// weights, codebooks sampled from encoder residuals) on real audio (test_24k.wav):
// - encode + decode of one 13.3 ms frame per call (and 2 and 4 frames per call) at 6 and 12 kbps,
//   median and p99 per frame, against the stateless baseline measured in the same run: re-running
//   offline encode + decode over the last 1 s window to get one new frame;
// - session options: 1 vs 2 intra-op threads, spinning on/off (encoder and decoder sessions share
//   the process, as in a full-duplex call);
// - chunked streaming (chunk → encode → decode → @encstream/ola join) against offline output of
//   the same model: SNR table over chunk lengths and overlaps on the tiny golden models.
// Usage: npx tsx bench/streaming.ts [--quick] [--no-snr] [--no-wasm]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { OverlapAdd, percentToOverlapRatio, splitIntoChunks } from "@encstream/ola";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { parseEncodecConfig } from "../src/config.js";
import { nodeSessionOptions } from "../src/node/encodec-node.js";
import { EncodecModel } from "../src/runtime/encodec-model.js";
import type { OrtRuntime, OrtSessionOptions } from "../src/runtime/ort-types.js";
import { decodeChunk, encodeChunk } from "../src/streaming/chunk-codec.js";
import { concatCodeBlocks } from "../src/streaming/code-blocks.js";
import { createStreamDecoder } from "../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../src/streaming/stream-encoder.js";
import { StreamingCodec } from "../src/streaming/streaming-codec.js";
import { loadGoldenFixture } from "../test/support/fixtures.js";
import { joinPlanar, snrDb } from "../test/support/streaming-support.js";
import { readWav16 } from "../test/support/wav.js";
import { makeSampledWeights } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.wasmPaths = `${path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web"))}/`;

const now = () => performance.now();
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
function stats(times: number[]): { median: number; p99: number } {
  const s = [...times].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p99: quantile(s, 0.99) };
}

interface StreamTiming {
  readonly median: number;
  readonly p99: number;
  /** Median CPU time (all threads of the process) per frame, ms: robust to other processes sharing the cores. */
  readonly cpuMedian: number;
  readonly encMedian: number;
  readonly decMedian: number;
}

/** Stream `audio` through an encoder and a decoder, `framesPerCall` frames per push; per-frame time of encode + decode. */
async function timeStreaming(codec: StreamingCodec, audio: Float32Array, bw: number, framesPerCall: number, calls: number): Promise<StreamTiming> {
  const hop = codec.hopLengthSamples;
  const encoder = await createStreamEncoder(codec, { bandwidthKbps: bw });
  const decoder = createStreamDecoder(codec);
  // start the stream (the exact start needs 7 frames) and warm the step sessions up
  let pos = 0;
  const feed = async (n: number) => {
    const frames = await encoder.push([audio.subarray(pos, pos + n * hop)]);
    pos += n * hop;
    if (frames.length > 0) await decoder.push(concatCodeBlocks(frames));
  };
  await feed(encoder.startupFrames);
  for (let i = 0; i < 20; i++) await feed(framesPerCall);
  const total: number[] = [];
  const cpu: number[] = [];
  const enc: number[] = [];
  const dec: number[] = [];
  for (let i = 0; i < calls; i++) {
    if (pos + framesPerCall * hop > audio.length) pos = 0; // wrap around (the state carries on: fine for timing)
    const c0 = process.cpuUsage();
    const t0 = now();
    const frames = await encoder.push([audio.subarray(pos, pos + framesPerCall * hop)]);
    const t1 = now();
    await decoder.push(concatCodeBlocks(frames));
    const t2 = now();
    const c1 = process.cpuUsage(c0);
    cpu.push((c1.user + c1.system) / 1000 / framesPerCall);
    pos += framesPerCall * hop;
    total.push((t2 - t0) / framesPerCall);
    enc.push((t1 - t0) / framesPerCall);
    dec.push((t2 - t1) / framesPerCall);
  }
  const s = stats(total);
  return { ...s, cpuMedian: stats(cpu).median, encMedian: stats(enc).median, decMedian: stats(dec).median };
}

/** One side alone, as a sender (encoder only) or a receiver (decoder only, fed with codes encoded beforehand), 1 frame per call. */
async function timeOneSide(codec: StreamingCodec, audio: Float32Array, bw: number, calls: number): Promise<{ enc: StreamTiming; dec: StreamTiming }> {
  const hop = codec.hopLengthSamples;
  const encoder = await createStreamEncoder(codec, { bandwidthKbps: bw });
  const frames = [...(await encoder.push([audio.subarray(0, (calls + 40) * hop)]))];
  const time = async (step: (i: number) => Promise<unknown>): Promise<StreamTiming> => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < calls; i++) {
      const c0 = process.cpuUsage();
      const t0 = now();
      await step(i);
      const c1 = process.cpuUsage(c0);
      wall.push(now() - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
    const w = stats(wall);
    return { ...w, cpuMedian: stats(cpu).median, encMedian: 0, decMedian: 0 };
  };
  let pos = (calls + 40) * hop;
  for (let i = 0; i < 20; i++) await encoder.push([audio.subarray(pos, (pos += hop))]);
  const enc = await time(() => encoder.push([audio.subarray(pos, (pos += hop))]));
  const decoder = createStreamDecoder(codec);
  for (let i = 0; i < 27; i++) await decoder.push(frames[i]!);
  const dec = await time((i) => decoder.push(frames[27 + i]!));
  return { enc, dec };
}

/** The stateless baseline: offline encode + decode of the last 1 s window, for one new frame per call. */
async function timeWindowBaseline(model: EncodecModel, audio: Float32Array, bw: number, calls: number): Promise<{ median: number; p99: number; cpuMedian: number }> {
  const window = model.sampleRateHz;
  const hop = model.hopLengthSamples;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = -3; i < calls; i++) {
    const end = window + ((i + 3) * hop) % (audio.length - window);
    const c0 = process.cpuUsage();
    const t0 = now();
    const encoded = await model.encode([audio.subarray(end - window, end)], { bandwidthKbps: bw });
    await model.decode(encoded);
    const c1 = process.cpuUsage(c0);
    if (i >= 0) {
      times.push(now() - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
  }
  return { ...stats(times), cpuMedian: stats(cpu).median };
}

async function benchFrames(): Promise<void> {
  const config = parseEncodecConfig(JSON.parse(readFileSync(path.join(here, "configs", "encodec_24khz.json"), "utf8")));
  const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", "test_24k.wav")).channels[0]!;
  const audio = wav.subarray(0, 10 * config.sampleRateHz);
  const t0 = now();
  const tensors = await makeSampledWeights(config, audio, 24);
  const params = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  console.log(`\n## Frame-exact streaming, encodec_24khz architecture (${(params / 1e6).toFixed(2)} M parameters, seeded random weights; made in ${(now() - t0).toFixed(0)} ms)`);
  const calls = quick ? 100 : 400;
  const baselineCalls = quick ? 10 : 30;
  const bandwidths = [6, 12];

  const tuned = nodeSessionOptions({ intraOpNumThreads: 1, allowSpinning: false });
  const t1 = now();
  const codec = await StreamingCodec.create({ config, tensors, runtime: ortNode, sessionOptions: tuned, preloadBandwidthsKbps: bandwidths });
  console.log(`streaming graphs built and opened (decoder + 2 bandwidths × first/step encoders): ${(now() - t1).toFixed(0)} ms`);
  const model = await EncodecModel.create({ config, tensors, runtime: ortNode, sessionOptions: tuned, preloadBandwidthsKbps: bandwidths });

  console.log(`\nonnxruntime-node, 1 intra-op thread, no spinning; ${calls} calls per row on test_24k.wav; time per 13.3 ms frame (encode + decode)`);
  console.log(`| bandwidth | frames per call | median | p99 | CPU median | encode / decode median | real-time factor | baseline: 1 s window re-encoded + decoded per frame, median (CPU) | speed-up (wall, CPU) |`);
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  for (const bw of bandwidths) {
    const base = await timeWindowBaseline(model, audio, bw, baselineCalls);
    for (const n of [1, 2, 4]) {
      const s = await timeStreaming(codec, audio, bw, n, Math.ceil(calls / n));
      console.log(
        `| ${bw} kbps | ${n} | ${fmt(s.median)} | ${fmt(s.p99)} | ${fmt(s.cpuMedian)} | ${fmt(s.encMedian)} / ${fmt(s.decMedian)} | ${(13.333 / s.median).toFixed(1)}× | ${n === 1 ? `${fmt(base.median)} (${fmt(base.cpuMedian)})` : ""} | ${(base.median / s.median).toFixed(0)}×, ${(base.cpuMedian / s.cpuMedian).toFixed(0)}× |`,
      );
    }
  }
  const side = await timeOneSide(codec, audio, 6, calls);
  console.log(`\none side per process, 6 kbps, 1 frame per call (the other side's weights do not compete for the cache):`);
  console.log(`| side | median | p99 | CPU median |`);
  console.log(`|---|---|---|---|`);
  console.log(`| encoder only (sender) | ${fmt(side.enc.median)} | ${fmt(side.enc.p99)} | ${fmt(side.enc.cpuMedian)} |`);
  console.log(`| decoder only (receiver) | ${fmt(side.dec.median)} | ${fmt(side.dec.p99)} | ${fmt(side.dec.cpuMedian)} |`);
  await model.release();
  await codec.release();

  // --- session options ---------------------------------------------------------------------
  const variants: Array<[string, OrtSessionOptions]> = [
    ["1 thread, no spinning (default of loadStreamingCodec)", tuned],
    ["1 thread, spinning", nodeSessionOptions({ intraOpNumThreads: 1, allowSpinning: true })],
    ["2 threads, no spinning", nodeSessionOptions({ intraOpNumThreads: 2, allowSpinning: false })],
    ["2 threads, spinning", nodeSessionOptions({ intraOpNumThreads: 2, allowSpinning: true })],
    ["ORT defaults (threads = cores, spinning)", {}],
  ];
  console.log(`\nsession options, 6 kbps, 1 frame per call (encoder and decoder sessions in one process):`);
  console.log(`| options | median | p99 | CPU median | vs default of loadStreamingCodec (wall) |`);
  console.log(`|---|---|---|---|---|`);
  let reference = 0;
  for (const [label, sessionOptions] of variants) {
    const c = await StreamingCodec.create({ config, tensors, runtime: ortNode, sessionOptions, preloadBandwidthsKbps: [6] });
    const s = await timeStreaming(c, audio, 6, 1, calls);
    if (reference === 0) reference = s.median;
    console.log(`| ${label} | ${fmt(s.median)} | ${fmt(s.p99)} | ${fmt(s.cpuMedian)} | ${(s.median / reference).toFixed(2)}× |`);
    await c.release();
  }

  if (!args.includes("--no-wasm")) {
    const c = await StreamingCodec.create({ config, tensors, runtime: ortWeb as unknown as OrtRuntime, preloadBandwidthsKbps: [6] });
    const s = await timeStreaming(c, audio, 6, 1, Math.ceil(calls / 4));
    console.log(`\nonnxruntime-web (wasm, 1 thread), 6 kbps, 1 frame per call: median ${fmt(s.median)}, p99 ${fmt(s.p99)} (${(s.median / reference).toFixed(2)}× node)`);
    await c.release();
  }
}

async function benchChunkedSnr(): Promise<void> {
  const seconds = quick ? 2 : 4;
  const bw = 6;
  console.log(`\n## Chunked streaming vs offline (SNR in dB of chunk → encode → decode → @encstream/ola join against offline decode(encode(x)); ${bw} kbps, ${seconds} s of test_*.wav from 2 s, tiny golden models)`);
  for (const name of ["tiny24", "tiny48"] as const) {
    const f = loadGoldenFixture(name);
    const model = await EncodecModel.create({ config: f.config, tensors: f.tensors, runtime: ortNode, sessionOptions: nodeSessionOptions({}) });
    const rate = f.config.sampleRateHz;
    const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", `test_${rate / 1000}k.wav`)).channels;
    const audio = wav.map((c) => c.slice(2 * rate, (2 + seconds) * rate));
    const offline = await model.decode(await model.encode(audio, { bandwidthKbps: bw }));
    const overlaps = [1, 10, 25, 50];
    console.log(`\n${name} (${rate / 1000} kHz, ${audio.length} channel(s)); offline vs input: ${snrDb(audio, offline).toFixed(1)} dB (random weights)`);
    console.log(`| chunk | ${overlaps.map((p) => `${p} % overlap`).join(" | ")} |`);
    console.log(`|---|${overlaps.map(() => "---").join("|")}|`);
    for (const chunkS of [0.1, 0.25, 0.5, 1]) {
      const cells: string[] = [];
      for (const pct of overlaps) {
        const options = { chunkSamples: Math.round(chunkS * rate), overlapRatio: percentToOverlapRatio(pct) };
        const ola = new OverlapAdd({ channels: audio.length, ...options });
        const parts: Float32Array[][] = [];
        for (const chunk of splitIntoChunks(audio, options)) {
          const coded = await encodeChunk(model, chunk.samples, { bandwidthKbps: bw });
          parts.push(ola.push(await decodeChunk(model, coded), chunk));
        }
        parts.push(ola.flush());
        cells.push(snrDb(offline, joinPlanar(parts, audio.length)).toFixed(1));
      }
      console.log(`| ${chunkS} s | ${cells.join(" | ")} |`);
    }
    await model.release();
  }
}

console.log(`# @encstream/codec streaming benchmark — ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ""}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
await benchFrames();
if (!args.includes("--no-snr")) await benchChunkedSnr();
