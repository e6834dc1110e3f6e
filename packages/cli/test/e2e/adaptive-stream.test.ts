import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { cleanupCli, parseReceiveSummary, prepareCli } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, writeInputWav } from "./support/fixtures.js";
import { capPhases, runUnderCap } from "./support/impairment-relay.js";

/*
 * Adaptive bitrate in --stream mode, frames per message included, with real processes:
 * send --stream --bandwidth auto:1.5-12 → relay → receive. At one frame a message the 24-byte
 * datagram header and the payload header alone cost 21 kbps, so a 4 kbps cap (whole datagrams,
 * a 200 ms drop-tail queue) is reachable only with many frames a message: the rate controller
 * chooses (K, frames per message) together. 1.5 s in, the relay caps the path; 7 s in the cap
 * lifts. Within 2 s of the cap the sender must be under it, with under 2 % of its datagrams lost
 * from then on and more than one frame a message; after the lift it must climb back (more
 * codebooks, fewer frames a message); the receiver must write exactly the input's length.
 * The sender's --stats summary names the frames per message it used.
 */

const SECONDS = 15;
const CAP_AT_MS = 1_500;
const LIFT_AT_MS = 7_000;
const CAP_KBPS = 4;

let dir: string;
let cache: string;
let input: string;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-adaptive-stream");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_24K, SECONDS, 1);
});

afterAll(async () => {
  await cleanupCli();
});


test("--stream --bandwidth auto:1.5-12 under a 4 kbps cap: more frames a message, under the cap within 2 s, loss < 2 %, climbs back after the lift, exact length", async () => {
  const output = join(dir, "out.wav");
  const common = ["--model", TINY24_DIR, "--cache-dir", cache, "--stream"];
  const { relay, sender, receiver, sendCode, receiveCode } = await runUnderCap([...common, "--output", output, "--sample-format", "f32", "--timeout", "30", "--buffer-size", "200ms", "--stats"], [...common, "--input", input, "--no-lm", "--bandwidth", "auto:1.5-12", "--stats"], { capKbps: CAP_KBPS, capAtMs: CAP_AT_MS, liftAtMs: LIFT_AT_MS });
  expect(sendCode, sender.stderr).toBe(0);
  expect(receiveCode, receiver.stderr).toBe(0);

  const records = relay.capRecords;
  const { capStart, capEnd, before, adapted, after } = capPhases(records);
  const first = records.find((r) => r.numCodebooks !== undefined)!;
  const top = records.find((r) => r.atMs > capEnd && r.numCodebooks === 16 && r.numFrames === 1);
  const summary = parseReceiveSummary(receiver.stderr);
  const used = /frames a message used: ([\d, ]+)/.exec(sender.stderr)?.[1];
  console.log(
    `adaptive --stream: before the cap ${before.kbps.toFixed(1)} kbps (K ${first.numCodebooks}, ${first.numFrames} frame(s) a message); ` +
      `from 2 s into the cap ${adapted.kbps.toFixed(2)} kbps, ${(adapted.lossFraction * 100).toFixed(1)} % of ${adapted.datagrams} datagrams dropped, frames a message ${adapted.frames.join("/")}; ` +
      `after the lift frames a message ${after.frames.join("/")}, K 16 at 1 frame a message again ${top === undefined ? "not before the end" : `${((top.atMs - capEnd) / 1000).toFixed(1)} s`} after it; ` +
      `sender used ${used ?? "?"} frames a message; receiver ${JSON.stringify(summary)}`,
  );
  expect([first.numCodebooks, first.numFrames]).toEqual([16, 1]);
  expect(before.kbps).toBeGreaterThan(CAP_KBPS * 2);
  expect(adapted.kbps).toBeLessThanOrEqual(CAP_KBPS);
  expect(adapted.lossFraction).toBeLessThan(0.02);
  expect(Math.min(...adapted.frames)).toBeGreaterThan(1);
  // climbs back: after the lift, messages shorter than any under the cap carry more codebooks
  const underCap = records.filter((r) => r.atMs >= capStart + 2_000 && r.atMs < capEnd && r.numCodebooks !== undefined);
  const maxKUnder = Math.max(...underCap.map((r) => r.numCodebooks!));
  expect(after.frames.some((f) => f < Math.min(...adapted.frames))).toBe(true);
  expect(records.some((r) => r.atMs > capEnd && r.numCodebooks !== undefined && r.numCodebooks > maxKUnder)).toBe(true);
  expect(used?.split(", ").length ?? 0).toBeGreaterThan(1);
  const wav = await readWavFile(output);
  const inputLength = (await readWavFile(input, { sampleRateHz: 24_000, channels: 1 })).audio[0]!.length;
  expect(wav.audio[0]!.length).toBe(inputLength);
}, 60_000);
