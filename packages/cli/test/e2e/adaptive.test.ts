import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir } from "../helpers.js";
import { cleanupCli, parseReceiveSummary, prepareCli } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, writeInputWav } from "./support/fixtures.js";
import { capPhases, runUnderCap } from "./support/impairment-relay.js";

/*
 * Adaptive bitrate with real processes: send --bandwidth auto:1.5-12 → relay → receive. The
 * sender starts at the top (12 kbps, K = 16); 1.5 s in, the relay caps the path at 4 kbps (whole
 * datagrams, the 24-byte header included; a 200 ms drop-tail queue); 7.5 s in the cap lifts.
 * Within 2 s of the cap the sender must be under it with under 2 % of its datagrams lost from
 * then on; within 10 s of the lift it must be back at K = 16; the receiver must write exactly the
 * input's length (no stall). The receiver reports drive it all (the relay forwards them back).
 */

const SECONDS = 18;
const CAP_AT_MS = 1_500;
const LIFT_AT_MS = 7_500;
const CAP_KBPS = 4;

let dir: string;
let cache: string;
let input: string;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-adaptive");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  await writeInputWav(input, SPEECH_24K, SECONDS, 1);
});

afterAll(async () => {
  await cleanupCli();
});


test("--bandwidth auto:1.5-12 under a 4 kbps cap: under it within 2 s, loss < 2 %, back at the top within 10 s of the lift, exact length", async () => {
  const output = join(dir, "out.wav");
  const common = ["--model", TINY24_DIR, "--cache-dir", cache];
  const { relay, sender, receiver, sendCode, receiveCode } = await runUnderCap([...common, "--output", output, "--sample-format", "f32", "--timeout", "30", "--buffer-size", "4", "--stats"], [...common, "--input", input, "--no-lm", "--bandwidth", "auto:1.5-12", "--stats"], { capKbps: CAP_KBPS, capAtMs: CAP_AT_MS, liftAtMs: LIFT_AT_MS });
  expect(sendCode, sender.stderr).toBe(0);
  expect(receiveCode, receiver.stderr).toBe(0);

  const records = relay.capRecords;
  const { capEnd, before, adapted } = capPhases(records);
  const firstK = records.find((r) => r.numCodebooks !== undefined)!.numCodebooks;
  const top = records.find((r) => r.atMs > capEnd && r.numCodebooks === 16);
  const summary = parseReceiveSummary(receiver.stderr);
  console.log(
    `adaptive: before the cap ${before.kbps.toFixed(1)} kbps (K ${firstK}); from 2 s into the cap ${adapted.kbps.toFixed(2)} kbps, ` +
      `${(adapted.lossFraction * 100).toFixed(1)} % of ${adapted.datagrams} datagrams dropped; ` +
      `K 16 again ${top === undefined ? "never" : `${((top.atMs - capEnd) / 1000).toFixed(1)} s`} after the lift; ` +
      `${relay.reverseForwarded} receiver reports; receiver ${JSON.stringify(summary)}`,
  );
  expect(firstK).toBe(16);
  expect(before.kbps).toBeGreaterThan(CAP_KBPS * 2);
  expect(adapted.kbps).toBeLessThanOrEqual(CAP_KBPS);
  expect(adapted.lossFraction).toBeLessThan(0.02);
  expect(top).toBeDefined();
  expect(top!.atMs - capEnd).toBeLessThanOrEqual(10_000);
  const wav = await readWavFile(output);
  const inputLength = (await readWavFile(input, { sampleRateHz: 24_000, channels: 1 })).audio[0]!.length;
  expect(wav.audio[0]!.length).toBe(inputLength);
}, 60_000);
