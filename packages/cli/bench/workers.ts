/**
 * The model off the event loop: `encstream send --stream` → loopback UDP → `encstream receive
 * --stream` with the full-size encodec_24khz architecture (seeded random weights), while another
 * process keeps one core busy, with the codec in worker threads (the default) and on the main
 * thread (`--no-workers`), one after the other in this run. Reported for each:
 *
 * - frames concealed, late and dropped for arriving too far ahead at the receiver (a lossless
 *   path: every one is a frame that was not decoded by its playout time, or that came in a burst
 *   larger than the jitter buffer holds), underruns;
 * - sender lateness: for every frame after the stream encoder's startup burst (its first 7
 *   frames leave together by design), the time from the moment its audio was complete (capture
 *   clock) to the moment its datagrams were handed to the socket: median, p99, max; and the
 *   worst of the startup burst's (the first model call included);
 * - the 1-minute load average before and after the run (figures from an overloaded machine
 *   say little).
 *
 * Sender and receiver run as separate processes (tsx, bench/latency-child.ts), as `encstream`
 * does; the busy process is `node -e "for(;;);"`.
 *
 * Run: npx tsx bench/workers.ts [--seconds N] [--long (300 s)] [--buffer-size N] [--only workers|main]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readWavFile } from "../src/audio/wav-input.js";
import { WavFileWriter } from "../src/audio/wav-writer.js";
import { writeFullSizeModel } from "./full-size-model.js";
import { startLatencyChild } from "./latency-child-process.js";

const FIXTURES = fileURLToPath(new URL("../../codec/test/fixtures/", import.meta.url));
const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SECONDS = Number(argValue("--seconds") ?? (args.includes("--long") ? 300 : 60));
const BUFFER = argValue("--buffer-size");
const STARTUP_FRAMES = 7;
/** `--only workers|main`: one half of the comparison (both by default). */
const ONLY = argValue("--only");
if (ONLY !== undefined && ONLY !== "workers" && ONLY !== "main") throw new RangeError(`--only must be workers or main, got ${ONLY}`);


const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

async function measure(model: string, cache: string, input: string, workers: boolean) {
  const common = ["--model", model, "--cache-dir", cache, "--stream", ...(workers ? [] : ["--no-workers"])];
  const loadBefore = loadavg()[0]!;
  const busy = spawn(process.execPath, ["-e", "for(;;);"], { stdio: "ignore" });
  try {
    const receiver = startLatencyChild([
      "receive",
      ...common,
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--output",
      join(cache, "..", `out-${workers ? "workers" : "main"}.wav`),
      "--timeout",
      "30",
      ...(BUFFER !== undefined ? ["--buffer-size", BUFFER] : []),
    ]);
    const port = Number(await receiver.line("PORT "));
    const sender = startLatencyChild(["send", ...common, "--no-lm", "--bandwidth", "6", "--input", input, "--port", String(port)]);
    const [s, r] = await Promise.all([sender.line("RESULT "), receiver.line("RESULT ")]);
    await Promise.all([sender.exited, receiver.exited]);
    const sent = JSON.parse(s) as { units: [number, number, number, number][]; cpuMs: number; durationS: number };
    const got = JSON.parse(r) as { cpuMs: number; underruns: number; concealed: number; late: number; tooFarAhead: number; samples: number };
    // [startSample, endSample, capturedAt, sentAt], epoch ms; the startup burst left out.
    const startupMs = sent.units.filter(([start]) => start < STARTUP_FRAMES * 320).map(([, , captured, sentAt]) => sentAt - captured);
    const lateness = sent.units.filter(([start]) => start >= STARTUP_FRAMES * 320).map(([, , captured, sentAt]) => sentAt - captured);
    lateness.sort((a, b) => a - b);
    return {
      frames: sent.units.length,
      concealed: got.concealed,
      late: got.late,
      tooFarAhead: got.tooFarAhead,
      underruns: got.underruns,
      median: quantile(lateness, 0.5),
      p99: quantile(lateness, 0.99),
      max: lateness[lateness.length - 1] ?? 0,
      startupMs: Math.max(0, ...startupMs),
      load: `${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
      senderCpu: (100 * sent.cpuMs) / (sent.durationS * 1000),
      receiverCpu: (100 * got.cpuMs) / (sent.durationS * 1000),
    };
  } finally {
    busy.kill();
  }
}

const work = await mkdtemp(join(tmpdir(), "encstream-workers-"));
try {
  const cache = join(work, "cache");
  const input = join(work, "in.wav");
  const speech = (await readWavFile(join(FIXTURES, "audio", "test_24k.wav"))).audio[0]!;
  const writer = await WavFileWriter.create(input, { sampleRateHz: 24_000, channels: 1 });
  for (let left = SECONDS * 24_000; left > 0; left -= speech.length) await writer.write([speech.subarray(0, Math.min(left, speech.length))]);
  await writer.close();
  const full = join(tmpdir(), "encstream-bench-encodec24-random");
  await writeFullSizeModel(full);
  console.log(
    `send --stream → loopback → receive --stream, full-size 24 kHz (random weights), 6 kbps, no LM, ${SECONDS} s of speech, ` +
      `buffer ${BUFFER ?? "default"}, one other process spinning on a core; lateness = socket hand-off − capture of the frame's last sample (startup burst excluded)`,
  );
  const rows: [string, Awaited<ReturnType<typeof measure>>][] = [];
  for (const workers of ONLY === undefined ? [true, false] : [ONLY === "workers"]) {
    const m = await measure(full, cache, input, workers);
    const name = workers ? "workers (default)" : "main thread (--no-workers)";
    rows.push([name, m]);
    console.log(
      `  ${name.padEnd(27)} concealed ${String(m.concealed).padStart(4)}  late ${String(m.late).padStart(4)}  too far ahead ${String(m.tooFarAhead).padStart(4)}  underruns ${String(m.underruns).padStart(3)}  ` +
        `sender lateness median ${m.median.toFixed(1).padStart(6)} ms  p99 ${m.p99.toFixed(1).padStart(6)} ms  max ${m.max.toFixed(1).padStart(6)} ms  ` +
        `startup burst ${m.startupMs.toFixed(1)} ms  CPU sender ${m.senderCpu.toFixed(0).padStart(3)} %  receiver ${m.receiverCpu.toFixed(0).padStart(3)} %  (${m.frames} frames; load average ${m.load})`,
    );
  }
  if (rows.length === 2) {
    const [w, t] = [rows[0]![1], rows[1]![1]];
    console.log(`  ratio main thread / workers: sender lateness p99 ${(t.p99 / Math.max(w.p99, 1e-9)).toFixed(2)}, concealed ${t.concealed} vs ${w.concealed}`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
