import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir } from "../helpers.js";
import { alsaMissingReason } from "./support/alsa.js";
import { CliProcess, cleanupCli, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, TINY24_DIR, writeInputWav } from "./support/fixtures.js";

/* `receive --play` through PortAudio (naudiodon2) on ALSA's null device, as a real process. */


const skipReason = alsaMissingReason();
if (skipReason !== undefined) console.warn(`receive --play test skipped: ${skipReason}`);

let dir: string;
let nullConfig: string;
let brokenConfig: string;

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-play");
  nullConfig = join(dir, "asound-null.conf");
  await writeFile(nullConfig, '</usr/share/alsa/alsa.conf>\npcm.!default { type plug slave.pcm "null" }\n');
  // No sound card: the default device is card 99, which ALSA cannot find (as on a server).
  brokenConfig = join(dir, "asound-broken.conf");
  await writeFile(brokenConfig, "</usr/share/alsa/alsa.conf>\npcm.!default { type hw card 99 }\n");
});

afterAll(cleanupCli);

describe.skipIf(skipReason !== undefined)("receive --play", () => {
  test("plays a stream on ALSA's null device, then waits for another until --timeout seconds of silence", async () => {
    const input = join(dir, "in.wav");
    await writeInputWav(input, SPEECH_24K, 1);
    const common = ["--model", TINY24_DIR, "--cache-dir", join(dir, "cache")];
    const env = { ALSA_CONFIG_PATH: nullConfig };
    // Playing, the receiver waits for further streams: --timeout ends it. (It also bounds the wait for
    // the first packet, and a sender loading its model on a loaded machine took over 3 s.)
    const { receiver, port } = await startReceiver([...common, "--play", "--timeout", "8", "--stream", "--stats"], env);
    const sender = await CliProcess.start(["send", ...common, "--input", input, "--port", String(port), "--stream", "--no-lm"]);
    expect(await sender.finish(), sender.stderr + receiver.stderr + receiver.stdout).toBe(0);
    expect(await receiver.finish(), receiver.stderr + receiver.stdout + sender.stderr + sender.stdout).toBe(0);
    expect(receiver.stdout).toMatch(/received 1\.00 s \(played\): 75 frames, 0\.0 % lost/);
    expect(receiver.stderr).toMatch(/audio 1\.000 s \(24000 samples at 24000 Hz\), 1 stream\(s\)/);
  });
});

describe.skipIf(skipReason !== undefined)("receive without an audio device", () => {
  test("the seed's receive command: exit 1 with one line that says so and suggests --output; no ALSA or PortAudio noise", async () => {
    const receiver = await CliProcess.start(["--mode", "receive", "--port", "0", "--buffer-size", "24", "--overlap", "25", "--model", TINY24_DIR, "--cache-dir", join(dir, "cache")], {
      ALSA_CONFIG_PATH: brokenConfig,
    });
    expect(await receiver.finish()).toBe(1);
    expect(receiver.stdout).toBe("");
    expect(receiver.stderr).toBe("error: no audio output device can be opened (No default device); write a WAV file instead with --output FILE\n");
  });
});
