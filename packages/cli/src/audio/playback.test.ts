import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { makeTempDir } from "../../test/helpers.js";
import { describeLoadFailure, openPlayback } from "./playback.js";

const CHILD = fileURLToPath(new URL("../../test/fixtures/playback-child.ts", import.meta.url));

/** Why ALSA (libasound.so.2) cannot be used here, or undefined when it is present. */
function alsaMissingReason(): string | undefined {
  if (process.platform !== "linux") return `ALSA's null device exists on Linux only (this is ${process.platform})`;
  for (const ldconfig of ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]) {
    try {
      const cache = execFileSync(ldconfig, ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      return cache.includes("libasound.so.2") ? undefined : "libasound2 is not installed (see .ci/system-deps)";
    } catch {
      // try the next location
    }
  }
  const dirs = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"];
  return dirs.some((d) => existsSync(join(d, "libasound.so.2"))) ? undefined : "libasound2 is not installed (see .ci/system-deps)";
}

const skipReason = alsaMissingReason();
if (skipReason !== undefined) console.warn(`playback tests against ALSA's null device skipped: ${skipReason}`);

let dir: string;
let nullConfig: string;
let brokenConfig: string;
beforeAll(async () => {
  dir = await makeTempDir("playback");
  // The system's ALSA configuration, then a default device that swallows audio (unpaced).
  nullConfig = join(dir, "asound-null.conf");
  await writeFile(nullConfig, '</usr/share/alsa/alsa.conf>\npcm.!default { type plug slave.pcm "null" }\n');
  // A default device that cannot open: sound card 99.
  brokenConfig = join(dir, "asound-broken.conf");
  await writeFile(brokenConfig, "</usr/share/alsa/alsa.conf>\npcm.!default { type hw card 99 }\n");
});

interface ChildResult {
  support?: { available: boolean; reason?: string };
  framesWritten?: number;
  error?: { name: string; code?: string; message: string };
}

/** Runs the playback child with ALSA_CONFIG_PATH set, returns its RESULT line. */
function runPlaybackChild(alsaConfig: string, args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      env: { ...process.env, ALSA_CONFIG_PATH: alsaConfig },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || line === undefined) {
        reject(new Error(`playback child exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr.slice(-2000)}`));
      } else {
        resolve(JSON.parse(line.slice("RESULT ".length)) as ChildResult);
      }
    });
  });
}

describe.skipIf(skipReason !== undefined)("playback through PortAudio on ALSA's null device", () => {
  test.each([
    { sampleFormat: "f32", channels: 2, rate: 48_000, seconds: 2 },
    { sampleFormat: "s16", channels: 1, rate: 24_000, seconds: 1 },
  ])("plays $seconds s of $sampleFormat × $channels at $rate Hz and closes", async ({ sampleFormat, channels, rate, seconds }) => {
    const result = await runPlaybackChild(nullConfig, [sampleFormat, String(channels), String(rate), String(seconds)]);
    expect(result.error).toBeUndefined();
    expect(result.support).toEqual({ available: true });
    expect(result.framesWritten).toBe(rate * seconds);
  });

  test("a device that cannot open is a CliError playback-failed with PortAudio's reason", async () => {
    const result = await runPlaybackChild(brokenConfig, ["f32", "1", "24000", "1"]);
    expect(result.error).toEqual({
      name: "CliError",
      code: "playback-failed",
      message: expect.stringMatching(/^cannot open the audio device \(.+\) for 1 channel\(s\) at 24000 Hz; write a WAV file instead with --output FILE$/) as unknown as string,
    });
  });
});

describe("openPlayback", () => {
  test.each([
    [{ sampleRateHz: 10, channels: 1 }, /^sampleRateHz must be an integer in \[1000, 768000\], got 10$/],
    [{ sampleRateHz: 24_000, channels: 0 }, /^channels must be an integer in \[1, 64\], got 0$/],
    [{ sampleRateHz: 24_000, channels: 1, sampleFormat: "u8" as "s16" }, /^sampleFormat must be "s16" or "f32", got "u8"$/],
    [{ sampleRateHz: 24_000, channels: 1, deviceId: -2 }, /^deviceId must be an integer/],
  ])("rejects bad options before loading anything: %o", async (options, message) => {
    await expect(openPlayback(options)).rejects.toThrow(RangeError);
    await expect(openPlayback(options)).rejects.toThrow(message);
  });
});

describe("describeLoadFailure explains each way naudiodon2 fails to load", () => {
  const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  test.each([
    {
      failure: error("Cannot find package 'naudiodon2' imported from /app/dist/index.js", "ERR_MODULE_NOT_FOUND"),
      expected: "the optional dependency naudiodon2 is not installed",
    },
    {
      failure: error("Could not locate the bindings file. Tried:\n → /app/node_modules/naudiodon2/build/naudiodon.node"),
      expected: "naudiodon2's native addon was not built",
    },
    {
      failure: error("libasound.so.2: cannot open shared object file: No such file or directory"),
      expected: "ALSA's library is missing (install it: apt-get install libasound2)",
    },
    {
      failure: error("/app/node_modules/naudiodon2/build/Release/libportaudio.so.2: wrong ELF class"),
      expected: "the PortAudio library bundled with naudiodon2 could not be loaded",
    },
    { failure: error("something else\nwith detail"), expected: "naudiodon2 failed to load (something else)" },
  ])("$expected", ({ failure, expected }) => {
    const message = describeLoadFailure(failure);
    expect(message).toContain(expected);
    expect(message.startsWith("audio playback is unavailable: ")).toBe(true);
    expect(message.endsWith("Write a WAV file with --output instead.")).toBe(true);
  });
});
