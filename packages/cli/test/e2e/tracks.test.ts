import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { WavFileWriter } from "../../src/audio/wav-writer.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, SPEECH_48K, TINY24_DIR, TINY48_DIR, writeInputWav } from "./support/fixtures.js";
import { expectFromRelay, ImpairmentRelay, type RelayRecord } from "./support/impairment-relay.js";

/*
 * Multi-track as real processes on loopback: one `send` with two and four tracks (24 kHz and
 * 48 kHz tiny models mixed, 250 ms chunks) → a relay that drops 10 % of the datagrams → one
 * `receive` writing a WAV per track. Every track's output must have exactly its input's length
 * and be bit-identical to the output of a single-track run of the same input (no loss) outside
 * the chunks the receiver concealed: so the tracks are aligned to the sample (a track shifted by
 * one sample would differ everywhere). Which chunks were concealed is read from the relay's log
 * (every chunk with a fragment dropped) and from the output (a concealed chunk's middle is exact
 * silence; a chunk that arrived too late on a loaded machine is concealed too), and must agree
 * with the receiver's per-track statistics.
 */

const CHUNK_MS = 250;
const OVERLAP = 0.25;

interface TrackSpec {
  readonly name: string;
  readonly model: string;
  readonly source: string;
  readonly offsetS: number;
  readonly rateHz: number;
  readonly channels: number;
}

const TRACKS: readonly TrackSpec[] = [
  { name: "a", model: TINY24_DIR, source: SPEECH_24K, offsetS: 0, rateHz: 24_000, channels: 1 },
  { name: "b", model: TINY48_DIR, source: SPEECH_48K, offsetS: 0, rateHz: 48_000, channels: 2 },
  { name: "c", model: TINY24_DIR, source: SPEECH_24K, offsetS: 1, rateHz: 24_000, channels: 1 },
  { name: "d", model: TINY48_DIR, source: SPEECH_48K, offsetS: 1, rateHz: 48_000, channels: 2 },
];
const BANDWIDTHS = ["6", "12", "3", "6"];

let dir: string;
let cache: string;
const references = new Map<string, Float32Array[]>();

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-tracks");
  cache = join(dir, "cache");
  await Promise.all(TRACKS.map((t) => writeInputWav(join(dir, `${t.name}.wav`), t.source, 2, t.offsetS)));
  // Each track's single-track run (no loss): the reference. Two at a time (a loaded machine).
  for (let i = 0; i < TRACKS.length; i += 2) {
    await Promise.all(
      TRACKS.slice(i, i + 2).map(async (t, j) => {
        const output = join(dir, `single-${t.name}.wav`);
        const common = ["--model", t.model, "--cache-dir", cache];
        const { receiver, port } = await startReceiver([...common, "--output", output, "--sample-format", "f32", "--timeout", "30"]);
        const sender = await CliProcess.start(["send", ...common, "--input", join(dir, `${t.name}.wav`), "--port", String(port), "--no-lm", "--chunk-ms", String(CHUNK_MS), "--bandwidth", BANDWIDTHS[i + j]!]);
        const [s, r] = await Promise.all([sender.finish(60_000), receiver.finish(60_000)]);
        expect(s, sender.stderr).toBe(0);
        expect(r, receiver.stderr).toBe(0);
        references.set(t.name, (await readWavFile(output)).audio);
      }),
    );
  }
}, 180_000);

afterAll(async () => {
  await cleanupCli();
});

/** The numbers of one track's `--stats` summary. */
function trackSummary(stderr: string, track: number): Record<string, number> {
  const start = stderr.indexOf(`receive: track ${track} summary`);
  if (start < 0) throw new Error(`no summary of track ${track}:\n${stderr}`);
  const end = stderr.indexOf("receive:", start + 10);
  const text = stderr.slice(start, end < 0 ? undefined : end);
  const figures: Record<string, number> = {};
  for (const name of ["played", "concealed", "lost", "late", "unfit", "malformed"]) {
    const m = text.match(new RegExp(`(\\d+) ${name}\\b`));
    if (m) figures[name] = Number(m[1]);
  }
  return figures;
}

/** Sends `tracks` as one run through a relay with 10 % loss; returns each track's output, the relay's log and the receiver's stderr. */
async function multiTrackRun(name: string, tracks: readonly TrackSpec[], seed: number, extraSend: string[] = []) {
  const models = tracks.map((t) => t.model).join(",");
  const common = ["--cache-dir", cache];
  const { receiver, port } = await startReceiver([
    ...common,
    "--model",
    [TINY24_DIR, TINY48_DIR].join(","),
    "--output",
    join(dir, `${name}-{track}.wav`),
    "--mix",
    join(dir, `${name}-mix.wav`),
    "--sample-format",
    "f32",
    "--stats",
    "--timeout",
    "30",
    "--buffer-size",
    "3",
  ]);
  const relay = await ImpairmentRelay.start(port, { seed, lossRate: 0.1, reorderRate: 0, duplicateRate: 0, maxJitterMs: 5 });
  try {
    const sender = await CliProcess.start([
      "send",
      ...common,
      "--model",
      models,
      ...tracks.flatMap((t) => ["--input", join(dir, `${t.name}.wav`)]),
      "--port",
      String(relay.port),
      "--no-lm",
      "--chunk-ms",
      String(CHUNK_MS),
      "--bandwidth",
      tracks.map((t) => BANDWIDTHS[TRACKS.indexOf(t)]).join(","),
      ...extraSend,
    ]);
    const [s, r] = await Promise.all([sender.finish(60_000), receiver.finish(60_000)]);
    expect(s, sender.stderr).toBe(0);
    expect(r, receiver.stderr).toBe(0);
    // track t's stream id, from the sender's summary lines
    const streamIds = tracks.map((_, t) => parseInt(sender.stdout.match(new RegExp(`track ${t}: sent [^\\n]*\\(stream ([0-9a-f]{4})\\)`))![1]!, 16));
    const outputs = await Promise.all(tracks.map(async (_, t) => (await readWavFile(join(dir, `${name}-${t}.wav`))).audio));
    const mix = await readWavFile(join(dir, `${name}-mix.wav`));
    return { outputs, mix, records: relay.records, streamIds, stderr: receiver.stderr };
  } finally {
    await relay.close();
  }
}

/** Checks one track's output against its single-track run outside the chunks it concealed; returns how many it concealed. */
function checkTrack(spec: TrackSpec, output: Float32Array[], records: readonly RelayRecord[], streamId: number, summary: Record<string, number>): number {
  const reference = references.get(spec.name)!;
  const length = reference[0]!.length;
  expect(output.length).toBe(spec.channels);
  expect(output[0]!.length, `track ${spec.name}: exact length`).toBe(length);
  const chunk = (CHUNK_MS * spec.rateHz) / 1000;
  const overlap = Math.round(chunk * OVERLAP);
  const hop = chunk - overlap;
  const chunks = Math.ceil((length - overlap) / hop);
  const mine = records.filter((r) => r.fragId >>> 16 === streamId);
  const expected = expectFromRelay(mine, chunks - 1);
  const concealed = new Set<number>();
  for (let k = 0; k < chunks; k++) {
    const middle = output[0]!.subarray(k * hop + overlap, Math.min(length, k * hop + chunk - overlap));
    if (middle.length > 0 ? middle.every((x) => x === 0) : expected.lostSeqs.has(k)) concealed.add(k);
  }
  for (const seq of expected.lostSeqs) expect(concealed.has(seq), `track ${spec.name}: lost chunk ${seq} was not concealed`).toBe(true);
  // outside the concealed chunks' spans, bit-identical to the single-track run
  const covered = new Uint8Array(length);
  for (const k of concealed) covered.fill(1, k * hop, Math.min(length, k * hop + chunk));
  let compared = 0;
  for (let c = 0; c < spec.channels; c++) {
    for (let i = 0; i < length; i++) {
      if (covered[i] === 1) continue;
      if (output[c]![i] !== reference[c]![i]) throw new Error(`track ${spec.name}: channel ${c} sample ${i} is ${output[c]![i]}, the single-track run has ${reference[c]![i]}`);
      compared++;
    }
  }
  expect(compared, `track ${spec.name}: most of the track was compared`).toBeGreaterThan(length * spec.channels * 0.3);
  expect(summary.concealed, `track ${spec.name}: the receiver's count`).toBe(concealed.size);
  expect(summary.lost).toBe(expected.lostSeqs.size);
  expect(summary.unfit).toBe(0);
  if (process.env.ENCSTREAM_TEST_VERBOSE === "1") {
    process.stderr.write(`track ${spec.name} (${spec.rateHz / 1000} kHz): ${chunks} chunks, ${expected.dropped} of ${mine.length} datagrams dropped, ${expected.lostSeqs.size} chunks lost, ${concealed.size} concealed, ${compared} of ${length * spec.channels} samples compared, all equal\n`);
  }
  return concealed.size;
}

describe("multi-track: one sender, one port, 10 % loss", () => {
  test("two tracks (24 kHz + 48 kHz): exact lengths, bit-identical to their single-track runs outside concealed chunks, the mix aligned", async () => {
    const tracks = TRACKS.slice(0, 2);
    const run = await multiTrackRun("two", tracks, 13);
    let concealed = 0;
    tracks.forEach((t, i) => (concealed += checkTrack(t, run.outputs[i]!, run.records, run.streamIds[i]!, trackSummary(run.stderr, i))));
    expect(run.records.filter((r) => r.copies === 0).length).toBeGreaterThan(run.records.length * 0.05); // the relay really dropped
    expect(concealed).toBeGreaterThan(0);
    // The mix (48 kHz stereo): the 48 kHz track plus the 24 kHz one upsampled, whose sample n is the mix's 2n.
    const [a, b] = run.outputs as [Float32Array[], Float32Array[]];
    expect(run.mix.sampleRateHz).toBe(48_000);
    expect(run.mix.audio[0]!.length).toBe(b[0]!.length);
    let worst = 0;
    for (let n = 0; 2 * n < b[0]!.length; n += 7) {
      for (let c = 0; c < 2; c++) {
        const sum = a[0]![n]! + b[c]![2 * n]!;
        if (Math.abs(sum) < 1) worst = Math.max(worst, Math.abs(run.mix.audio[c]![2 * n]! - sum));
      }
    }
    expect(worst).toBeLessThan(1e-6);
  }, 120_000);

  test("four tracks (24, 48, 24, 48 kHz): exact lengths, bit-identical to their single-track runs outside concealed chunks", async () => {
    const run = await multiTrackRun("four", TRACKS, 29);
    expect(new Set(run.streamIds).size).toBe(4);
    TRACKS.forEach((t, i) => checkTrack(t, run.outputs[i]!, run.records, run.streamIds[i]!, trackSummary(run.stderr, i)));
  }, 120_000);

  test("--tracks split: the channels of one WAV as tracks, each equal to its single-track run (no loss)", async () => {
    // a stereo 24 kHz WAV whose channels are a.wav and c.wav
    const [a, c] = await Promise.all([readWavFile(join(dir, "a.wav")), readWavFile(join(dir, "c.wav"))]);
    const stereo = join(dir, "ac.wav");
    const writer = await WavFileWriter.create(stereo, { sampleRateHz: 24_000, channels: 2 });
    await writer.write([a.audio[0]!, c.audio[0]!]);
    await writer.close();
    const common = ["--model", TINY24_DIR, "--cache-dir", cache];
    const { receiver, port } = await startReceiver([...common, "--output", join(dir, "split-{track}.wav"), "--sample-format", "f32", "--timeout", "30"]);
    const sender = await CliProcess.start(["send", ...common, "--input", stereo, "--tracks", "split", "--port", String(port), "--no-lm", "--chunk-ms", String(CHUNK_MS), "--bandwidth", "6,3"]);
    const [s, r] = await Promise.all([sender.finish(60_000), receiver.finish(60_000)]);
    expect(s, sender.stderr).toBe(0);
    expect(r, receiver.stderr).toBe(0);
    expect(sender.stderr).toContain("ac.wav channel 2 of 2");
    for (const [t, name] of [[0, "a"], [1, "c"]] as const) {
      const got = (await readWavFile(join(dir, `split-${t}.wav`))).audio;
      expect(got[0], `track ${t}`).toEqual(references.get(name)![0]);
    }
  }, 60_000);

  test("--key-file: every track sealed, opened and played, each equal to its single-track run", async () => {
    const key = join(dir, "tracks.key");
    const keygen = await CliProcess.start(["keygen", key]);
    expect(await keygen.finish(30_000), keygen.stderr).toBe(0);
    const tracks = TRACKS.slice(0, 2);
    const common = ["--cache-dir", cache, "--key-file", key];
    const { receiver, port } = await startReceiver([...common, "--model", `${TINY24_DIR},${TINY48_DIR}`, "--output", join(dir, "keyed-{track}.wav"), "--sample-format", "f32", "--stats", "--timeout", "30"]);
    const sender = await CliProcess.start([
      "send",
      ...common,
      "--model",
      tracks.map((t) => t.model).join(","),
      ...tracks.flatMap((t) => ["--input", join(dir, `${t.name}.wav`)]),
      "--port",
      String(port),
      "--no-lm",
      "--chunk-ms",
      String(CHUNK_MS),
      "--bandwidth",
      "6,12",
    ]);
    const [s, r] = await Promise.all([sender.finish(60_000), receiver.finish(60_000)]);
    expect(s, sender.stderr).toBe(0);
    expect(r, receiver.stderr).toBe(0);
    expect(receiver.stderr).toMatch(/router: \d+ datagrams, 0 malformed, 0 unauthenticated/);
    for (const [t, spec] of tracks.entries()) {
      const got = (await readWavFile(join(dir, `keyed-${t}.wav`))).audio;
      got.forEach((channel, c) => expect(channel, `track ${t} channel ${c}`).toEqual(references.get(spec.name)![c]));
      expect(trackSummary(receiver.stderr, t)).toMatchObject({ concealed: 0, lost: 0 });
    }
  }, 60_000);
});
