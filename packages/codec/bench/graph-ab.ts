// A/B benchmark of graph changes: the graphs built by this checkout (B) against graphs saved from
// a baseline checkout (A), run alternately in one process with the same onnxruntime-node module,
// full-size encodec_24khz architecture with seeded random weights, 6 kbps.
// - offline: 10 s of test_24k.wav encoded (encoder + quantizer) and decoded;
// - frame: one 320-sample frame through the streaming step encoder and step decoder (states carried).
// Each at 1 and 2 intra-op threads (spinning on at 2 threads unless --no-spin). Prints medians and B / A.
// Usage:
//   npx tsx bench/graph-ab.ts --save DIR            write this checkout's graphs to DIR (the baseline)
//   npx tsx bench/graph-ab.ts --baseline DIR [--rounds N] [--threads 1,2] [--no-spin] [--quick]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { parseEncodecConfig } from "../src/config.js";
import { prepareWeights } from "../src/model/prepare-weights.js";
import { buildDecodeGraph, buildEncoderGraph, buildQuantizerEncodeGraph } from "../src/onnx/encodec-graphs.js";
import { buildStreamDecoderGraph, buildStreamEncoderGraph } from "../src/onnx/streaming-graphs.js";
import { nodeSessionOptions } from "../src/node/encodec-node.js";
import { readWav16 } from "../test/support/wav.js";
import { randomWeights } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const NQ = 8; // 6 kbps
const GRAPHS = ["encoder", "quantizer", "decode", "stream-encoder-step", "stream-decoder-step"] as const;
type GraphName = (typeof GRAPHS)[number];

function buildGraphs(): Record<GraphName, Uint8Array> {
  const config = parseEncodecConfig(JSON.parse(readFileSync(path.join(here, "configs", "encodec_24khz.json"), "utf8")));
  const prepared = prepareWeights(config, randomWeights(config, 24));
  return {
    encoder: buildEncoderGraph(prepared),
    quantizer: buildQuantizerEncodeGraph(prepared, NQ),
    decode: buildDecodeGraph(prepared),
    "stream-encoder-step": buildStreamEncoderGraph(prepared, NQ, "step"),
    "stream-decoder-step": buildStreamDecoderGraph(prepared, "step"),
  };
}

const saveDir = arg("--save");
if (saveDir) {
  mkdirSync(saveDir, { recursive: true });
  for (const [name, bytes] of Object.entries(buildGraphs())) writeFileSync(path.join(saveDir, `${name}.onnx`), bytes);
  console.log(`saved ${GRAPHS.length} graphs to ${saveDir}`);
  process.exit(0);
}
const baseDir = arg("--baseline");
if (!baseDir) throw new Error("usage: graph-ab.ts --save DIR | --baseline DIR [--rounds N]");
const quick = args.includes("--quick");
const rounds = Number(arg("--rounds") ?? (quick ? 3 : 6));
const spin = !args.includes("--no-spin");
const threadCounts = (arg("--threads") ?? "1,2").split(",").map(Number);

type Sessions = Record<GraphName, ort.InferenceSession>;
async function open(graphs: Record<GraphName, Uint8Array>, threads: number): Promise<Sessions> {
  const opts = nodeSessionOptions({ intraOpNumThreads: threads, allowSpinning: spin && threads > 1 });
  const out: Partial<Sessions> = {};
  for (const name of GRAPHS) out[name] = await ort.InferenceSession.create(graphs[name], opts);
  return out as Sessions;
}

const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", "test_24k.wav")).channels[0]!;
const audio = wav.subarray(0, 240000);
const now = () => performance.now();

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wall and CPU (all threads of the process) milliseconds of one offline encode + decode. */
async function offline(s: Sessions): Promise<[number, number]> {
  const c0 = cpuMs();
  const t0 = now();
  const emb = (await s.encoder.run({ audio: new ort.Tensor("float32", audio, [1, 1, audio.length]) })).embeddings!;
  const codes = (await s.quantizer.run({ embeddings: emb })).codes!;
  await s.decode.run({ codes });
  return [now() - t0, cpuMs() - c0];
}

/** Zero tensors for every float input of `session` but `skip`, from its metadata. */
function zeroInputs(session: ort.InferenceSession, skip: readonly string[]): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (skip.includes(m.name) || !m.isTensor) continue;
    const dims = m.shape.map((d) => (typeof d === "number" ? d : 1));
    out[m.name] = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }
  return out;
}

/** A stream through the step graphs, one frame per call; returns the wall and CPU times of `count` calls after a warm-up. */
async function frames(s: Sessions, count: number): Promise<[number[], number[]]> {
  let encState = zeroInputs(s["stream-encoder-step"], ["audio"]);
  let decState = zeroInputs(s["stream-decoder-step"], ["codes", "frame_gain"]);
  const gain = new ort.Tensor("float32", new Float32Array([1]), [1, 1, 1]);
  const carry = (out: ort.InferenceSession.ReturnType, inputs: Record<string, ort.Tensor>) => {
    const next: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(inputs)) next[name] = out[name.replace("state_in", "state_out")]!;
    return next;
  };
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < count + 10; i++) {
    const pos = (i * 320) % (audio.length - 320);
    const c0 = cpuMs();
    const t0 = now();
    const e = await s["stream-encoder-step"].run({ audio: new ort.Tensor("float32", audio.slice(pos, pos + 320), [1, 1, 320]), ...encState });
    encState = carry(e, encState);
    const d = await s["stream-decoder-step"].run({ codes: e.codes!, frame_gain: gain, ...decState });
    decState = carry(d, decState);
    if (i >= 10) {
      times.push(now() - t0);
      cpu.push(cpuMs() - c0);
    }
  }
  return [times, cpu];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const a = Object.fromEntries(GRAPHS.map((n) => [n, new Uint8Array(readFileSync(path.join(baseDir!, `${n}.onnx`)))])) as Record<GraphName, Uint8Array>;
  const b = buildGraphs();
  console.log(`# graph A/B — ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ""}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`A = ${baseDir}, B = this checkout; ${rounds} alternating rounds; spinning at 2 threads: ${spin}`);
  console.log(`| case | threads | A median | B median | B / A (wall) | A CPU | B CPU | B / A (CPU) |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  for (const threads of threadCounts) {
    const sa = await open(a, threads);
    const sb = await open(b, threads);
    const off = { a: [] as number[], b: [] as number[], ca: [] as number[], cb: [] as number[] };
    const fr = { a: [] as number[], b: [] as number[], ca: [] as number[], cb: [] as number[] };
    const add = (x: typeof off, side: "a" | "b", wall: number | number[], cpu: number | number[]) => {
      x[side].push(...[wall].flat());
      x[side === "a" ? "ca" : "cb"].push(...[cpu].flat());
    };
    await offline(sa);
    await offline(sb);
    for (let r = 0; r < rounds; r++) {
      add(off, "a", ...(await offline(sa)));
      add(off, "b", ...(await offline(sb)));
      add(fr, "a", ...(await frames(sa, quick ? 50 : 150)));
      add(fr, "b", ...(await frames(sb, quick ? 50 : 150)));
    }
    const row = (name: string, x: typeof off) =>
      console.log(
        `| ${name} | ${threads} | ${median(x.a).toFixed(2)} ms | ${median(x.b).toFixed(2)} ms | ${(median(x.b) / median(x.a)).toFixed(3)} | ${median(x.ca).toFixed(2)} ms | ${median(x.cb).toFixed(2)} ms | ${(median(x.cb) / median(x.ca)).toFixed(3)} |`,
      );
    row("offline 10 s encode + decode", off);
    row("frame encode + decode (step graphs)", fr);
    for (const s of [...Object.values(sa), ...Object.values(sb)]) await s.release();
  }
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}

await main();
