/**
 * Loss table: what `--fec` buys on a lossy path. 10 s of speech (test_24k.wav) is coded once in
 * frame-exact stream mode at 6 kbps (K = 8, no LM) by the full-size encodec_24khz architecture
 * with seeded random weights; then for every loss model and every FEC setting (none, --fec 1,
 * --fec 2: the first 2 codebooks of the 1 or 2 previous frames) the frames go through the real
 * send path — frame payload v2 with its redundancy extension (`RedundancyHistory`), cut into
 * datagrams (`splitIntoFragments`, 220-byte MTU) — lose datagrams by a seeded loss model, and
 * come back through the real receive path: `Reassembler`, `decodePayload`, `RedundancyStore`
 * (the receiver's FEC: a lost frame is rebuilt from a later payload before it is concealed), and
 * the stream decoder (`push`, or `pushMissing` to conceal). All three FEC settings see the same
 * datagram fates (one datagram per frame in each). The receiver is assumed to buffer at least D
 * frames (`--buffer-size` ≥ D), so a frame's redundancy is in before the frame is due.
 *
 * Columns: frames lost on the path, recovered from redundancy, concealed; the wire rate
 * (datagram bytes, the 24-byte packet header included, × 8 / audio seconds); SNR of the output
 * against the lossless run's output (same codes, nothing lost).
 *
 * Loss models: independent random loss at 5, 10, 20 and 30 %, and bursty Gilbert–Elliott loss
 * (good → bad 5 %, bad → good 40 % per datagram; everything lost in the bad state, nothing in
 * the good one: 11 % on average, bursts of 2.5 datagrams on average).
 *
 * Run: npx tsx bench/loss.ts [--quick]
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createStreamDecoder, createStreamEncoder, decodePayload, encodePayload, type StreamFrame } from "@encstream/codec";
import { loadStreamingCodec } from "@encstream/codec/node";
import { Reassembler, splitIntoFragments } from "@encstream/packet";
import { RedundancyHistory, RedundancyStore } from "@encstream/session";
import { readWavFile } from "../src/audio/wav-input.js";
import { writeFullSizeModel } from "./full-size-model.js";
import { seededRandom } from "../test/support/seeded-random.js";

const FIXTURES = fileURLToPath(new URL("../../codec/test/fixtures/", import.meta.url));
const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 10;
const BANDWIDTH_KBPS = 6;
const FEC_CODEBOOKS = 2;


/** A loss model: whether each datagram, in order, is lost. */
interface LossModel {
  readonly name: string;
  readonly fates: (count: number) => boolean[];
}

const randomLoss = (p: number): LossModel => ({
  name: `random ${Math.round(p * 100)} %`,
  fates: (count) => {
    const rnd = seededRandom(1000 + Math.round(p * 100));
    return Array.from({ length: count }, () => rnd() < p);
  },
});

const gilbertElliott = (toBad: number, toGood: number): LossModel => ({
  name: `Gilbert–Elliott (${Math.round((100 * toBad) / (toBad + toGood))} %, bursts ${(1 / toGood).toFixed(1)})`,
  fates: (count) => {
    const rnd = seededRandom(77);
    let bad = false;
    return Array.from({ length: count }, () => {
      bad = bad ? rnd() >= toGood : rnd() < toBad;
      return bad;
    });
  },
});

const MODELS: LossModel[] = [randomLoss(0.05), randomLoss(0.1), randomLoss(0.2), randomLoss(0.3), gilbertElliott(0.05, 0.4)];

const modelDir = join(tmpdir(), "encstream-bench-encodec24-random");
await writeFullSizeModel(modelDir);
const codec = await loadStreamingCodec(modelDir, { cacheDir: join(tmpdir(), "encstream-bench-cache") });
const speech = await readWavFile(join(FIXTURES, "audio", "test_24k.wav"));
const audio = speech.audio[0]!.slice(24_000, 24_000 * (1 + SECONDS));

const encoder = await createStreamEncoder(codec, { bandwidthKbps: BANDWIDTH_KBPS });
const frames: StreamFrame[] = [];
for (let at = 0; at < audio.length; at += 320) frames.push(...(await encoder.push([audio.subarray(at, at + 320)])));
frames.push(...(await encoder.end()));

/** Decode frame by frame as the receiver does; `plan[n]` is the frame's codes, recovered codes, or null (conceal). */
async function decodePlan(plan: ReadonlyArray<{ codes: Uint16Array; numCodebooks: number; lengthSamples: number } | null>): Promise<Float32Array> {
  const decoder = createStreamDecoder(codec);
  const parts: Float32Array[] = [];
  for (const unit of plan) {
    const out = unit === null ? await decoder.pushMissing(1) : await decoder.push({ ...unit, numFrames: 1 });
    parts.push(out[0]!);
  }
  parts.push((await decoder.end())[0]!);
  const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    joined.set(p, o);
    o += p.length;
  }
  return joined.subarray(0, audio.length);
}

function snrDb(reference: Float32Array, output: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i]! ** 2;
    noise += (reference[i]! - output[i]!) ** 2;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

const lossless = await decodePlan(frames.map((f) => ({ codes: f.codes, numCodebooks: f.numCodebooks, lengthSamples: f.lengthSamples })));
// what a recovered frame is worth: every frame at the redundancy's K only
const atFecK = await decodePlan(frames.map((f) => ({ codes: f.codes.slice(0, FEC_CODEBOOKS), numCodebooks: FEC_CODEBOOKS, lengthSamples: f.lengthSamples })));

interface Row {
  readonly model: string;
  readonly fec: string;
  readonly lost: number;
  readonly recovered: number;
  readonly concealed: number;
  readonly wireKbps: number;
  readonly snrDb: number;
}
const rows: Row[] = [];

for (const model of MODELS) {
  const fates = model.fates(frames.length);
  for (const depth of [0, 1, 2]) {
    const history = depth > 0 ? new RedundancyHistory(depth, FEC_CODEBOOKS) : undefined;
    const datagrams: Uint8Array[][] = [];
    let wireBytes = 0;
    for (const [seq, frame] of frames.entries()) {
      const payload = encodePayload({
        modelKind: "24k",
        mode: "stream",
        numCodebooks: frame.numCodebooks,
        numFrames: 1,
        codes: frame.codes,
        lengthSamples: frame.lengthSamples,
        timestampSamples: seq * 320,
        firstOfStream: seq === 0,
        endOfStream: seq === frames.length - 1,
        redundancy: history?.redundancyFor(seq) ?? null,
      });
      history?.add({ seq, codes: frame.codes, numCodebooks: frame.numCodebooks, numFrames: 1, lengthSamples: frame.lengthSamples, scale: null });
      const d = splitIntoFragments(payload, { seq, fragId: seq, mtuBytes: 220 });
      if (d.length !== 1) throw new Error(`frame ${seq}: ${d.length} datagrams (the fates assume one a frame)`);
      datagrams.push(d);
      wireBytes += d.reduce((n, x) => n + x.length, 0);
    }
    // the path, then the receiver's reassembly and payload parsing
    const reassembler = new Reassembler();
    const arrived = new Map<number, ReturnType<typeof decodePayload>>();
    datagrams.forEach((d, seq) => {
      if (fates[seq]) return;
      for (const bytes of d) {
        const r = reassembler.push(bytes, seq * (320 / 24));
        if (r.status === "complete") arrived.set(r.message.seq, decodePayload(r.message.payload));
      }
    });
    // playout in seq order: a frame's redundancy has come in with the D frames after it
    const store = new RedundancyStore();
    const plan: Array<{ codes: Uint16Array; numCodebooks: number; lengthSamples: number } | null> = [];
    let lost = 0;
    let recovered = 0;
    for (let seq = 0; seq < frames.length; seq++) {
      for (let ahead = 0; ahead <= depth; ahead++) {
        const p = arrived.get(seq + ahead);
        if (p !== undefined) store.add(seq + ahead, p.redundancy, seq);
      }
      const p = arrived.get(seq);
      if (p !== undefined) {
        plan.push({ codes: p.codes!, numCodebooks: p.numCodebooks, lengthSamples: p.lengthSamples });
        continue;
      }
      lost++;
      const r = store.take(seq);
      if (r !== undefined) {
        recovered++;
        plan.push({ codes: r.codes, numCodebooks: r.numCodebooks, lengthSamples: r.lengthSamples });
      } else plan.push(null);
      store.forgetBefore(seq + 1);
    }
    const out = await decodePlan(plan);
    rows.push({ model: model.name, fec: depth === 0 ? "none" : `--fec ${depth}`, lost, recovered, concealed: lost - recovered, wireKbps: (wireBytes * 8) / SECONDS / 1000, snrDb: snrDb(lossless, out) });
  }
}
await codec.release();

console.log(`loss table: ${SECONDS} s of speech, full-size encodec_24khz (random weights), --stream at ${BANDWIDTH_KBPS} kbps, no LM, ${frames.length} frames, one datagram each; FEC K = ${FEC_CODEBOOKS}\n`);
console.log("| loss | FEC | frames lost | recovered | concealed | wire kbps (headers incl.) | SNR vs lossless (dB) |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const rec = r.lost === 0 ? "–" : `${r.recovered} (${((100 * r.recovered) / r.lost).toFixed(1)} %)`;
  console.log(`| ${r.model} | ${r.fec} | ${r.lost} (${((100 * r.lost) / frames.length).toFixed(1)} %) | ${rec} | ${r.concealed} | ${r.wireKbps.toFixed(1)} | ${Number.isFinite(r.snrDb) ? r.snrDb.toFixed(1) : "∞"} |`);
}
console.log(`\nreference: every frame decoded at K = ${FEC_CODEBOOKS} only (what a recovered frame carries), SNR vs lossless ${snrDb(lossless, atFecK).toFixed(1)} dB`);
