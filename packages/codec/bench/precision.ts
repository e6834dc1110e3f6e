// Benchmark of the int8 and int4 precisions against float32, full-size encodec_24khz architecture (seeded
// random weights, codebooks sampled from encoder residuals) on 10 s of test_24k.wav, 6 kbps, and
// the tiny golden models:
// - fidelity: codes agreement with float32 (all codebooks, codebook 1), SNR of a quantized
//   precision's decoding of float32's codes against float32's decoding, SNR end to end (its encode
//   + decode against float32 encode + decode); offline and frame by frame (streaming, one
//   320-sample frame a call);
// - speed: stateful frame encode + decode (StreamEncoder + StreamDecoder, one frame per push,
//   1 intra-op thread, no spinning), the three precisions alternating in one process; wall and CPU
//   time per frame (CPU time is less disturbed by other processes on the cores); offline 10 s
//   encode + decode at 1 thread.
// Usage: npx tsx bench/precision.ts [--quick]    (writes bench/precision-last-run.txt)
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { parseEncodecConfig, type EncodecConfig } from "../src/config.js";
import { nodeSessionOptions } from "../src/node/encodec-node.js";
import type { CodecPrecision } from "../src/onnx/int8-graph.js";
import { EncodecModel, type EncodedAudio } from "../src/runtime/encodec-model.js";
import { createStreamDecoder } from "../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../src/streaming/stream-encoder.js";
import { StreamingCodec } from "../src/streaming/streaming-codec.js";
import type { TensorMap } from "../src/weights/raw-tensor.js";
import { loadGoldenFixture, TINY_MODELS } from "../test/support/fixtures.js";
import { snrDb, streamFrameByFrame } from "../test/support/streaming-support.js";
import { readWav16 } from "../test/support/wav.js";
import { makeSampledWeights } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const BW = 6;
const HOP = 320;
const lines: string[] = [];
const say = (line: string) => {
  console.log(line);
  lines.push(line);
};
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
const PRECISIONS: readonly CodecPrecision[] = ["float32", "int8", "int4"];
/** The precisions measured against float32. */
const QUANTIZED = PRECISIONS.slice(1);
/** Each precision's session options as `loadEncodec` makes them: one intra-op thread, no spinning, weight prepacking on for int8 only. */
const sessionOptionsFor = (precision: CodecPrecision) => nodeSessionOptions({ intraOpNumThreads: 1, precision });

/** Share of equal codes (all codebooks, codebook 1) between two encodings of the same audio. */
function agreement(a: EncodedAudio, b: EncodedAudio): [number, number] {
  let same = 0;
  let total = 0;
  let first = 0;
  let firstTotal = 0;
  a.frames.forEach((fa, s) => {
    const fb = b.frames[s]!;
    for (let i = 0; i < fa.codes.length; i++) {
      total++;
      if (fa.codes[i] === fb.codes[i]) same++;
      if (i < fa.numFrames) {
        firstTotal++;
        if (fa.codes[i] === fb.codes[i]) first++;
      }
    }
  });
  return [same / total, first / firstTotal];
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const db = (x: number) => `${x.toFixed(1)} dB`;

async function offlineFidelity(name: string, config: EncodecConfig, tensors: TensorMap, audio: Float32Array[]): Promise<void> {
  const [m32, ...quantized] = await Promise.all(PRECISIONS.map((precision) => EncodecModel.create({ config, tensors, runtime: ort, sessionOptions: sessionOptionsFor(precision), precision })));
  const c32 = await m32!.encode(audio, { bandwidthKbps: BW });
  const a32 = await m32!.decode(c32);
  for (const [i, m] of quantized.entries()) {
    const c = await m.encode(audio, { bandwidthKbps: BW });
    const [all, first] = agreement(c32, c);
    say(`| ${name}, offline | ${QUANTIZED[i]} | ${pct(all)} | ${pct(first)} | ${db(snrDb(a32, await m.decode(c32)))} | ${db(snrDb(a32, await m.decode(c)))} |`);
  }
  await Promise.all([m32!, ...quantized].map((m) => m.release()));
}

/** Frame by frame through a stream encoder and decoder (one frame a push): the frames and the audio. */
const streamOnce = (codec: StreamingCodec, audio: Float32Array) => streamFrameByFrame(codec, audio, BW);

/** `codecs` in {@link PRECISIONS} order. */
async function streamFidelity(name: string, codecs: readonly StreamingCodec[], audio: Float32Array): Promise<void> {
  const s32 = await streamOnce(codecs[0]!, audio);
  for (const [i, codec] of codecs.slice(1).entries()) {
    const sq = await streamOnce(codec, audio);
    let same = 0;
    let first = 0;
    let total = 0;
    s32.frames.forEach((fr, j) => {
      fr.codes.forEach((c, q) => {
        total++;
        if (c === sq.frames[j]!.codes[q]) {
          same++;
          if (q === 0) first++;
        }
      });
    });
    say(`| ${name}, frame by frame | ${QUANTIZED[i]} | ${pct(same / total)} | ${pct(first / s32.frames.length)} | — | ${db(snrDb(s32.out, sq.out))} |`);
  }
}

/** CPU (this process, all threads) and wall milliseconds of each of `count` frames, one frame per push, after `warm` frames. */
async function frameTimes(codec: StreamingCodec, audio: Float32Array, count: number, warm = 10): Promise<{ wall: number[]; cpu: number[] }> {
  const encoder = await createStreamEncoder(codec, { bandwidthKbps: BW, start: "zero-state" });
  const decoder = createStreamDecoder(codec, { start: "zero-state" });
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < count + warm; i++) {
    const at = (i * HOP) % (audio.length - HOP);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const fr of await encoder.push([audio.subarray(at, at + HOP)])) await decoder.push(fr);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i >= warm) {
      wall.push(t);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { wall, cpu };
}

const quantile = (xs: readonly number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function main(): Promise<void> {
  const config = parseEncodecConfig(JSON.parse(readFileSync(path.join(here, "configs", "encodec_24khz.json"), "utf8")));
  const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", "test_24k.wav")).channels[0]!;
  const audio = wav.subarray(0, (quick ? 3 : 10) * 24_000);
  say(`# int8 and int4 precisions against float32 — ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ""}, onnxruntime-node ${ort.env.versions?.common ?? ""}, load average ${load()}`);
  const tensors = await makeSampledWeights(config, audio, 24);
  say("");
  say(`## Fidelity at ${BW} kbps (against float32; ${audio.length / 24_000} s of test_24k.wav for the full-size model, the fixtures' inputs for the tiny ones)`);
  say("| model, path | precision | codes equal | codebook 1 equal | SNR, decoding float32's codes | SNR, end to end |");
  say("|---|---|---|---|---|---|");
  await offlineFidelity("full-size 24 kHz (random weights)", config, tensors, [audio]);
  const codecs = await Promise.all(PRECISIONS.map((precision) => StreamingCodec.create({ config, tensors, runtime: ort, sessionOptions: sessionOptionsFor(precision), precision })));
  await streamFidelity("full-size 24 kHz (random weights)", codecs, audio);
  for (const name of TINY_MODELS) {
    const f = loadGoldenFixture(name);
    await offlineFidelity(name, f.config, f.tensors, f.input);
    if (name === "tiny24") {
      const tiny = await Promise.all(PRECISIONS.map((precision) => StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: ort, sessionOptions: sessionOptionsFor(precision), precision })));
      await streamFidelity(name, tiny, f.input[0]!);
      await Promise.all(tiny.map((c) => c.release()));
    }
  }

  say("");
  const rounds = quick ? 3 : 8;
  const perRound = quick ? 60 : 150;
  say(`## Speed, full-size 24 kHz, ${BW} kbps, 1 intra-op thread, no spinning (${rounds} alternating rounds of ${perRound} frames; load average ${load()})`);
  const times = PRECISIONS.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, codec] of codecs.entries()) {
      const t = await frameTimes(codec, audio, perRound);
      times[i]!.wall.push(...t.wall);
      times[i]!.cpu.push(...t.cpu);
    }
  }
  say("| stateful frame encode + decode | wall median | wall p90 | CPU median | CPU p10 |");
  say("|---|---|---|---|---|");
  PRECISIONS.forEach((p, i) => {
    const t = times[i]!;
    say(`| ${p} | ${quantile(t.wall, 0.5).toFixed(3)} ms | ${quantile(t.wall, 0.9).toFixed(3)} ms | ${quantile(t.cpu, 0.5).toFixed(3)} ms | ${quantile(t.cpu, 0.1).toFixed(3)} ms |`);
  });
  const ratioRow = (a: number, b: number) => {
    const ratio = (f: (t: { wall: number[]; cpu: number[] }) => number) => (f(times[a]!) / f(times[b]!)).toFixed(2);
    say(`| ${PRECISIONS[a]} / ${PRECISIONS[b]} | ${ratio((t) => quantile(t.wall, 0.5))} | ${ratio((t) => quantile(t.wall, 0.9))} | ${ratio((t) => quantile(t.cpu, 0.5))} | ${ratio((t) => quantile(t.cpu, 0.1))} |`);
  };
  ratioRow(1, 0);
  ratioRow(2, 0);
  ratioRow(2, 1);
  await Promise.all(codecs.map((c) => c.release()));

  const models = await Promise.all(PRECISIONS.map((precision) => EncodecModel.create({ config, tensors, runtime: ort, sessionOptions: sessionOptionsFor(precision), precision })));
  const offline = PRECISIONS.map(() => [] as number[]);
  // One untimed round first: a session's first two calls at a shape are slow (its memory plan),
  // and the quantized precisions' streaming sides (which code long inputs block by block) are
  // two sessions each.
  for (const model of models) await model.decode(await model.encode([audio], { bandwidthKbps: BW }));
  for (let r = 0; r < (quick ? 1 : 3); r++) {
    for (const [i, model] of models.entries()) {
      const c0 = process.cpuUsage();
      await model.decode(await model.encode([audio], { bandwidthKbps: BW }));
      const c = process.cpuUsage(c0);
      offline[i]!.push((c.user + c.system) / 1000);
    }
  }
  const off = offline.map((xs) => quantile(xs, 0.5));
  const each = PRECISIONS.map((p, i) => `${p} ${off[i]!.toFixed(0)} ms`).join(", ");
  say(`offline ${audio.length / 24_000} s encode + decode, 1 thread, CPU time: ${each} (int8 / float32 ${(off[1]! / off[0]!).toFixed(2)}, int4 / float32 ${(off[2]! / off[0]!).toFixed(2)})`);
  await Promise.all(models.map((m) => m.release()));
  say(`load average after: ${load()}`);
  if (!quick) writeFileSync(path.join(here, "precision-last-run.txt"), `${lines.join("\n")}\n`);
}

await main();
