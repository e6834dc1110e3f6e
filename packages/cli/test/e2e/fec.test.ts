import { join } from "node:path";
import { createStreamDecoder, decodePayload, type StreamingCodec } from "@encstream/codec";
import { HEADER_BYTES } from "@encstream/packet";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, loadStreaming, writeInputWav } from "./support/fixtures.js";
import { expectFromRelay, ImpairmentRelay } from "./support/impairment-relay.js";
import { firstDifference, joinTo } from "./support/reference.js";

/*
 * FEC with real processes: `send --stream --fec 2` → the impairment relay (seeded 15 % random
 * loss) → `receive`. From the relay's log alone: which frames were lost, and which of them the
 * receiver can rebuild (a lost frame whose copy rode in one of the 2 frames after it, and one of
 * those arrived). The receiver's counts must be exactly those, and its output bit-identical to
 * the offline streaming decode of the codes the sender sent (every datagram the relay saw, lost
 * or not: one a frame) in which every rebuilt frame is decoded from its first 2 codebooks (what
 * the redundancy carries) and every other lost frame is concealed.
 */

const SECONDS = 4;
const FEC_DEPTH = 2;
const FEC_CODEBOOKS = 2;

let dir: string;
let cache: string;
let input: string;
let streaming: StreamingCodec;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-fec");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_24K, SECONDS, 2);
  streaming = await loadStreaming(TINY24_DIR, cache);
});

afterAll(async () => {
  await cleanupCli();
  await streaming?.release();
});

test("--fec 2 through 15 % seeded loss: recovered and concealed as the relay's drop log implies, output bit-identical to the K = 2 decode of the recovered frames", async () => {
  const output = join(dir, "out.wav");
  const common = ["--model", TINY24_DIR, "--cache-dir", cache];
  // a 3 s buffer: a sender or receiver slowed by a loaded machine still gets every unit in before it is due
  const { receiver, port } = await startReceiver([...common, "--output", output, "--sample-format", "f32", "--stats", "--timeout", "30", "--buffer-size", "3s"]);
  const relay = await ImpairmentRelay.start(port, { seed: 11, lossRate: 0.15, reorderRate: 0, duplicateRate: 0, maxJitterMs: 0, capture: true });
  try {
    const sender = await CliProcess.start(["send", ...common, "--input", input, "--port", String(relay.port), "--stream", "--no-lm", "--bandwidth", "6", "--fec", `${FEC_DEPTH}:${FEC_CODEBOOKS}`]);
    const [sendCode, receiveCode] = await Promise.all([sender.finish(), receiver.finish()]);
    expect(sendCode, sender.stderr).toBe(0);
    expect(receiveCode, receiver.stderr).toBe(0);

    const audio = (await readWavFile(input, { sampleRateHz: 24_000, channels: 1 })).audio;
    // the frames as sent (first copy of each seq; one datagram a frame at 6 kbps)
    const sent = new Map<number, ReturnType<typeof decodePayload>>();
    for (const d of relay.datagrams) {
      const seq = new DataView(d.buffer, d.byteOffset, HEADER_BYTES).getUint32(0);
      if (!sent.has(seq)) sent.set(seq, decodePayload(d.subarray(HEADER_BYTES)));
    }
    const frames = [...sent.entries()].sort((a, b) => a[0] - b[0]).map(([index, p]) => ({ index, codes: p.codes!, numCodebooks: p.numCodebooks, numFrames: 1, lengthSamples: p.lengthSamples }));
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: audio[0]!.length / 320 }, (_, i) => i));
    const lastSeq = frames.length - 1;
    const { lostSeqs } = expectFromRelay(relay.records, lastSeq);
    const recoverable = new Set([...lostSeqs].filter((seq) => Array.from({ length: FEC_DEPTH }, (_, i) => seq + 1 + i).some((n) => n <= lastSeq && !lostSeqs.has(n))));
    const summary = parseReceiveSummary(receiver.stderr);
    console.log(`fec: ${frames.length} frames, ${lostSeqs.size} lost on the path, ${recoverable.size} recoverable; receiver ${JSON.stringify(summary)}`);
    expect(lostSeqs.size).toBeGreaterThan(20);
    expect(recoverable.size).toBeLessThan(lostSeqs.size); // the seed loses some runs of 3
    expect(summary, receiver.stderr).toMatchObject({ lost: lostSeqs.size, recovered: recoverable.size, concealed: lostSeqs.size - recoverable.size, late: 0 });

    // what the receiver must have written: recovered frames at K = 2, the rest of the lost concealed
    const decoder = createStreamDecoder(streaming);
    const parts: Float32Array[][] = [];
    for (const frame of frames) {
      if (!lostSeqs.has(frame.index)) parts.push(await decoder.push(frame));
      else if (recoverable.has(frame.index)) parts.push(await decoder.push({ ...frame, codes: frame.codes.slice(0, FEC_CODEBOOKS), numCodebooks: FEC_CODEBOOKS }));
      else parts.push(await decoder.pushMissing(1));
    }
    parts.push(await decoder.end());
    const expected = joinTo(parts, 1, audio[0]!.length);
    const wav = await readWavFile(output);
    expect(wav.audio[0]!.length).toBe(audio[0]!.length);
    expect(firstDifference(wav.audio, expected)).toBe(-1);
  } finally {
    await relay.close();
  }
}, 60_000);
