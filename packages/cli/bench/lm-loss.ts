/**
 * LM coding on a lossy `--stream` path: what a lost datagram costs when the codes are
 * arithmetic-coded with the language model, against packed codes (`--no-lm`), and how the LM
 * keyframe interval changes it (issue #14, item 4).
 *
 * In stream mode an LM payload carries the LM context of the payloads before it since the last
 * keyframe (`LmStreamEncoder`): once one of them is lost, the receiver cannot decode any payload
 * until the next keyframe and conceals them all. With random loss p and a keyframe every N
 * frames, a frame k places after its keyframe decodes only if all k + 1 frames arrived, so about
 * 1 − (1/N)·Σ_{k=1..N} (1 − p)^k of the frames are concealed instead of p.
 *
 * Codes: 10 s of speech (test_24k.wav) coded in frame-exact stream mode at 6 kbps (K = 8) by
 *  (a) the full-size encodec_24khz architecture with seeded random weights, LM-coded by a
 *      full-size LM (dim 200, 5 layers: the published encodec_lm_24khz shape) with seeded random
 *      weights, and
 *  (b) the tiny golden model tiny24 with its own tiny LM (../shared/encodec-vectors, random too).
 * Both LMs have random weights, so their coding gain is NOT what the published LM gives (the
 * EnCodec paper reports 25–40 % fewer bits with it); the concealment columns do not depend on the
 * weights, only on which payloads arrive.
 *
 * Every payload goes through the real send path (frame payload v2 with `LmStreamEncoder` as its
 * LM coder, `splitIntoFragments`, 24-byte packet headers), loses datagrams by a seeded random
 * loss model (the same fates for every row), and the survivors through the real receive path
 * (`Reassembler`, `decodePayload` with the session's `LmPayloadDecoder`, `markLost` for every
 * frame played as missing, as `ReceiverSession` does).
 *
 * Columns: what the codes cost by the LM's own probabilities (Σ −log2 p, the arithmetic coder's
 * ideal, before the LM payload's 3-byte header and the coder's final bytes; packed codes: 10 bits
 * each); wire kbps (datagram bytes with headers × 8 / audio seconds); at each loss rate, frames
 * concealed (lost + undecodable for want of LM context) and concealed ÷ lost.
 *
 * Run: npx tsx bench/lm-loss.ts [--quick]
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createStreamEncoder, decodePayload, encodePayload, loadLmWeights, LmStreamEncoder, readSafetensors, StreamingLm, type LmWeights, type PayloadLmCoder, type StreamFrame, type StreamingCodec } from "@encstream/codec";
import { loadStreamingCodec } from "@encstream/codec/node";
import { Reassembler, splitIntoFragments } from "@encstream/packet";
import { LmPayloadDecoder } from "@encstream/session";
import { readWavFile } from "../src/audio/wav-input.js";
import { writeFullSizeModel } from "./full-size-model.js";
import { seededRandom } from "../test/support/seeded-random.js";

const FIXTURES = fileURLToPath(new URL("../../codec/test/fixtures/", import.meta.url));
const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 10;
const BANDWIDTH_KBPS = 6;
const LOSSES = [0, 0.05, 0.1, 0.2];
/** LM keyframe intervals, frames; 15 is the stream default before this benchmark. */
const INTERVALS = [75, 15, 5, 2, 1];


const speech = await readWavFile(join(FIXTURES, "audio", "test_24k.wav"));
const audio = speech.audio[0]!.slice(24_000, 24_000 * (1 + SECONDS));

async function encodeFrames(codec: StreamingCodec): Promise<StreamFrame[]> {
  const encoder = await createStreamEncoder(codec, { bandwidthKbps: BANDWIDTH_KBPS });
  const frames: StreamFrame[] = [];
  for (let at = 0; at < audio.length; at += 320) frames.push(...(await encoder.push([audio.subarray(at, at + 320)])));
  frames.push(...(await encoder.end()));
  return frames;
}

interface Row {
  readonly coding: string;
  readonly lossPct: number;
  readonly lost: number;
  readonly concealed: number;
  readonly wireKbps: number;
}

/** The datagrams of every frame, one message a frame, LM-coded with a keyframe every `interval` frames (or packed). */
function sendPath(frames: readonly StreamFrame[], lm: LmWeights | null, interval: number): Uint8Array[][] {
  let lmCoder: PayloadLmCoder | undefined;
  if (lm !== null) {
    const encoder = new LmStreamEncoder(lm, frames[0]!.numCodebooks, { keyframeIntervalFrames: interval });
    lmCoder = { encode: (codes) => encoder.encode(codes), decode: () => null };
  }
  return frames.map((frame, seq) => {
    const payload = encodePayload(
      {
        modelKind: "24k",
        mode: "stream",
        numCodebooks: frame.numCodebooks,
        numFrames: 1,
        codes: frame.codes,
        lengthSamples: frame.lengthSamples,
        timestampSamples: seq * 320,
        firstOfStream: seq === 0,
        endOfStream: seq === frames.length - 1,
      },
      lmCoder !== undefined ? { lmCoder } : {},
    );
    return splitIntoFragments(payload, { seq, fragId: seq, mtuBytes: 1200 });
  });
}

/** Frames concealed at the receiver when the datagrams of the frames with `fates[seq]` true are lost. */
function receivePath(datagrams: readonly Uint8Array[][], lm: LmWeights | null, fates: readonly boolean[], frames: readonly StreamFrame[]): number {
  const reassembler = new Reassembler();
  const decoder = lm !== null ? new LmPayloadDecoder(lm) : undefined;
  let concealed = 0;
  for (let seq = 0; seq < datagrams.length; seq++) {
    let message: Uint8Array | undefined;
    if (!fates[seq]) {
      for (const bytes of datagrams[seq]!) {
        const r = reassembler.push(bytes, seq * (320 / 24));
        if (r.status === "complete") message = r.message.payload;
      }
    }
    const payload = message !== undefined ? decodePayload(message, decoder !== undefined ? { lmCoder: decoder } : {}) : undefined;
    if (payload === undefined || payload.codes === null) {
      concealed++;
      decoder?.markLost();
      continue;
    }
    const want = frames[seq]!.codes;
    if (!payload.codes.every((c, i) => c === want[i])) throw new Error(`frame ${seq}: decoded codes differ from the sent ones`);
  }
  return concealed;
}

/**
 * What the LM itself says the codes cost with a keyframe every `interval` frames: the sum of
 * −log2 p(code) over every code, kbps (the arithmetic coder's ideal, without the LM payload's
 * header and the coder's final bytes).
 */
function idealLmKbps(frames: readonly StreamFrame[], lm: LmWeights, interval: number): number {
  const K = frames[0]!.numCodebooks;
  const model = new StreamingLm(lm, K);
  const card = lm.hyper.cardinality;
  let bits = 0;
  let previous: Uint16Array | null = null;
  frames.forEach((frame, t) => {
    if (t % interval === 0) {
      model.reset();
      previous = null;
    }
    const probs = model.step(previous);
    for (let k = 0; k < K; k++) bits -= Math.log2(Math.max(probs[k * card + frame.codes[k]!]!, 1e-9));
    previous = frame.codes;
  });
  return bits / SECONDS / 1000;
}

async function table(name: string, frames: readonly StreamFrame[], lm: LmWeights): Promise<Row[]> {
  const rows: Row[] = [];
  const packedKbps = (frames.length * frames[0]!.numCodebooks * 10) / SECONDS / 1000;
  const ideal = new Map(INTERVALS.map((n) => [n, idealLmKbps(frames, lm, n)]));
  const codings: Array<{ coding: string; lm: LmWeights | null; interval: number }> = [
    { coding: "--no-lm (packed)", lm: null, interval: 1 },
    ...INTERVALS.map((n) => ({ coding: `LM, keyframe every ${n}`, lm, interval: n })),
  ];
  for (const c of codings) {
    const datagrams = sendPath(frames, c.lm, c.interval);
    const wireBytes = datagrams.flat().reduce((n, d) => n + d.length, 0);
    for (const p of LOSSES) {
      const rnd = seededRandom(4242 + Math.round(p * 1000));
      const fates = frames.map(() => rnd() < p);
      const lost = fates.filter(Boolean).length;
      rows.push({ coding: c.coding, lossPct: p * 100, lost, concealed: receivePath(datagrams, c.lm, fates, frames), wireKbps: (wireBytes * 8) / SECONDS / 1000 });
    }
  }
  console.log(`\n${name}: ${SECONDS} s of speech, --stream at ${BANDWIDTH_KBPS} kbps (K = ${frames[0]!.numCodebooks}), ${frames.length} frames, one datagram each\n`);
  console.log(`| coding | codes: LM's ideal kbps (packed ${packedKbps.toFixed(1)}) | wire kbps (headers incl.) | ${LOSSES.map((p) => `${p * 100} % loss: concealed (÷ lost)`).join(" | ")} |`);
  console.log(`|---|---|---|${LOSSES.map(() => "---|").join("")}`);
  for (const c of codings) {
    const mine = rows.filter((r) => r.coding === c.coding);
    const cells = mine.map((r) => (r.lost === 0 ? `${r.concealed}` : `${r.concealed} (${(r.concealed / r.lost).toFixed(2)})`));
    const codesKbps = c.lm === null ? packedKbps : ideal.get(c.interval)!;
    console.log(`| ${c.coding} | ${codesKbps.toFixed(2)} | ${mine[0]!.wireKbps.toFixed(1)} | ${cells.join(" | ")} |`);
  }
  console.log(`frames lost on the path: ${LOSSES.map((p) => `${p * 100} %: ${rows.find((r) => r.lossPct === p * 100)!.lost}`).join(", ")}`);
  return rows;
}

// (a) full-size random model and LM
const modelDir = join(tmpdir(), "encstream-bench-encodec24-random");
await writeFullSizeModel(modelDir);
const full = await loadStreamingCodec(modelDir, { cacheDir: join(tmpdir(), "encstream-bench-cache") });
const fullFrames = await encodeFrames(full);
await full.release();
// The codec's seeded random LM generator (not public API: reached by path at run time, so that
// this package's type check stays within its own sources), the same LM as codec/bench/lm.ts.
const randomLmModule = "../../codec/src/lm/internal/random-lm.js";
const { FULL_SIZE_LM, randomLmTensors } = (await import(randomLmModule)) as {
  FULL_SIZE_LM: unknown;
  randomLmTensors: (shape: unknown, seed: number) => Parameters<typeof loadLmWeights>[0];
};
const fullLm = loadLmWeights(randomLmTensors(FULL_SIZE_LM, 2024), { frameRateHz: 75 });
await table("full-size encodec_24khz and full-size LM, both random weights", fullFrames, fullLm);

// (b) the tiny golden model and its own LM
const tiny = await loadStreamingCodec(join(FIXTURES, "tiny24"));
const tinyFrames = await encodeFrames(tiny);
await tiny.release();
const tinyLm = loadLmWeights(readSafetensors(readFileSync(join(FIXTURES, "tiny24", "lm.safetensors"))), { frameRateHz: 75 });
await table("tiny24 golden model and its tiny LM (random weights)", tinyFrames, tinyLm);
