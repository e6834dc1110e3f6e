import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, loadStreaming, writeInputWav } from "./support/fixtures.js";
import { expectFromRelay, ImpairmentRelay } from "./support/impairment-relay.js";

/*
 * Issue #14 item 4: LM coding in --stream mode multiplied loss (a lost frame cost every frame up
 * to the next LM keyframe, 15 frames later), and it was the default. send → relay (seeded 10 %
 * loss, nothing else) → receive, as real processes on loopback, with the tiny model and its LM
 * beside it (so the LM is available to both sides):
 * - `send --stream` (no --no-lm) now sends packed codes: frames concealed = frames lost (+ any
 *   that came too late on a loaded machine), none undecodable;
 * - `--stream --lm --keyframe-interval 1` LM-codes every frame on its own: the same;
 * - `--stream --lm` with the default interval (15) still multiplies loss, as the CLI README's
 *   table says: the reason it is no longer the default.
 */

const SECONDS = 3;
const FRAMES = (SECONDS * 24_000) / 320;

let dir: string;
let cache: string;
let input: string;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-lm-loss");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_24K, SECONDS, 1);
  // build the model's graphs into the cache once, before three senders and receivers start at once
  await (await loadStreaming(TINY24_DIR, cache)).release();
});

afterAll(async () => {
  await cleanupCli();
});

/** receive ← relay (10 % loss) ← send --stream; the sender's log, the receiver's summary, the frames the relay lost. */
async function lossyStream(name: string, seed: number, sendArgs: string[]) {
  const output = join(dir, `${name}.wav`);
  const common = ["--model", TINY24_DIR, "--cache-dir", cache, "--stream"];
  const { receiver, port } = await startReceiver([...common, "--output", output, "--stats", "--timeout", "15"]);
  const relay = await ImpairmentRelay.start(port, { seed, lossRate: 0.1, reorderRate: 0, duplicateRate: 0, maxJitterMs: 0 });
  try {
    const sender = await CliProcess.start(["send", ...common, "--input", input, "--port", String(relay.port), ...sendArgs]);
    const [sendCode, receiveCode] = await Promise.all([sender.finish(30_000), receiver.finish(30_000)]);
    expect(sendCode, sender.stderr).toBe(0);
    expect(receiveCode, `${receiver.stderr}\n--- sender:\n${sender.stderr}`).toBe(0);
    const wav = await readWavFile(output);
    expect(wav.audio[0]!.length).toBe(SECONDS * 24_000);
    const { lostSeqs } = expectFromRelay(relay.records, FRAMES - 1);
    expect(lostSeqs.size).toBeGreaterThan(FRAMES * 0.05); // the path really lost frames
    const summary = parseReceiveSummary(receiver.stderr);
    // lost: the relay's, and those a loaded machine's bursts brought too far ahead of playout
    expect(summary.lost, receiver.stderr).toBe(lostSeqs.size + (summary["too-far-ahead"] ?? 0));
    return { sender, receiver, summary, lost: lostSeqs.size };
  } finally {
    await relay.close();
  }
}

describe.concurrent("send --stream → 10 % loss → receive (tiny model with its LM)", () => {
  test("the default --stream sends packed codes: frames concealed = frames lost", async () => {
    const { sender, summary } = await lossyStream("default", 3, []);
    expect(sender.stderr).toMatch(/packed codes/);
    expect(sender.stderr).not.toMatch(/LM-coded/);
    expect(summary.undecodable ?? 0).toBe(0);
    expect(summary.concealed).toBe(summary.lost! + (summary.late ?? 0));
  });

  test("--lm --keyframe-interval 1: LM-coded, each frame on its own, frames concealed = frames lost", async () => {
    const { sender, receiver, summary } = await lossyStream("lm-every-frame", 4, ["--lm", "--keyframe-interval", "1"]);
    expect(sender.stderr).toMatch(/LM-coded \(keyframe every 1 frames\)/);
    expect(receiver.stderr).toMatch(/LM-coded/);
    expect(summary.undecodable ?? 0).toBe(0);
    expect(summary.concealed).toBe(summary.lost! + (summary.late ?? 0));
  });

  test("--lm with the default keyframe interval (15) still multiplies loss: why it is opt-in", async () => {
    const { sender, summary, lost } = await lossyStream("lm-interval-15", 5, ["--lm"]);
    expect(sender.stderr).toMatch(/LM-coded \(keyframe every 15 frames\)/);
    expect(summary.undecodable).toBeGreaterThan(lost);
    expect(summary.concealed).toBeGreaterThan(2 * lost);
  });
});
