/**
 * End-to-end latency of `encstream send` → loopback UDP → `encstream receive`: for every unit
 * (a 320-sample frame with --stream, a chunk otherwise), the time from its capture at the sender
 * (when its last sample was in: the sender releases its input at real time, as a microphone
 * would) to its playout at the receiver (when the output first holds all of it but the overlap
 * the next chunk crossfades), as median and p99, at --buffer-size 1, 4 and 16.
 *
 * Beside it, from the same run: the theoretical buffer delay (--buffer-size P × the unit's
 * duration, the jitter buffer's prefill) and the ratio measured / theoretical; what the median
 * adds to the (P − 1) units the first unit waits for the prefill's last (codec and scheduling
 * time); and the CPU time of each side while streaming, as a share of the audio's duration
 * (100 % = one core busy the whole time).
 *
 * Models: the tiny 24 kHz test model and the full-size encodec_24khz architecture with seeded
 * random weights (written once to a temporary folder), each with --stream and with 250 ms
 * chunks. Sender and receiver run as separate processes (tsx), so the CPU figures are per side.
 *
 * With --live, the path is the live one: the sender captures with `--input mic` from ALSA's
 * `file` plugin (an `infile` holding the speech at the capture device's rate, as a microphone
 * would deliver it) and the receiver plays with `--play` on ALSA's null device (one
 * ALSA_CONFIG_PATH for both sides); the sender is stopped as by Ctrl-C after the audio's length.
 * Only the full-size model is measured then.
 *
 * Run: npx tsx bench/latency.ts [--quick] [--no-full] [--live]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readWavFile } from "../src/audio/wav-input.js";
import { WavFileWriter } from "../src/audio/wav-writer.js";
import { writeFullSizeModel } from "./full-size-model.js";
import { startLatencyChild } from "./latency-child-process.js";

const FIXTURES = fileURLToPath(new URL("../../codec/test/fixtures/", import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const SECONDS = quick ? 3 : 8;
const BUFFERS = [1, 4, 16];
const live = args.includes("--live");
/** Capture device rate and channels of the ALSA default device (`encstream devices`: 44100 Hz). */
const CAPTURE_RATE_HZ = 44_100;
const CAPTURE_CHANNELS = 2;
let liveEnv: NodeJS.ProcessEnv = {};


function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

interface Run {
  readonly name: string;
  readonly model: string;
  readonly framing: string[];
  readonly sampleRateHz: number;
  /** Samples of a unit the next one crossfades (chunked), so its output waits for the next unit. */
  readonly overlapSamples: number;
}

async function measure(run: Run, buffer: number, input: string, cache: string) {
  const common = ["--model", run.model, "--cache-dir", cache, ...run.framing];
  // Live: played on ALSA's null device, and written too, so the receiver ends with the stream.
  const output = [...(live ? ["--play"] : []), "--output", join(cache, "..", "out.wav")];
  const receiver = startLatencyChild(["receive", ...common, "--bind", "127.0.0.1", "--port", "0", ...output, "--buffer-size", String(buffer), "--timeout", "30"], liveEnv);
  const port = Number(await receiver.line("PORT "));
  const sender = startLatencyChild(["send", ...common, "--no-lm", "--bandwidth", "6", "--input", live ? "mic" : input, "--port", String(port)], live ? { ...liveEnv, LATENCY_STOP_AFTER_S: String(SECONDS) } : {});
  const [s, r] = await Promise.all([sender.line("RESULT "), receiver.line("RESULT ")]);
  await Promise.all([sender.exited, receiver.exited]);
  const sent = JSON.parse(s) as { units: [number, number, number][]; cpuMs: number; durationS: number };
  const got = JSON.parse(r) as { blocks: [number, number, number][]; cpuMs: number; unitMs: number; underruns: number; concealed: number; late: number };
  // A unit is played by the first block that takes the output past it (less the overlap the next
  // chunk crossfades; the last unit's tail comes with the final flush).
  const total = Math.max(...sent.units.map(([, end]) => end));
  const latencies: number[] = [];
  let b = 0;
  let outEnd = 0;
  for (const [, end, capturedAtMs] of [...sent.units].sort((x, y) => x[1] - y[1])) {
    const need = end === total ? end : end - run.overlapSamples;
    while (b < got.blocks.length && outEnd < need) {
      outEnd = got.blocks[b]![0] + got.blocks[b]![1];
      b++;
    }
    if (outEnd < need) break;
    latencies.push(got.blocks[b - 1]![2] - capturedAtMs);
  }
  if (latencies.length === 0) {
    throw new Error(`no unit played (${sent.units.length} sent, ${got.blocks.length} blocks)\n${sender.stderr.slice(-1500)}\n${receiver.stderr.slice(-1500)}`);
  }
  latencies.sort((x, y) => x - y);
  const theoretical = buffer * got.unitMs;
  const median = quantile(latencies, 0.5);
  return {
    median,
    p99: quantile(latencies, 0.99),
    theoretical,
    ratio: median / theoretical,
    // The first unit plays when the prefill's last one arrives, (P − 1) units later: the rest is codec and scheduling.
    excess: median - (buffer - 1) * got.unitMs,
    senderCpu: (100 * sent.cpuMs) / (sent.durationS * 1000),
    receiverCpu: (100 * got.cpuMs) / (sent.durationS * 1000),
    underruns: got.underruns,
    concealed: got.concealed,
    late: got.late,
    units: latencies.length,
  };
}

const work = await mkdtemp(join(tmpdir(), "encstream-latency-"));
try {
  const cache = join(work, "cache");
  const input = join(work, "in.wav");
  const speech = await readWavFile(join(FIXTURES, "audio", "test_24k.wav"));
  const writer = await WavFileWriter.create(input, { sampleRateHz: 24_000, channels: 1 });
  await writer.write(speech.audio.map((channel) => channel.slice(24_000, 24_000 * (1 + SECONDS))));
  await writer.close();

  if (live) {
    // The speech at the capture device's rate and channels, then silence: the ALSA file plugin's infile.
    const atRate = await readWavFile(input, { sampleRateHz: CAPTURE_RATE_HZ, channels: 1 });
    const mono = atRate.audio[0]!;
    const raw = new Float32Array((mono.length + 60 * CAPTURE_RATE_HZ) * CAPTURE_CHANNELS);
    mono.forEach((x, i) => raw.fill(x, i * CAPTURE_CHANNELS, (i + 1) * CAPTURE_CHANNELS));
    await writeFile(join(work, "in.raw"), new Uint8Array(raw.buffer));
    const config = join(work, "asound.conf");
    await writeFile(
      config,
      `</usr/share/alsa/alsa.conf>\npcm.!default { type plug slave.pcm "capfile" }\n` +
        `pcm.capfile { type file slave.pcm "null" file "/dev/null" infile "${join(work, "in.raw")}" format "raw" }\n`,
    );
    liveEnv = { ALSA_CONFIG_PATH: config };
  }
  const runs: Run[] = live ? [] : [
    { name: "tiny 24 kHz, --stream (13.3 ms frames)", model: join(FIXTURES, "tiny24"), framing: ["--stream"], sampleRateHz: 24_000, overlapSamples: 0 },
    { name: "tiny 24 kHz, chunked (250 ms, hop 187.5 ms)", model: join(FIXTURES, "tiny24"), framing: ["--overlap", "25"], sampleRateHz: 24_000, overlapSamples: 1500 },
  ];
  if (!args.includes("--no-full")) {
    const full = join(tmpdir(), "encstream-bench-encodec24-random");
    await writeFullSizeModel(full);
    runs.push(
      { name: "full-size 24 kHz (random weights), chunked (250 ms, hop 187.5 ms)", model: full, framing: ["--overlap", "25"], sampleRateHz: 24_000, overlapSamples: 1500 },
      { name: "full-size 24 kHz (random weights), --stream", model: full, framing: ["--stream"], sampleRateHz: 24_000, overlapSamples: 0 },
    );
  }
  console.log(`${live ? "live: --input mic (ALSA file capture) → receive --play (ALSA null); " : ""}latency from capture (sender) to output (receiver), ${SECONDS} s of speech at 6 kbps, no LM, loopback; CPU = share of one core over the audio's duration`);
  for (const run of runs) {
    console.log(`\n${run.name}`);
    for (const buffer of BUFFERS) {
      const m = await measure(run, buffer, input, cache);
      console.log(
        `  --buffer-size ${String(buffer).padStart(2)}: median ${m.median.toFixed(1).padStart(7)} ms  p99 ${m.p99.toFixed(1).padStart(7)} ms  ` +
          `buffer delay ${m.theoretical.toFixed(1).padStart(7)} ms  ratio ${m.ratio.toFixed(2)}  over (P-1) units ${m.excess.toFixed(1).padStart(6)} ms  ` +
          `CPU sender ${m.senderCpu.toFixed(0).padStart(3)} %  receiver ${m.receiverCpu.toFixed(0).padStart(3)} %  ` +
          `(${m.units} units, ${m.underruns} underruns, ${m.concealed} concealed, ${m.late} late)`,
      );
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
