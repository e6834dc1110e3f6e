/**
 * Security benchmarks of issue #10, real `encstream send` and `encstream receive` processes on
 * loopback (the tiny 24 kHz model; the command built from the sources as the e2e tests build it):
 *
 * - `cpu`: what encryption costs. The same 20 s stream (`--seconds N`) (frame-exact, 6 kbps: 75 datagrams/s, the
 *   most datagrams per second of audio) sent with and without a key, alternating, 3 runs each;
 *   each side's CPU time (user + system, every thread, from `process.cpuUsage()` at exit) as the
 *   median, and the ratio keyed / plain. Beside it the direct figure: seal and open time per
 *   datagram (node:crypto, measured here) × the stream's datagrams, as a share of each side's CPU.
 * - `flood`: garbage datagrams (random bytes, random lengths) sent at the receiver at 50 000/s
 *   (the target) and as fast as one socket here can (`--rates 50000,0`) while a real stream plays (chunked, 24 kbps, 100 ms
 *   chunks in 2 datagrams each); the rate achieved, what the receiver took off the socket, and
 *   the real units lost. Without and with a key.
 * - `partials`: 5 000 fake partial messages/s (first fragments of 2-fragment messages near the
 *   stream's sequence numbers) while the real stream crosses a relay with 20 ms of path jitter;
 *   real units lost. Without and with a key.
 *
 * Every part's default run stays under 60 s. Run (from packages/cli):
 *   npx tsx bench/attacks.ts cpu | flood | partials | all [--rounds N] [--seconds N] [--rates N,N]
 */
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { DatagramOpener, DatagramSealer, encodePacket } from "@encstream/packet";
import { createNodeAead } from "@encstream/transport-udp";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "../test/e2e/support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, writeInputWav } from "../test/e2e/support/fixtures.js";
import { ImpairmentRelay } from "../test/e2e/support/impairment-relay.js";
import { readWavFile } from "../src/audio/wav-input.js";
import { WavFileWriter } from "../src/audio/wav-writer.js";
import { seededRandom } from "../test/support/seeded-random.js";

const KEY_HEX = "5d".repeat(32);
const KEY_ENV = { ENCSTREAM_KEY: `42:${KEY_HEX}` };
const PRELOAD = fileURLToPath(new URL("./cpu-at-exit.mjs", import.meta.url));
const STREAM = ["--stream", "--bandwidth", "6"];
const CHUNKED = ["--bandwidth", "24", "--chunk-ms", "100", "--overlap", "25"];
/** Garbage rates of the flood part (`--rates 50000,0`; 0 = as fast as one socket can). */
const FLOOD_RATES = (() => {
  const at = process.argv.indexOf("--rates");
  return (at > 0 ? (process.argv[at + 1] ?? "") : "50000,0").split(",").map(Number).filter((n) => Number.isFinite(n) && n >= 0);
})();

interface Run {
  senderCpuMs: number;
  receiverCpuMs: number;
  summary: Record<string, number>;
  datagramsSent: number;
  attack: { sent: number; seconds: number };
}

const cpuOf = (stderr: string): number => Number(stderr.match(/cpu-at-exit ([\d.]+)/)?.[1] ?? Number.NaN);
/** The median (the mean of the middle two for an even count). */
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


let dir: string;
let cache: string;
let input: string;
let cpuInput: string;
/** Length of the CPU part's stream (`--seconds N`, default 20). */
const CPU_SECONDS = (() => {
  const at = process.argv.indexOf("--seconds");
  const n = at > 0 ? Number(process.argv[at + 1]) : 20;
  return Number.isInteger(n) && n >= 1 && n <= 600 ? n : 20;
})();

/** One stream, send → (relay) → receive, with `attack` running from the first datagram to the sender's exit. */
async function run(
  mode: readonly string[],
  keyed: boolean,
  options: { source?: string; jitterMs?: number; attack?: (port: number, last: () => { seq: number; fragId: number }, stopped: () => boolean) => Promise<{ sent: number; seconds: number }> } = {},
): Promise<Run> {
  const env = keyed ? KEY_ENV : {};
  const common = ["--model", TINY24_DIR, "--cache-dir", cache];
  const { receiver, port } = await startReceiver(
    [...common, ...(mode.includes("--stream") ? ["--stream"] : ["--overlap", "25"]), "--output", join(dir, "out.wav"), "--stats", "--timeout", "30", "--buffer-size", "1s"],
    env,
    { nodeArgs: ["--import", PRELOAD] },
  );
  const relay = await ImpairmentRelay.start(port, { seed: 3, lossRate: 0, reorderRate: 0, duplicateRate: 0, maxJitterMs: options.jitterMs ?? 0 });
  let last = { seq: 0, fragId: 0 };
  let first: () => void = () => undefined;
  const firstSeen = new Promise<void>((resolve) => (first = resolve));
  relay.tap = (bytes) => {
    if (bytes.length < 24) return;
    last = { seq: bytes.readUInt32BE(0), fragId: bytes.readUInt32BE(12) };
    first();
  };
  let stopped = false;
  try {
    const sender = await CliProcess.start(["send", ...common, "--input", options.source ?? input, "--port", String(relay.port), "--no-lm", ...mode], env, { nodeArgs: ["--import", PRELOAD] });
    const attack = options.attack === undefined ? Promise.resolve({ sent: 0, seconds: 0 }) : firstSeen.then(() => options.attack!(port, () => last, () => stopped));
    const sendCode = await sender.finish(60_000);
    stopped = true;
    const [receiveCode, attacked] = await Promise.all([receiver.finish(60_000), attack]);
    if (sendCode !== 0 || receiveCode !== 0) throw new Error(`send exited ${sendCode}, receive ${receiveCode}:\n${sender.stderr}\n${receiver.stderr}`);
    return {
      senderCpuMs: cpuOf(sender.stderr),
      receiverCpuMs: cpuOf(receiver.stderr),
      summary: parseReceiveSummary(receiver.stderr),
      datagramsSent: relay.forwarded,
      attack: attacked,
    };
  } finally {
    await relay.close();
  }
}

/** Seal and open time per datagram of `bytes` bytes with node:crypto, µs (best of 3 × 20 000). */
async function cryptoMicros(bytes: number): Promise<{ sealUs: number; openUs: number }> {
  const key = { keyId: 42, key: Uint8Array.from(Buffer.from(KEY_HEX, "hex")) };
  const plain = encodePacket({ seqNum: 1, totalLength: bytes - 24, hasOverlap: false, fragId: 7, totalFrags: 1, fragIndex: 0 }, new Uint8Array(bytes - 24));
  let sealUs = Infinity;
  let openUs = Infinity;
  const at = process.argv.indexOf("--rounds");
  const rounds = at > 0 ? Math.max(1, Number(process.argv[at + 1])) : 2;
  for (let round = 0; round < rounds; round++) {
    const sealer = await DatagramSealer.create({ key, aead: createNodeAead });
    const opener = await DatagramOpener.create({ keys: [key], aead: createNodeAead });
    const sealed: Uint8Array[] = [];
    let t = performance.now();
    for (let i = 0; i < 20_000; i++) sealed.push(await sealer.seal(plain));
    sealUs = Math.min(sealUs, ((performance.now() - t) * 1000) / 20_000);
    t = performance.now();
    for (const s of sealed) await opener.open(s);
    openUs = Math.min(openUs, ((performance.now() - t) * 1000) / 20_000);
  }
  return { sealUs, openUs };
}

async function cpuBenchmark(): Promise<void> {
  const runs: Record<"plain" | "keyed", Run[]> = { plain: [], keyed: [] };
  await run(STREAM, false, { source: cpuInput }); // warm-up (graph cache, page cache)
  const at = process.argv.indexOf("--rounds");
  const rounds = at > 0 ? Math.max(1, Number(process.argv[at + 1])) : 2;
  for (let round = 0; round < rounds; round++) {
    for (const keyed of round % 2 === 0 ? [false, true] : [true, false]) runs[keyed ? "keyed" : "plain"].push(await run(STREAM, keyed, { source: cpuInput }));
  }
  const side = (k: "plain" | "keyed", s: "senderCpuMs" | "receiverCpuMs") => median(runs[k].map((r) => r[s]));
  const datagrams = median(runs.keyed.map((r) => r.datagramsSent));
  const { sealUs, openUs } = await cryptoMicros(24 + 19 + 30);
  console.log(`encryption CPU cost: ${CPU_SECONDS} s stream, --stream 6 kbps (${datagrams} datagrams), tiny 24 kHz model, median of ${rounds} alternating runs each`);
  for (const s of ["senderCpuMs", "receiverCpuMs"] as const) {
    console.log(`  runs, ${s === "senderCpuMs" ? "sender" : "receiver"} CPU ms: plain ${runs.plain.map((r) => r[s].toFixed(0)).join(" ")}; keyed ${runs.keyed.map((r) => r[s].toFixed(0)).join(" ")}`);
  }
  for (const [name, s, us] of [
    ["sender", "senderCpuMs", sealUs],
    ["receiver", "receiverCpuMs", openUs],
  ] as const) {
    const plain = side("plain", s);
    const keyed = side("keyed", s);
    const direct = (100 * (us * datagrams)) / 1000 / keyed;
    console.log(
      `  ${name.padEnd(8)} CPU plain ${plain.toFixed(0).padStart(6)} ms   keyed ${keyed.toFixed(0).padStart(6)} ms   ratio ${(keyed / plain).toFixed(3)}` +
        `   (direct: ${us.toFixed(1)} µs/datagram × ${datagrams} = ${((us * datagrams) / 1000).toFixed(1)} ms, ${direct.toFixed(2)} % of its CPU)`,
    );
  }
}

/**
 * Garbage at the receiver at `perSecond` (0: as fast as one socket here can), for as long as the
 * stream lasts.
 */
function garbage(perSecond: number) {
  return async (port: number, _last: () => { seq: number; fragId: number }, stopped: () => boolean): Promise<{ sent: number; seconds: number }> => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const random = seededRandom(9);
    const pool = Array.from({ length: 512 }, () => Buffer.from(Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))));
    let sent = 0;
    let inFlight = 0;
    const t0 = performance.now();
    while (!stopped()) {
      // bursts of at most 200 (as many as are due at a set rate), waiting for the callbacks when
      // too many are queued in libuv
      const due = perSecond > 0 ? Math.min(200, Math.floor(((performance.now() - t0) / 1000) * perSecond) - sent) : 200;
      for (let i = 0; i < due; i++) {
        inFlight++;
        socket.send(pool[(sent + i) & 511]!, port, "127.0.0.1", () => inFlight--);
      }
      sent += Math.max(0, due);
      while (inFlight > 2000) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    while (inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
    const seconds = (performance.now() - t0) / 1000;
    socket.close();
    return { sent, seconds };
  };
}

/** Fake first fragments near the stream's seq at `perSecond`. */
function partials(perSecond: number) {
  return async (port: number, last: () => { seq: number; fragId: number }, stopped: () => boolean): Promise<{ sent: number; seconds: number }> => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const random = seededRandom(5);
    let sent = 0;
    const t0 = performance.now();
    while (!stopped()) {
      const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
      for (; sent < due; sent++) {
        const { seq, fragId } = last();
        const fake = encodePacket(
          { seqNum: (seq - 2 + Math.floor(random() * 10)) >>> 0, totalLength: 392, hasOverlap: true, fragId: ((fragId & 0xffff0000) | Math.floor(random() * 0x10000)) >>> 0, totalFrags: 2, fragIndex: 0 },
          new Uint8Array(196),
        );
        socket.send(fake, port, "127.0.0.1");
      }
      await sleep(2);
    }
    const seconds = (performance.now() - t0) / 1000;
    await sleep(50);
    socket.close();
    return { sent, seconds };
  };
}

function reportLoss(name: string, r: Run): void {
  const s = r.summary;
  const units = (s.played ?? 0) + (s.concealed ?? 0);
  console.log(
    `  ${name.padEnd(10)} ${r.attack.sent} attack datagrams in ${r.attack.seconds.toFixed(1)} s = ${(r.attack.sent / r.attack.seconds).toFixed(0).padStart(6)}/s; ` +
      `receiver took ${s.datagrams} datagrams off the socket (${r.attack.sent + r.datagramsSent - (s.datagrams ?? 0)} lost before it); ` +
      `real units: ${s.played} played, ${s.lost} lost, ${s.concealed} concealed of ${units}; ${(s.samples ?? 0) / 24_000} s written`,
  );
}

async function floodBenchmark(): Promise<void> {
  console.log("receiver under a garbage flood while a real stream plays (chunked 24 kbps, 100 ms chunks, 2 datagrams each; 4 s)");
  for (const rate of FLOOD_RATES) {
    for (const keyed of [false, true]) {
      const name = `${rate === 0 ? "max" : `${rate / 1000}k/s`} ${keyed ? "key" : "no key"}`;
      reportLoss(name, await run(CHUNKED, keyed, { attack: garbage(rate) }));
    }
  }
}

async function partialsBenchmark(): Promise<void> {
  console.log("5 000 fake partial messages/s near the stream's seq, the real stream through a relay with 20 ms path jitter (chunked 24 kbps, 100 ms chunks; 4 s)");
  for (const keyed of [false, true]) reportLoss(keyed ? "with a key" : "no key", await run(CHUNKED, keyed, { jitterMs: 20, attack: partials(5_000) }));
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? "all";
  if (!["cpu", "flood", "partials", "all"].includes(which)) throw new Error(`usage: bench/attacks.ts cpu | flood | partials | all, got ${which}`);
  await prepareCli();
  dir = await mkdtemp(join(tmpdir(), "encstream-bench-attacks-"));
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_24K, 4, 1);
  // The CPU part: a longer stream (the speech repeated) so that the per-datagram cost is not lost
  // in the run-to-run spread of each process's start (model load: ~1.3 s of CPU).
  cpuInput = join(dir, "cpu-in.wav");
  const speech = await readWavFile(input);
  const tiled = new Float32Array(CPU_SECONDS * speech.sampleRateHz);
  for (let at = 0; at < tiled.length; at += speech.audio[0]!.length) tiled.set(speech.audio[0]!.subarray(0, Math.min(speech.audio[0]!.length, tiled.length - at)), at);
  const writer = await WavFileWriter.create(cpuInput, { sampleRateHz: speech.sampleRateHz, channels: 1 });
  await writer.write([tiled]);
  await writer.close();
  try {
    if (which === "cpu" || which === "all") await cpuBenchmark();
    if (which === "flood" || which === "all") await floodBenchmark();
    if (which === "partials" || which === "all") await partialsBenchmark();
  } finally {
    await cleanupCli();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
