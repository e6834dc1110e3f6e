// Per-operator profile of the stateful frame's step graphs (encoder + quantizer, decoder), full-size
// encodec_24khz architecture with seeded random weights, 6 kbps, 1 intra-op thread: each step graph
// runs one 320-sample frame per call, states carried, in a session with ONNX Runtime's profiler on;
// prints the kernel time per frame by operator type and the heaviest nodes, per side, beside the
// node count and the wall time of a call without the profiler.
// With --baseline DIR (encoder.onnx and decoder.onnx step graphs saved from another checkout with
// --save DIR), the wall and CPU time a frame of both, alternating, and B / A.
// Usage: npx tsx bench/int8-profile.ts [--precision int8|float32] [--codebooks N] [--frames N] [--top N] [--dir DIR] [--save DIR | --baseline DIR]
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { parseEncodecConfig } from "../src/config.js";
import { decodeOnnxModel } from "../src/internal/onnx-reader.js";
import { prepareWeights } from "../src/model/prepare-weights.js";
import { nodeSessionOptions } from "../src/node/encodec-node.js";
import { checkPrecision } from "../src/onnx/int8-graph.js";
import { combinePhaseGraphs, PHASE_INPUT } from "../src/onnx/phase-graph.js";
import { buildStreamDecoderGraph, buildStreamEncoderGraph } from "../src/onnx/streaming-graphs.js";
import { readWav16 } from "../test/support/wav.js";
import { randomWeights } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const precision = checkPrecision(arg("--precision") ?? "int8");
const count = Number(arg("--frames") ?? 200);
const top = Number(arg("--top") ?? 25);
const dir = arg("--dir") ?? path.join(os.tmpdir(), "encstream-profile");
const NQ = Number(arg("--codebooks") ?? 8); // 8 at 6 kbps
const HOP = 320;

const config = parseEncodecConfig(JSON.parse(readFileSync(path.join(here, "configs", "encodec_24khz.json"), "utf8")));
const prepared = prepareWeights(config, randomWeights(config, 24));
const graphs = { encoder: buildStreamEncoderGraph(prepared, NQ, "step", precision), decoder: buildStreamDecoderGraph(prepared, "step", precision) };
const audio = readWav16(path.join(here, "..", "test", "fixtures", "audio", "test_24k.wav")).channels[0]!;

function zeroState(session: ort.InferenceSession): ort.Tensor {
  const m = session.inputMetadata.find((x) => x.name === "state_in");
  if (!m || !m.isTensor) throw new Error("no state_in");
  const dims = m.shape.map((d) => (typeof d === "number" ? d : 1));
  return new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
}

/** Run `n` frames through both step graphs (with the phase flag false when `phased`); returns the wall ms of each side's calls. */
async function run(enc: ort.InferenceSession, dec: ort.InferenceSession, n: number, phased = false): Promise<{ enc: number[]; dec: number[] }> {
  const flag: Record<string, ort.Tensor> = phased ? { [PHASE_INPUT]: new ort.Tensor("bool", new Uint8Array([0]), []) } : {};
  let es = zeroState(enc);
  let ds = zeroState(dec);
  const gain = new ort.Tensor("float32", new Float32Array([1]), [1, 1, 1]);
  const t = { enc: [] as number[], dec: [] as number[] };
  for (let i = 0; i < n; i++) {
    const at = (i * HOP) % (audio.length - HOP);
    const t0 = performance.now();
    const e = await enc.run({ audio: new ort.Tensor("float32", audio.slice(at, at + HOP), [1, 1, HOP]), state_in: es, ...flag });
    const t1 = performance.now();
    const d = await dec.run({ codes: e.codes!, frame_gain: gain, state_in: ds, ...flag });
    t.enc.push(t1 - t0);
    t.dec.push(performance.now() - t1);
    es = e.state_out!;
    ds = d.state_out!;
  }
  return t;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

function report(side: string, file: string, frames: number, bytes: Uint8Array): void {
  const events = (JSON.parse(readFileSync(file, "utf8")) as ProfileEvent[]).filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  const graph = decodeOnnxModel(bytes).graph;
  const byOp = new Map<string, { us: number; calls: number }>();
  const byNode = new Map<string, { op: string; us: number }>();
  let total = 0;
  for (const e of events) {
    const op = e.args?.op_name ?? "?";
    const o = byOp.get(op) ?? { us: 0, calls: 0 };
    o.us += e.dur;
    o.calls++;
    byOp.set(op, o);
    const name = e.name.replace(/_kernel_time$/, "");
    const nd = byNode.get(name) ?? { op, us: 0 };
    nd.us += e.dur;
    byNode.set(name, nd);
    total += e.dur;
  }
  console.log(`\n## ${side}: ${graph.nodes.length} nodes in the graph, ${(events.length / frames).toFixed(0)} kernels run a frame, kernel time ${(total / frames).toFixed(0)} µs a frame`);
  console.log("| op | µs / frame | share | kernels / frame |");
  console.log("|---|---|---|---|");
  for (const [op, o] of [...byOp].sort((a, b) => b[1].us - a[1].us)) {
    console.log(`| ${op} | ${(o.us / frames).toFixed(1)} | ${((100 * o.us) / total).toFixed(1)} % | ${(o.calls / frames).toFixed(0)} |`);
  }
  console.log(`| node (top ${top}) | op | µs / frame |`);
  console.log("|---|---|---|");
  for (const [name, nd] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, top)) console.log(`| ${name} | ${nd.op} | ${(nd.us / frames).toFixed(1)} |`);
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Alternate rounds of frames through the baseline's step graphs (A) and this checkout's (B). */
async function compare(baseDir: string, opts: ort.InferenceSession.SessionOptions): Promise<void> {
  const open = async (enc: Uint8Array, dec: Uint8Array) => [await ort.InferenceSession.create(enc, opts), await ort.InferenceSession.create(dec, opts)] as const;
  const a = await open(readFileSync(path.join(baseDir, "encoder.onnx")), readFileSync(path.join(baseDir, "decoder.onnx")));
  const b = await open(graphs.encoder, graphs.decoder);
  const res = { a: { wall: [] as number[], cpu: [] as number[] }, b: { wall: [] as number[], cpu: [] as number[] } };
  for (const s of [a, b]) await run(s[0], s[1], 20);
  const per = 25;
  for (let r = 0; r < count / per; r++) {
    for (const [name, s] of [["a", a], ["b", b]] as const) {
      for (let i = 0; i < per; i++) {
        const c0 = cpuMs();
        const t = await run(s[0], s[1], 1);
        res[name].cpu.push(cpuMs() - c0);
        res[name].wall.push(t.enc[0]! + t.dec[0]!);
      }
    }
  }
  const m = (x: number[]) => median(x).toFixed(3);
  console.log(`A/B, frame encode + decode (step graphs, ${count} frames each): A ${m(res.a.wall)} ms wall / ${m(res.a.cpu)} ms CPU; B ${m(res.b.wall)} / ${m(res.b.cpu)}; B / A ${(median(res.b.wall) / median(res.a.wall)).toFixed(3)} wall, ${(median(res.b.cpu) / median(res.a.cpu)).toFixed(3)} CPU`);
  for (const s of [...a, ...b]) await s.release();
}

async function main(): Promise<void> {
  const save = arg("--save");
  if (save) {
    mkdirSync(save, { recursive: true });
    writeFileSync(path.join(save, "encoder.onnx"), graphs.encoder);
    writeFileSync(path.join(save, "decoder.onnx"), graphs.decoder);
    console.log(`saved the ${precision} step graphs to ${save}`);
    return;
  }
  console.log(`# step-graph profile, ${precision}, full-size 24 kHz, ${NQ} codebooks, 1 intra-op thread, ${count} frames — load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  const base = nodeSessionOptions({ intraOpNumThreads: 1, precision });
  const baseline = arg("--baseline");
  if (baseline) {
    await compare(baseline, base);
    return;
  }
  const enc = await ort.InferenceSession.create(graphs.encoder, base);
  const dec = await ort.InferenceSession.create(graphs.decoder, base);
  await run(enc, dec, 20);
  const phases = {
    encoder: combinePhaseGraphs(buildStreamEncoderGraph(prepared, NQ, "first", precision), graphs.encoder, "encoder-phases"),
    decoder: combinePhaseGraphs(buildStreamDecoderGraph(prepared, "first", precision), graphs.decoder, "decoder-phases"),
  };
  const cenc = await ort.InferenceSession.create(phases.encoder, base);
  const cdec = await ort.InferenceSession.create(phases.decoder, base);
  await run(cenc, cdec, 20, true);
  const a = { enc: [] as number[], dec: [] as number[] };
  const b = { enc: [] as number[], dec: [] as number[] };
  for (let r = 0; r < 4; r++) {
    const x = await run(enc, dec, count / 4);
    const y = await run(cenc, cdec, count / 4, true);
    a.enc.push(...x.enc);
    a.dec.push(...x.dec);
    b.enc.push(...y.enc);
    b.dec.push(...y.dec);
  }
  const line = (name: string, t: typeof a) => console.log(`wall a call (median), ${name}: encoder ${median(t.enc).toFixed(3)} ms, decoder ${median(t.dec).toFixed(3)} ms, frame ${(median(t.enc) + median(t.dec)).toFixed(3)} ms`);
  line("step graphs alone", a);
  line("step as the If branch of one graph a side", b);
  for (const s of [enc, dec, cenc, cdec]) await s.release();

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const prof = (side: string) => ({ ...base, enableProfiling: true, profileFilePrefix: path.join(dir, side) });
  const penc = await ort.InferenceSession.create(graphs.encoder, prof("encoder"));
  const pdec = await ort.InferenceSession.create(graphs.decoder, prof("decoder"));
  await run(penc, pdec, count);
  penc.endProfiling();
  pdec.endProfiling();
  const files = readdirSync(dir);
  for (const side of ["encoder", "decoder"] as const) {
    const f = files.find((x) => x.startsWith(side));
    if (!f) throw new Error(`no profile for ${side} in ${dir}`);
    report(side, path.join(dir, f), count, graphs[side]);
  }
  await penc.release();
  await pdec.release();
}

await main();
