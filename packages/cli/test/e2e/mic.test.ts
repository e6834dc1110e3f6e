import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { WavFileWriter } from "../../src/audio/wav-writer.js";
import { makeTempDir, maxAbsDiff, seededRandom } from "../helpers.js";
import { alsaMissingReason, writeCaptureConfig } from "./support/alsa.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { TINY24_DIR } from "./support/fixtures.js";

/*
 * `send --input mic` for real: ALSA's `file` plugin with an `infile` feeds a known signal into
 * PortAudio's capture (naudiodon2), as a microphone would; `encstream devices` says at which rate
 * and channel count the default input captures. The received stream equals the same signal sent
 * from a WAV file (frame-exact mode), and Ctrl-C ends both sides cleanly.
 */


const skipReason = alsaMissingReason();
if (skipReason !== undefined) console.warn(`send --input mic test skipped: ${skipReason}`);

const SIGNAL_S = 1.5;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (skipReason !== undefined) return;
  await prepareCli();
  dir = await makeTempDir("e2e-mic");
  env = await writeCaptureConfig(dir, join(dir, "in.raw"));
});

afterAll(cleanupCli);

describe.skipIf(skipReason !== undefined)("send --input mic", () => {
  test("a known signal captured through ALSA's file plugin arrives as the same signal sent from a WAV; Ctrl-C ends both sides", async () => {
    // ALSA opens the capture only when the infile exists: a placeholder until the rate is known.
    await writeFile(join(dir, "in.raw"), new Uint8Array(4096));
    const devices = await CliProcess.start(["devices", "--json"], env);
    expect(await devices.finish(), devices.stderr).toBe(0);
    const list = JSON.parse(devices.stdout.slice(devices.stdout.indexOf("[{"))) as { inputChannels: number; sampleRateHz: number; defaultInput: boolean; name: string }[];
    const device = list.find((d) => d.defaultInput);
    expect(device, devices.stdout).toBeDefined();
    const rate = Math.round(device!.sampleRateHz);
    const channels = Math.min(device!.inputChannels, 2);

    // The signal at the device's rate: tones and noise, the same in every captured channel.
    const random = seededRandom(7);
    const signal = Float32Array.from({ length: Math.round(SIGNAL_S * rate) }, (_, i) =>
      Math.fround(0.3 * Math.sin((2 * Math.PI * 440 * i) / rate) + 0.1 * Math.sin((2 * Math.PI * 1234 * i) / rate) + 0.05 * (random() - 0.5)),
    );
    const raw = new Float32Array(signal.length * channels);
    signal.forEach((x, i) => raw.fill(x, i * channels, (i + 1) * channels));
    await writeFile(join(dir, "in.raw"), new Uint8Array(raw.buffer));
    const wavPath = join(dir, "signal.wav");
    const wav = await WavFileWriter.create(wavPath, { sampleRateHz: rate, channels: 1, sampleFormat: "f32" });
    await wav.write([signal]);
    await wav.close();

    const common = ["--model", TINY24_DIR, "--cache-dir", join(dir, "cache"), "--stream"];
    const receiveArgs = [...common, "--sample-format", "f32", "--stats", "--buffer-size", "100", "--timeout", "30"];
    // The file case.
    const fromFile = await startReceiver([...receiveArgs, "--output", join(dir, "file.wav")]);
    const fileSender = await CliProcess.start(["send", ...common, "--no-lm", "--input", wavPath, "--port", String(fromFile.port)]);
    expect(await fileSender.finish(), fileSender.stderr).toBe(0);
    expect(await fromFile.receiver.finish(), fromFile.receiver.stderr).toBe(0);

    // The microphone case, stopped by Ctrl-C once the signal has gone out.
    const fromMic = await startReceiver([...receiveArgs, "--output", join(dir, "mic.wav")]);
    const micSender = await CliProcess.start(["send", ...common, "--no-lm", "--stats", "--input", "mic", "--port", String(fromMic.port)], env);
    // The stats lines come about once a second, not at every whole second: wait for any line at or
    // past the signal's end (plus half a second).
    const afterSignalS = Math.ceil(SIGNAL_S + 0.5);
    await micSender.waitForStderr(new RegExp(`send: (?:[${afterSignalS}-9]|[1-9]\\d+)\\.\\d s live`), 40_000);
    micSender.kill("SIGINT");
    expect(await micSender.finish(), micSender.stderr).toBe(130);
    expect(micSender.stderr).toMatch(/sending input device \d+ "default"/);
    // The receiver ends by itself: the end-of-stream flag came with the last frame.
    expect(await fromMic.receiver.finish(), fromMic.receiver.stderr).toBe(0);
    expect(parseReceiveSummary(fromMic.receiver.stderr)).toMatchObject({ lost: 0, concealed: 0 });

    const fileOut = (await readWavFile(join(dir, "file.wav"))).audio[0]!;
    const micOut = (await readWavFile(join(dir, "mic.wav"))).audio[0]!;
    expect(fileOut.length).toBe(Math.ceil((signal.length * 24_000) / rate));
    expect(micOut.length).toBeGreaterThan(fileOut.length);
    // Aligned (the best lag near 0), the two agree up to the file's end, where its resampler is flushed.
    const compared = fileOut.length - 240;
    let best = { lag: 0, diff: Number.POSITIVE_INFINITY };
    for (let lag = 0; lag <= 8; lag++) {
      const diff = maxAbsDiff(fileOut, micOut.subarray(lag), 0, compared);
      if (diff < best.diff) best = { lag, diff };
    }
    console.info(`send --input mic vs the WAV: lag ${best.lag}, largest difference ${best.diff.toExponential(2)} over ${compared} samples`);
    expect(best.lag).toBe(0);
    expect(best.diff).toBeLessThanOrEqual(1e-4);
  }, 90_000);
});
