/**
 * Footprint of the built `encstream` with the full-size encodec_24khz architecture (seeded random
 * weights, graphs read from the cache, as a user's second run): issue #15's targets.
 *
 * - Load from the graph cache, each in a fresh process (median of 3; wall and CPU time):
 *   offline (`loadEncodec`: encoder and decode sessions), streaming receiver (`loadStreamingCodec`,
 *   decoder side: one session, startup and step), streaming sender (encoder side at 12 kbps: one
 *   session). Targets: 150 ms offline, 300 ms streaming.
 * - Peak RSS (`/usr/bin/time`) of `receive --stream` and `send --stream` (20 s over loopback, the
 *   default worker threads, the built bin run as a user's `encstream` runs it), beside the same-run
 *   floor: `node` with the CLI's modules imported and no model. Targets (issue #15, at 6 kbps):
 *   150 MB receive, 200 MB send. A second round streams at the sender's default 12 kbps (a
 *   receiver holds the codebooks a stream uses: 512 KiB each).
 * - Where the receiver's peak goes: its `/proc/<pid>/smaps` read at the highest RSS sampled (every
 *   250 ms), by mapping: the node binary, ONNX Runtime's library, the mapped weights, V8's heap
 *   pages (its 256 KiB anonymous mappings: both threads' heaps), other anonymous memory (malloc
 *   arenas: ONNX Runtime's session in the worker's, freed compiler memory in V8's threads'), the
 *   main thread's malloc heap and the other libraries.
 *
 * - With `--export DIR` (the official implementation's ONNX export, built by
 *   packages/codec/bench/reference-export.py): each load alternates with the export's sessions for
 *   the same job in a fresh process (same module, same session options: `nodeSessionOptions`):
 *   offline against `encode-offline.onnx` + `decode-offline.onnx`, the receiver against
 *   `decode-frame.onnx`, the sender against `encode-frame.onnx`, and the ratios are printed.
 *
 * - With `--baseline FILE` (another build's `dist/bin.js`, e.g. main's): each peak RSS round runs
 *   that bin too, right after this one, and prints its rows beside them (an A/B in one run).
 *
 * Run (in packages/cli, after `pnpm build`): npx tsx bench/footprint.ts [--export DIR] [--only rss]
 * [--baseline FILE] (`--only rss`: the peak RSS rows only, without the load timings).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WavFileWriter } from "../src/audio/wav-writer.js";
import { writeFullSizeModel } from "./full-size-model.js";

/** 20 s of 24 kHz mono: a gliding tone and noise. */
async function writeInput(path: string): Promise<void> {
  const writer = await WavFileWriter.create(path, { sampleRateHz: 24_000, channels: 1 });
  let state = 1;
  let phase = 0;
  for (let s = 0; s < 20; s++) {
    const piece = new Float32Array(24_000);
    for (let i = 0; i < piece.length; i++) {
      state = (state * 48271) % 2147483647;
      phase += (2 * Math.PI * (180 + 120 * Math.sin((s + i / 24_000) / 5))) / 24_000;
      piece[i] = 0.3 * Math.sin(phase) + (state / 2147483647 - 0.5) * 0.1;
    }
    await writer.write([piece]);
  }
  await writer.close();
}

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const CLI_INDEX = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const MIB = 1024 * 1024;
if (!existsSync(BIN)) {
  console.log(`footprint: skipped, ${BIN} is missing (run pnpm build first)`);
  process.exit(0);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: readonly string[], cwd?: string, onSpawn?: (pid: number | undefined) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Peak RSS in MiB of a finished `/usr/bin/time -f "PEAK %M"` run. */
function peakOf(r: Run, what: string): number {
  const m = /PEAK (\d+)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`${what} failed (${r.code}):\n${r.stderr.slice(-1500)}`);
  return Number(m[1]) / 1024;
}

/** A child that imports @encstream/codec/node (resolved from this package), loads, and prints wall and CPU ms. */
const LOADER = (modelDir: string, cacheDir: string, kind: string) => `
const codec = await import("@encstream/codec/node");
const c0 = process.cpuUsage(); const t0 = performance.now();
const m = ${
  kind === "offline"
    ? `await codec.loadEncodec(${JSON.stringify(modelDir)}, { cacheDir: ${JSON.stringify(cacheDir)} })`
    : kind === "fill"
      ? `await codec.loadStreamingCodec(${JSON.stringify(modelDir)}, { cacheDir: ${JSON.stringify(cacheDir)}, preloadBandwidthsKbps: [6, 12] })`
      : kind === "receiver"
      ? `await codec.loadStreamingCodec(${JSON.stringify(modelDir)}, { cacheDir: ${JSON.stringify(cacheDir)}, sides: ["decoder"] })`
      : `await codec.loadStreamingCodec(${JSON.stringify(modelDir)}, { cacheDir: ${JSON.stringify(cacheDir)}, sides: ["encoder"], preloadBandwidthsKbps: [12], })`
};
const t = performance.now() - t0; const c = process.cpuUsage(c0);
console.log("LOAD " + t.toFixed(1) + " " + ((c.user + c.system) / 1000).toFixed(1) + " " + JSON.stringify(m.graphStats ?? null));
await m.release();`;

/** A child that opens the export's ONNX files (the job's sessions) with encstream's session options, and prints wall and CPU ms. */
const EXPORT_LOADER = (files: readonly string[]) => `
const ort = await import("onnxruntime-node");
const codec = await import("@encstream/codec/node");
const options = codec.nodeSessionOptions();
const c0 = process.cpuUsage(); const t0 = performance.now();
const sessions = [];
for (const f of ${JSON.stringify(files)}) sessions.push(await ort.InferenceSession.create(f, options));
const t = performance.now() - t0; const c = process.cpuUsage(c0);
console.log("LOAD " + t.toFixed(1) + " " + ((c.user + c.system) / 1000).toFixed(1));
for (const s of sessions) await s.release();`;

const exportIndex = process.argv.indexOf("--export");
const exportDir = exportIndex >= 0 ? process.argv[exportIndex + 1] : undefined;
const EXPORT_FILES: Record<string, readonly string[]> = {
  offline: ["encode-offline.onnx", "decode-offline.onnx"],
  receiver: ["decode-frame.onnx"],
  sender: ["encode-frame.onnx"],
};

/** The pid of `parent`'s first child (the node under `/usr/bin/time`), or undefined. */
function childPid(parent: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  return undefined;
}

/** Resident KiB of `pid` by kind of mapping, from `/proc/<pid>/smaps`. */
function residentByKind(pid: number): Map<string, number> {
  const kinds = new Map<string, number>();
  let kind = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[3]!;
      const sizeKiB = (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024;
      kind =
        path === ""
          ? sizeKiB === 256
            ? "V8 heap pages (256 KiB anonymous mappings, both threads)"
            : "other anonymous (malloc arenas: ONNX Runtime's session, V8 threads' freed memory; stacks)"
          : path === "[heap]"
            ? "main thread's malloc heap"
            : path.endsWith(".weights")
              ? "decoder weights (mapped graph-cache file)"
              : path.includes("libonnxruntime")
                ? "ONNX Runtime's library"
                : /\/node$/.test(path)
                  ? "node binary"
                  : "other libraries and mappings";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds.set(kind, (kinds.get(kind) ?? 0) + Number(rss[1]));
  }
  return kinds;
}

/** Samples `timePid`'s child every 250 ms until `done` settles; its smaps breakdown at the highest RSS seen. */
async function breakdownAtPeak(timePid: number | undefined, done: Promise<unknown>): Promise<Map<string, number> | undefined> {
  if (timePid === undefined || !existsSync("/proc/self/smaps")) return undefined;
  let finished = false;
  void done.finally(() => (finished = true));
  let peak = 0;
  let at: Map<string, number> | undefined;
  let pid: number | undefined;
  while (!finished) {
    try {
      pid ??= childPid(timePid);
      if (pid !== undefined) {
        const rss = Number(/Rss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
        if (rss > peak) {
          peak = rss;
          at = residentByKind(pid);
        }
      }
    } catch {
      // not started yet, or ended
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return at;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), "encstream-footprint-"));
try {
  const model = join(dir, "model");
  const cache = join(dir, "cache");
  await writeFullSizeModel(model);
  const input = join(dir, "input.wav");
  await writeInput(input);
  console.log(`# footprint — ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ""}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log("full-size encodec_24khz, random weights; graphs from the cache (filled by a first run)\n");
  const common = ["--model", model, "--cache-dir", cache];
  // Fill the graph cache: the offline graphs, and both sides' stream graphs at 6 and 12 kbps (the rounds' rates).
  for (const kind of ["offline", "fill"]) {
    const r = await run([process.execPath, "--input-type=module", "-e", LOADER(model, cache, kind)], fileURLToPath(new URL("..", import.meta.url)));
    if (r.code !== 0) throw new Error(`loading (${kind}) failed:\n${r.stderr.slice(-1500)}`);
  }

  const onlyRss = process.argv.includes("--only") && process.argv[process.argv.indexOf("--only") + 1] === "rss";
  if (!onlyRss) console.log(`load from the graph cache, fresh process, median of 3 (wall ms / CPU ms)${exportDir ? ", alternating with the export's sessions for the same job" : ""}:`);
  const cwd = fileURLToPath(new URL("..", import.meta.url));
  const timeLoad = async (source: string, what: string): Promise<[number, number]> => {
    const r = await run([process.execPath, "--input-type=module", "-e", source], cwd);
    const m = /LOAD ([\d.]+) ([\d.]+)/.exec(r.stdout);
    if (r.code !== 0 || !m) throw new Error(`loading (${what}) failed:\n${r.stderr.slice(-1500)}`);
    return [Number(m[1]), Number(m[2])];
  };
  for (const [kind, target] of onlyRss ? [] : ([["offline", 150], ["receiver", 300], ["sender", 300]] as const)) {
    const ours: Array<[number, number]> = [];
    const theirs: Array<[number, number]> = [];
    for (let i = 0; i < 3; i++) {
      ours.push(await timeLoad(LOADER(model, cache, kind), kind));
      if (exportDir) theirs.push(await timeLoad(EXPORT_LOADER(EXPORT_FILES[kind]!.map((f) => join(exportDir, f))), `export ${kind}`));
    }
    const w = median(ours.map((x) => x[0]));
    const c = median(ours.map((x) => x[1]));
    console.log(`  ${kind.padEnd(8)} ${w.toFixed(0).padStart(5)} ms wall, ${c.toFixed(0).padStart(5)} ms CPU   target ${target} ms: ${w <= target ? "met" : "NOT met"} (wall), ${c <= target ? "met" : "NOT met"} (CPU)`);
    if (exportDir) {
      const ew = median(theirs.map((x) => x[0]));
      const ec = median(theirs.map((x) => x[1]));
      console.log(`  ${"".padEnd(8)} export ${EXPORT_FILES[kind]!.join(" + ")}: ${ew.toFixed(0)} ms wall, ${ec.toFixed(0)} ms CPU; encstream / export ${(w / ew).toFixed(2)} (wall), ${(c / ec).toFixed(2)} (CPU)`);
    }
  }

  const floor = peakOf(await run(["/usr/bin/time", "-f", "PEAK %M", process.execPath, "--input-type=module", "-e", `await import(${JSON.stringify(CLI_INDEX)});`]), "floor");
  /** One round: receive --stream and send --stream at `kbps` over loopback; peaks in MiB, and with `breakdown` the receiver's breakdown at its peak. */
  const round = async (kbps: number, bin = BIN, breakdown = false) => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    let receiverPid: number | undefined;
    const receiver = run(["/usr/bin/time", "-f", "PEAK %M", process.execPath, bin, "receive", "--stream", "--port", port, ...common, "--output", join(dir, "out.wav"), "--timeout", "30", "--stream-idle", "2"], undefined, (pid) => (receiverPid = pid));
    const kinds = breakdown ? breakdownAtPeak(receiverPid, receiver) : undefined;
    await new Promise((r) => setTimeout(r, 1500));
    const sender = await run(["/usr/bin/time", "-f", "PEAK %M", process.execPath, bin, "send", "--stream", "--input", input, "--ip", "127.0.0.1", "--port", port, ...common, "--no-lm", "--bandwidth", String(kbps)]);
    const recv = await receiver;
    const lost = /received .*?([\d.]+) % lost/.exec(recv.stdout + recv.stderr)?.[1] ?? "?";
    return { send: peakOf(sender, "send"), receive: peakOf(recv, "receive"), lost, breakdown: await kinds };
  };
  const baselineIndex = process.argv.indexOf("--baseline");
  const baseline = baselineIndex >= 0 ? process.argv[baselineIndex + 1] : undefined;
  if (baseline !== undefined && !existsSync(baseline)) throw new Error(`--baseline ${baseline}: no such file`);
  const at6 = await round(6, BIN, true);
  const base6 = baseline === undefined ? undefined : await round(6, baseline);
  const at12 = await round(12);
  const base12 = baseline === undefined ? undefined : await round(12, baseline);
  const sendMiB = at6.send;
  const recvMiB = at6.receive;
  console.log(`\npeak RSS (MiB; 1 MB = 0.954 MiB), 20 s over loopback, ${at6.lost} % / ${at12.lost} % lost:`);
  console.log(`  node + the CLI's modules, no model (floor)  ${floor.toFixed(0)}`);
  console.log(`  receive --stream (6 kbps)                   ${recvMiB.toFixed(0)} = floor + ${(recvMiB - floor).toFixed(0)}   target 150 MB (143 MiB): ${recvMiB * MIB <= 150e6 ? "met" : "NOT met"}`);
  console.log(`  send --stream (6 kbps)                      ${sendMiB.toFixed(0)} = floor + ${(sendMiB - floor).toFixed(0)}   target 200 MB (191 MiB): ${sendMiB * MIB <= 200e6 ? "met" : "NOT met"}`);
  console.log(`  receive --stream (12 kbps)                  ${at12.receive.toFixed(0)} = floor + ${(at12.receive - floor).toFixed(0)}`);
  console.log(`  send --stream (12 kbps)                     ${at12.send.toFixed(0)} = floor + ${(at12.send - floor).toFixed(0)}`);
  if (base6 !== undefined && base12 !== undefined) {
    console.log(`  baseline ${baseline}:`);
    console.log(`    receive --stream (6 kbps) ${base6.receive.toFixed(1)}, send ${base6.send.toFixed(1)}; 12 kbps: receive ${base12.receive.toFixed(1)}, send ${base12.send.toFixed(1)}`);
    console.log(`    this build:               ${recvMiB.toFixed(1)}, send ${sendMiB.toFixed(1)}; 12 kbps: receive ${at12.receive.toFixed(1)}, send ${at12.send.toFixed(1)}`);
  }
  const kinds = at6.breakdown;
  if (kinds !== undefined) {
    const total = [...kinds.values()].reduce((a, b) => a + b, 0);
    console.log(`\nwhere the 6 kbps receiver's peak goes (/proc/<pid>/smaps at the highest RSS sampled every 250 ms: ${(total / 1024).toFixed(0)} MiB):`);
    for (const [kind, kib] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${(kib / 1024).toFixed(1).padStart(6)} MiB  ${kind}`);
  }
  console.log(`load average now ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
