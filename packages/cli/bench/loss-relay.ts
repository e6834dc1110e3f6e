/**
 * Loss table over the impairment relay: what `--fec` buys on a lossy path, measured with the
 * real send and receive pipelines over real UDP sockets on loopback, through the relay the
 * end-to-end tests use (a UDP forwarder that drops datagrams by a seeded loss model, and sends
 * the receiver's reports back to the sender).
 *
 * Model: the full-size encodec_24khz architecture with seeded random weights, frame-exact
 * stream mode (`--stream`) at 6 kbps (K = 8), no LM, the model calls in the calling thread (as
 * `--no-workers`). The speech (test_24k.wav, looped to the length asked for) is coded once by
 * the model's stream encoder; every sender then replays those units (so three senders at once
 * cost the CPU of one encoder): the rest of the send path is the real one (`runSenderSession`:
 * live-capture pacing, `SenderResilience` writing payload v2 with the redundancy of `--fec D:2`,
 * fragmentation, a `UdpTransport`). Each receiver is the real receive path (`ReceiverSession`
 * over a `UdpTransport`: reassembler, jitter buffer, FEC store, stream decoder, concealment),
 * as `encstream receive --buffer-size 3s` runs it (a deep buffer, so that a loaded machine delays units without dropping them), writing to memory.
 *
 * For each loss model, each FEC setting (none, --fec 1, --fec 2) streams through its own relay
 * with the same seed: the relay decides a datagram's fate by its index alone and every setting
 * sends one datagram a frame, so all three lose the same frames. The SNR reference is the
 * lossless output: every frame decoded in order by the same stream decoder, as a receiver that
 * lost nothing plays them.
 *
 * Columns: frames lost on the path (the relay's log), recovered from redundancy and concealed
 * (the receiver's own counts; late or otherwise unplayable units, if any, add to concealed and
 * are listed apart), the wire rate (datagram bytes the sender sent, 24-byte headers included,
 * end-of-stream repeats included, × 8 / audio seconds), SNR of the output against the lossless
 * run's output.
 *
 * Loss models: independent random loss at 5, 10, 20 and 30 %, and bursty Gilbert–Elliott loss
 * (good → bad 5 %, bad → good 40 % per datagram; all lost in the bad state: 11 % on average,
 * bursts of 2.5 datagrams on average).
 *
 * Streams run one after the other (`--parallel N`: N at once; each is a real-time full-size
 * decoder in this one process, and a decoder that falls behind real time drops units as too far
 * ahead: the table then says "late/other").
 *
 * Run: npx tsx bench/loss-relay.ts [--seconds N] [--only-10] [--depths 0,1,2] [--parallel N]
 *   default: 8 s of speech a run, every loss model, no FEC / --fec 1 / --fec 2 (about 3 min);
 *   --only-10: just random 10 % (the target row), e.g. --only-10 --seconds 120 --depths 0,2.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ReceiverSession, runSenderSession, SenderResilience, createFrameStreamEncoder, type EncodedUnit, type FrameEncoder, type ReceiverStats } from "@encstream/session";
import { UdpTransport } from "@encstream/transport-udp";
import { readWavFile } from "../src/audio/wav-input.js";
import { openCodecSession } from "../src/session/codec-session.js";
import { expectFromRelay, ImpairmentRelay, type Impairments } from "../test/e2e/support/impairment-relay.js";
import { writeFullSizeModel } from "./full-size-model.js";

const FIXTURES = fileURLToPath(new URL("../../codec/test/fixtures/", import.meta.url));
const args = process.argv.slice(2);
const secondsArg = args.indexOf("--seconds");
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 8;
if (!(SECONDS >= 1 && SECONDS <= 3600)) throw new RangeError(`--seconds must be in [1, 3600], got ${args[secondsArg + 1]}`);
const ONLY_10 = args.includes("--only-10");
const depthsArg = args.indexOf("--depths");
/** FEC depths to run (0: none). */
const DEPTHS = depthsArg >= 0 ? (args[depthsArg + 1] ?? "").split(",").map(Number) : [0, 1, 2];
if (!DEPTHS.every((d) => Number.isInteger(d) && d >= 0 && d <= 8)) throw new RangeError(`--depths must list integers in [0, 8], got ${args[depthsArg + 1]}`);
const parallelArg = args.indexOf("--parallel");
/** Streams at once (each costs a real-time decoder). */
const PARALLEL = parallelArg >= 0 ? Number(args[parallelArg + 1]) : 1;
if (!(Number.isInteger(PARALLEL) && PARALLEL >= 1 && PARALLEL <= 16)) throw new RangeError(`--parallel must be an integer in [1, 16], got ${args[parallelArg + 1]}`);
const BANDWIDTH_KBPS = 6;
const FEC_CODEBOOKS = 2;
const BUFFER_MS = 3_000;
const MTU_BYTES = 220;

interface LossModel {
  readonly name: string;
  readonly impairments: Impairments;
}
const none = { reorderRate: 0, duplicateRate: 0, maxJitterMs: 0 };
const randomLoss = (p: number, seed: number): LossModel => ({ name: `random ${Math.round(p * 100)} %`, impairments: { ...none, seed, lossRate: p } });
const MODELS: LossModel[] = ONLY_10
  ? [randomLoss(0.1, 1010)]
  : [
      randomLoss(0.05, 1005),
      randomLoss(0.1, 1010),
      randomLoss(0.2, 1020),
      randomLoss(0.3, 1030),
      { name: "Gilbert–Elliott (11 %, bursts 2.5)", impairments: { ...none, seed: 77, lossRate: 0, burst: { toBad: 0.05, toGood: 0.4 } } },
    ];

const modelDir = join(tmpdir(), "encstream-bench-encodec24-random");
await writeFullSizeModel(modelDir);
const codec = await openCodecSession({ kind: "directory", path: modelDir }, { cacheDir: join(tmpdir(), "encstream-bench-cache") });
const speech = (await readWavFile(join(FIXTURES, "audio", "test_24k.wav"))).audio[0]!;
const audio = new Float32Array(Math.round(SECONDS * codec.sampleRateHz));
for (let at = 0; at < audio.length; at += speech.length) audio.set(speech.subarray(0, Math.min(speech.length, audio.length - at)), at);

// The units, coded once by the model's stream encoder (one frame at a time, as a live sender).
const started = performance.now();
const liveEncoder = await createFrameStreamEncoder(codec, BANDWIDTH_KBPS);
const units: EncodedUnit[] = [];
for (let fed = 0; fed < audio.length; ) {
  const until = Math.min(audio.length, liveEncoder.nextBoundary(fed));
  units.push(...(await liveEncoder.push([audio.subarray(fed, until)])));
  fed = until;
}
units.push(...(await liveEncoder.end()));
console.error(`coded ${units.length} frames of ${SECONDS} s in ${((performance.now() - started) / 1000).toFixed(1)} s`);

/** A stream encoder that hands out the units coded above, each once its audio has been pushed. */
function replayEncoder(): FrameEncoder {
  let fed = 0;
  let next = 0;
  const upTo = (samples: number): EncodedUnit[] => {
    const out: EncodedUnit[] = [];
    while (next < units.length && units[next]!.endSample <= samples) out.push(units[next++]!);
    return out;
  };
  return {
    mode: "stream",
    stepSamples: liveEncoder.stepSamples,
    unitSamples: liveEncoder.unitSamples,
    overlapSamples: 0,
    numCodebooks: liveEncoder.numCodebooks,
    nextBoundary: (f) => liveEncoder.nextBoundary(f),
    push: async (a) => {
      fed += a[0]!.length;
      return upTo(fed);
    },
    end: async () => upTo(Number.POSITIVE_INFINITY),
    warmUp: async () => undefined,
  };
}

interface RunResult {
  readonly output: Float32Array;
  readonly stats: ReceiverStats;
  readonly lostOnPath: number;
  readonly wireBytes: number;
}

/** One stream: replaying sender → relay (impairments) → receiver; resolves when the receiver has written it all. */
async function stream(impairments: Impairments, fecDepth: number): Promise<RunResult> {
  const receiving = await UdpTransport.open({ address: "127.0.0.1", port: 0 });
  const relay = await ImpairmentRelay.start(receiving.port, impairments);
  const sending = await UdpTransport.open({ remote: { address: "127.0.0.1", port: relay.port } });
  const parts: Float32Array[] = [];
  try {
    const receiver = new ReceiverSession(receiving, {
      codec,
      overlapRatio: 0.25,
      bufferFrames: 1,
      bufferMs: BUFFER_MS,
      sink: { write: async (a) => void parts.push(Float32Array.from(a[0]!)) },
      idleTimeoutMs: 60_000,
      exitOnEnd: true,
    });
    const received = receiver.run();
    const encoder = replayEncoder();
    let piece = 0;
    const resilience = new SenderResilience({
      modelKind: codec.modelKind,
      mode: "stream",
      maxCodebooks: encoder.numCodebooks,
      framesPerUnit: 1,
      unitMs: (encoder.stepSamples / codec.sampleRateHz) * 1000,
      overlapSamples: 0,
      mtuBytes: MTU_BYTES,
      fec: fecDepth > 0 ? { depth: fecDepth, numCodebooks: FEC_CODEBOOKS } : undefined,
    });
    const summary = await runSenderSession({
      source: { read: async () => (piece < audio.length ? [audio.slice(piece, (piece += 960))] : null) },
      encoder,
      modelKind: codec.modelKind,
      sampleRateHz: codec.sampleRateHz,
      transport: sending,
      mtuBytes: MTU_BYTES,
      resilience,
    });
    const stats = await received;
    const lastSeq = units.length - 1;
    const output = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) (output.set(p, o), (o += p.length));
    return { output, stats, lostOnPath: expectFromRelay(relay.records, lastSeq).lostSeqs.size, wireBytes: summary.bytes };
  } finally {
    await sending.close();
    await relay.close();
    await receiving.close();
  }
}

function snrDb(reference: Float32Array, output: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i]! ** 2;
    noise += (reference[i]! - (output[i] ?? 0)) ** 2;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

// The lossless output: every frame decoded in order, one at a time, as a receiver that lost
// nothing plays them (the SNR reference).
const reference = await (async () => {
  const decoder = await codec.createStreamDecoder();
  const out = new Float32Array(audio.length);
  let o = 0;
  const put = (a: readonly Float32Array[]) => {
    const take = Math.min(a[0]!.length, out.length - o);
    out.set(a[0]!.subarray(0, take), o);
    o += take;
  };
  for (const u of units) put(await decoder.push({ codes: u.codes, numCodebooks: u.numCodebooks, numFrames: u.numFrames, lengthSamples: u.lengthSamples }));
  put(await decoder.end());
  return out;
})();

const jobs = MODELS.flatMap((model) => DEPTHS.map((depth) => ({ model, depth })));
const results = new Array<RunResult>(jobs.length);
let nextJob = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    while (nextJob < jobs.length) {
      const j = nextJob++;
      const { model, depth } = jobs[j]!;
      results[j] = await stream(model.impairments, depth);
      const st = results[j]!.stats;
      console.error(
        `${model.name}, ${depth === 0 ? "no FEC" : `--fec ${depth}`}: done at ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
          `(late ${st.late}, too far ahead ${st.tooFarAhead}, undecodable ${st.undecodable}, underruns ${st.underruns}, resyncs ${st.resyncs}, unfit ${st.unfit})`,
      );
    }
  }),
);
const lines: string[] = [];
for (const [j, { model, depth }] of jobs.entries()) {
  const r = results[j]!;
  const s = r.stats;
  const rec = r.lostOnPath === 0 ? "–" : `${s.recovered} (${((100 * s.recovered) / r.lostOnPath).toFixed(1)} %)`;
  const other = s.late + s.undecodable + s.tooFarAhead;
  lines.push(
    `| ${model.name} | ${depth === 0 ? "none" : `--fec ${depth}`} | ${r.lostOnPath} (${((100 * r.lostOnPath) / units.length).toFixed(1)} %) | ${rec} | ${s.concealed}${other > 0 ? ` (${other} late/other)` : ""} | ` +
      `${((r.wireBytes * 8) / SECONDS / 1000).toFixed(1)} | ${r.output.length === audio.length ? "exact" : `${r.output.length - audio.length}`} | ${snrDb(reference, r.output).toFixed(1)} |`,
  );
}
await codec.release();

console.log(
  `loss table over the impairment relay: ${SECONDS} s of speech a run (${units.length} frames, one datagram each), full-size encodec_24khz (random weights), ` +
    `--stream at ${BANDWIDTH_KBPS} kbps, no LM, FEC K = ${FEC_CODEBOOKS}, receiver --buffer-size ${BUFFER_MS}ms\n`,
);
console.log("| loss | FEC | frames lost on the path | recovered | concealed | wire kbps (headers incl.) | output length | SNR vs lossless (dB) |");
console.log("|---|---|---|---|---|---|---|---|");
for (const line of lines) console.log(line);
