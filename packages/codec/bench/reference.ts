// encstream beside the official EnCodec implementation, in one alternating run: its ONNX export
// (torch.onnx.export, built by bench/reference-export.py from a user-provided checkout of
// facebookresearch/encodec) on the same onnxruntime-node module with the same session options,
// and PyTorch itself (a python process per round). Full-size encodec_24khz architecture with
// seeded random weights, 6 kbps, 10 s of test_24k.wav. Also: load from the graph cache (offline
// and streaming, fresh processes) and peak RSS of a sender-only and a receiver-only process.
// Usage:
//   python3 bench/reference-export.py export --encodec-src SRC --config bench/configs/encodec_24khz.json --out EXPORT_DIR
//   npx tsx bench/reference.ts --export EXPORT_DIR [--encodec-src SRC] [--python python3] [--rounds N] [--threads 1,2] [--spin] [--only frame]
// Wall and CPU time (process.cpuUsage, all threads) per call; the ratios of both are printed. --spin lets
// the intra-op threads of both encstream's and the export's sessions spin (ONNX Runtime's allow_spinning);
// --only frame skips the offline rows, PyTorch and the load/RSS table.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { parseEncodecConfig } from "../src/config.js";
import { loadEncodec, nodeSessionOptions } from "../src/node/encodec-node.js";
import { createStreamDecoder } from "../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../src/streaming/stream-encoder.js";
import { loadStreamingCodec } from "../src/streaming/node/load-streaming-codec.js";
import { readWav16 } from "../test/support/wav.js";
import { randomWeights, writeSafetensors } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const configFile = path.join(here, "configs", "encodec_24khz.json");
const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", "test_24k.wav")).channels[0]!;
const audio = wav.slice(0, 240000);
const BW = 6;
const now = () => performance.now();
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** CPU milliseconds of this process so far (user + system, all threads). */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Peak resident set of this process in MiB (VmHWM: reset by exec, unlike getrusage's maxrss, which a spawned child inherits from its parent). */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** Child mode: load one thing from a warm cache in a fresh process, print JSON {loadMs, frameMs?, maxRssMiB}. */
async function child(kind: string, modelDir: string, cacheDir: string): Promise<void> {
  const c0 = process.cpuUsage();
  const cpuMs = () => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const t0 = now();
  let frameMs: number | undefined;
  if (kind === "offline") {
    const m = await loadEncodec(modelDir, { cacheDir, preloadBandwidthsKbps: [BW] });
    const loadMs = now() - t0;
    const loadCpuMs = cpuMs();
    await m.release();
    console.log(JSON.stringify({ loadMs, loadCpuMs, maxRssMiB: peakRssMiB() }));
    return;
  }
  const side = kind === "send" ? "encoder" : "decoder";
  const codec = await loadStreamingCodec(modelDir, { cacheDir, sides: [side], ...(side === "encoder" ? { preloadBandwidthsKbps: [BW] } : {}) });
  const loadMs = now() - t0;
  const loadCpuMs = cpuMs();
  const times: number[] = [];
  if (side === "encoder") {
    const enc = await createStreamEncoder(codec, { bandwidthKbps: BW });
    for (let i = 0; i < 300; i++) {
      const t = now();
      await enc.push([audio.subarray(i * 320, (i + 1) * 320)]);
      if (i > 20) times.push(now() - t);
    }
  } else {
    const dec = createStreamDecoder(codec);
    const codes = new Uint16Array(8);
    for (let i = 0; i < 300; i++) {
      codes.forEach((_, q) => (codes[q] = (i * 37 + q * 101) % 1024));
      const t = now();
      await dec.push({ codes, numCodebooks: 8, numFrames: 1 });
      if (i > 20) times.push(now() - t);
    }
  }
  frameMs = median(times);
  await codec.release();
  console.log(JSON.stringify({ loadMs, loadCpuMs, frameMs, maxRssMiB: peakRssMiB() }));
}

/**
 * Child mode for one side per process: encstream's stream encoder (decoder) alone against the
 * export's stateless frame encoder (decoder), alternating in this fresh process; prints JSON
 * {ours: [wall, cpu], theirs: [wall, cpu]} medians per frame.
 */
async function sideChild(side: "encoder" | "decoder", modelDir: string, cacheDir: string, exportDir: string, threads: number, spin: boolean, rounds: number): Promise<void> {
  const load = { cacheDir, intraOpNumThreads: threads, allowSpinning: spin, sides: [side], ...(side === "encoder" ? { preloadBandwidthsKbps: [BW] } : {}) };
  const codec = await loadStreamingCodec(modelDir, load);
  const opts = nodeSessionOptions({ intraOpNumThreads: threads, allowSpinning: spin });
  const frameAudio = new ort.Tensor("float32", audio.slice(0, 320), [1, 1, 320]);
  let ours: () => Promise<void>;
  let theirs: () => Promise<void>;
  let exported: ort.InferenceSession;
  if (side === "encoder") {
    const enc = await createStreamEncoder(codec, { bandwidthKbps: BW });
    let pos = 0;
    ours = async () => {
      if (pos + 320 > audio.length) pos = 0;
      await enc.push([audio.subarray(pos, (pos += 320))]);
    };
    exported = await ort.InferenceSession.create(path.join(exportDir, "encode-frame.onnx"), opts);
    theirs = async () => void (await exported.run({ audio: frameAudio }));
  } else {
    const dec = createStreamDecoder(codec);
    const codes = new Uint16Array(8);
    let i = 0;
    ours = async () => {
      i++;
      codes.forEach((_, q) => (codes[q] = (i * 37 + q * 101) % 1024));
      await dec.push({ codes, numCodebooks: 8, numFrames: 1 });
    };
    const encFr = await ort.InferenceSession.create(path.join(exportDir, "encode-frame.onnx"), nodeSessionOptions());
    const frameCodes = (await encFr.run({ audio: frameAudio })).codes!;
    await encFr.release();
    exported = await ort.InferenceSession.create(path.join(exportDir, "decode-frame.onnx"), opts);
    theirs = async () => void (await exported.run({ codes: frameCodes }));
  }
  const t = { ours: [[], []] as number[][], theirs: [[], []] as number[][] };
  const frames = async (fn: () => Promise<void>, into: number[][] | null) => {
    for (let i = 0; i < 100; i++) {
      const c0 = cpuNow();
      const t0 = now();
      await fn();
      if (into && i >= 10) {
        into[0]!.push(now() - t0);
        into[1]!.push(cpuNow() - c0);
      }
    }
  };
  for (let r = -1; r < rounds; r++) {
    await frames(ours, r >= 0 ? t.ours : null);
    await frames(theirs, r >= 0 ? t.theirs : null);
  }
  console.log(JSON.stringify({ ours: t.ours.map(median), theirs: t.theirs.map(median) }));
  await exported.release();
  await codec.release();
}

if (args[0] === "--child") {
  await child(args[1]!, args[2]!, args[3]!);
  process.exit(0);
}
if (args[0] === "--side-child") {
  await sideChild(args[1] as "encoder" | "decoder", args[2]!, args[3]!, args[4]!, Number(args[5]), args[6] === "spin", Number(args[7]));
  process.exit(0);
}

const exportDir = arg("--export");
if (!exportDir) throw new Error("usage: reference.ts --export DIR [--encodec-src SRC] [--python python3] [--rounds N] [--threads 1,2]");
const encodecSrc = arg("--encodec-src");
const python = arg("--python") ?? "python3";
const rounds = Number(arg("--rounds") ?? 3);
const threadCounts = (arg("--threads") ?? "1,2").split(",").map(Number);
const spin = args.includes("--spin");
const frameOnly = arg("--only") === "frame";

const work = mkdtempSync(path.join(os.tmpdir(), "encstream-reference-"));
const modelDir = path.join(work, "model");
const cacheDir = path.join(work, "cache");
{
  const { mkdirSync } = await import("node:fs");
  mkdirSync(modelDir);
  const config = parseEncodecConfig(JSON.parse(readFileSync(configFile, "utf8")));
  writeFileSync(path.join(modelDir, "config.json"), readFileSync(configFile));
  writeFileSync(path.join(modelDir, "model.safetensors"), writeSafetensors(randomWeights(config, 24)));
}
const audioFile = path.join(work, "audio.f32");
writeFileSync(audioFile, new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength));

interface Timed {
  offline: number[];
  frame: number[];
  offlineCpu: number[];
  frameCpu: number[];
}
const empty = (): Timed => ({ offline: [], frame: [], offlineCpu: [], frameCpu: [] });

async function main(): Promise<void> {
  console.log(`# encstream vs the official EnCodec export and PyTorch — ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ""}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`full-size encodec_24khz architecture, seeded random weights, ${BW} kbps, 10 s of test_24k.wav; ${rounds} alternating rounds; onnxruntime-node ${ort.env.versions?.common ?? ""}; same session options for encstream and the export (intra-op threads as listed, ${spin ? "spinning" : "no spinning"}); wall and CPU (process.cpuUsage) medians per call`);
  // Build the graphs once (cold), so every timed load below is from the cache.
  await (await loadEncodec(modelDir, { cacheDir, preloadBandwidthsKbps: [BW] })).release();
  await (await loadStreamingCodec(modelDir, { cacheDir, preloadBandwidthsKbps: [BW] })).release();

  console.log(`\n| case | threads | encstream wall | export wall | encstream / export (wall) | encstream CPU | export CPU | encstream / export (CPU) | PyTorch | encstream / PyTorch |`);
  console.log(`|---|---|---|---|---|---|---|---|---|---|`);
  for (const threads of threadCounts) {
    const load = { intraOpNumThreads: threads, allowSpinning: spin, cacheDir, preloadBandwidthsKbps: [BW] };
    const model = frameOnly ? null : await loadEncodec(modelDir, load);
    const codec = await loadStreamingCodec(modelDir, load);
    const opts = nodeSessionOptions({ intraOpNumThreads: threads, allowSpinning: spin });
    const ex = {
      ...(frameOnly
        ? {}
        : {
            encOff: await ort.InferenceSession.create(path.join(exportDir!, "encode-offline.onnx"), opts),
            decOff: await ort.InferenceSession.create(path.join(exportDir!, "decode-offline.onnx"), opts),
          }),
      encFr: await ort.InferenceSession.create(path.join(exportDir!, "encode-frame.onnx"), opts),
      decFr: await ort.InferenceSession.create(path.join(exportDir!, "decode-frame.onnx"), opts),
    };
    const ours = empty();
    const theirs = empty();
    const torch = empty();
    const encoder = await createStreamEncoder(codec, { bandwidthKbps: BW });
    const decoder = createStreamDecoder(codec);
    let pos = 0;
    const ourFrame = async () => {
      if (pos + 320 > audio.length) pos = 0;
      const frames = await encoder.push([audio.subarray(pos, (pos += 320))]);
      for (const f of frames) await decoder.push(f);
    };
    for (let i = 0; i < 30; i++) await ourFrame(); // startup
    const frameAudio = new ort.Tensor("float32", audio.slice(0, 320), [1, 1, 320]);
    const theirFrame = async () => {
      const { codes } = await ex.encFr.run({ audio: frameAudio });
      await ex.decFr.run({ codes: codes! });
    };
    const frames = async (fn: () => Promise<void>, into: Timed | null) => {
      for (let i = 0; i < 110; i++) {
        const c = cpuNow();
        const t = now();
        await fn();
        if (into && i >= 10) {
          into.frame.push(now() - t);
          into.frameCpu.push(cpuNow() - c);
        }
      }
    };
    const offline = async (fn: () => Promise<void>, into: Timed | null) => {
      const c = cpuNow();
      const t = now();
      await fn();
      if (into) {
        into.offline.push(now() - t);
        into.offlineCpu.push(cpuNow() - c);
      }
    };
    for (let r = -1; r < rounds; r++) {
      const keep = r >= 0;
      if (model && ex.encOff && ex.decOff) {
        const { encOff, decOff } = ex;
        await offline(async () => void (await model.decode(await model.encode([audio], { bandwidthKbps: BW }))), keep ? ours : null);
        await offline(async () => {
          const { codes } = await encOff.run({ audio: new ort.Tensor("float32", audio, [1, 1, audio.length]) });
          await decOff.run({ codes: codes! });
        }, keep ? theirs : null);
      }
      await frames(ourFrame, keep ? ours : null);
      await frames(theirFrame, keep ? theirs : null);
      if (keep && encodecSrc && !frameOnly) {
        const out = execFileSync(python, [path.join(here, "reference-export.py"), "time-torch", "--encodec-src", encodecSrc, "--config", configFile, "--bandwidth", String(BW), "--threads", String(threads), "--audio", audioFile, "--rounds", "1"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        const j = JSON.parse(out.trim().split("\n").pop()!) as { offline: number; frame: number };
        torch.offline.push(j.offline);
        torch.frame.push(j.frame);
      }
    }
    const row = (name: string, a: number[], b: number[], ac: number[], bc: number[], c: number[]) =>
      console.log(
        `| ${name} | ${threads} | ${median(a).toFixed(2)} ms | ${median(b).toFixed(2)} ms | **${(median(a) / median(b)).toFixed(2)}** (${(median(b) / median(a)).toFixed(2)}× faster) | ${median(ac).toFixed(2)} ms | ${median(bc).toFixed(2)} ms | **${(median(ac) / median(bc)).toFixed(2)}** (${(median(bc) / median(ac)).toFixed(2)}× faster) | ${c.length ? `${median(c).toFixed(2)} ms` : "-"} | ${c.length ? (median(a) / median(c)).toFixed(3) : "-"} |`,
      );
    if (model) row("offline 10 s encode + decode", ours.offline, theirs.offline, ours.offlineCpu, theirs.offlineCpu, torch.offline);
    row("320-sample frame encode + decode, one process (encstream stateful, export stateless)", ours.frame, theirs.frame, ours.frameCpu, theirs.frameCpu, torch.frame);
    await model?.release();
    await codec.release();
    for (const s of Object.values(ex)) await s.release();
    // One side per process: each side's frame in a fresh process of its own, against the export's frame graph of that side.
    for (const side of ["encoder", "decoder"] as const) {
      const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--side-child", side, modelDir, cacheDir, exportDir!, String(threads), spin ? "spin" : "no-spin", String(rounds)], { encoding: "utf8" });
      const r = JSON.parse(out.trim().split("\n").pop()!) as { ours: [number, number]; theirs: [number, number] };
      const line = `| 320-sample frame, ${side} only in its process | ${threads} | ${r.ours[0].toFixed(2)} ms | ${r.theirs[0].toFixed(2)} ms | **${(r.ours[0] / r.theirs[0]).toFixed(2)}** | ${r.ours[1].toFixed(2)} ms | ${r.theirs[1].toFixed(2)} ms | **${(r.ours[1] / r.theirs[1]).toFixed(2)}** | - | - |`;
      console.log(line);
    }
  }
  if (frameOnly) {
    console.log(`\nload average after: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    return;
  }

  // Load from the warm cache and peak RSS, each in a fresh process.
  const runChild = (kind: string) =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--child", kind, modelDir, cacheDir], { encoding: "utf8" }).trim().split("\n").pop()!) as {
      loadMs: number;
      loadCpuMs: number;
      frameMs?: number;
      maxRssMiB: number;
    };
  const t0 = now();
  const e1 = await ort.InferenceSession.create(path.join(exportDir!, "encode-offline.onnx"), nodeSessionOptions());
  const e2 = await ort.InferenceSession.create(path.join(exportDir!, "decode-offline.onnx"), nodeSessionOptions());
  const exportLoad = now() - t0;
  await e1.release();
  await e2.release();
  const results = ["offline", "send", "receive"].map((k) => [k, [0, 1, 2].map(() => runChild(k))] as const);
  console.log(`\n| process (fresh, warm graph cache) | load median (wall) | load CPU | frame median | peak RSS median |`);
  console.log(`|---|---|---|---|---|`);
  for (const [k, rs] of results) {
    const label = k === "offline" ? "loadEncodec (encoder, 6 kbps quantizer, decode)" : k === "send" ? "loadStreamingCodec sides [encoder] + 300 frames encoded" : "loadStreamingCodec sides [decoder] + 300 frames decoded";
    const frame = rs[0]!.frameMs === undefined ? "-" : `${median(rs.map((r) => r.frameMs!)).toFixed(2)} ms`;
    console.log(`| ${label} | ${median(rs.map((r) => r.loadMs)).toFixed(0)} ms | ${median(rs.map((r) => r.loadCpuMs)).toFixed(0)} ms | ${frame} | ${median(rs.map((r) => r.maxRssMiB)).toFixed(0)} MiB |`);
  }
  console.log(`| the export's two offline sessions (in this process) | ${exportLoad.toFixed(0)} ms | - | - | - |`);
  console.log(`\nload average after: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}

await main();
