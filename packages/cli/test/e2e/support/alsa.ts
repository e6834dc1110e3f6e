import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/*
 * ALSA without a sound card, for the tests of `--play` and `--input mic`: the null device for
 * playback, and the `file` plugin with an `infile` that feeds a known signal into capture.
 */

/** Why the ALSA tests cannot run here (not Linux, no libasound2), or undefined when they can. */
export function alsaMissingReason(): string | undefined {
  if (process.platform !== "linux") return `ALSA exists on Linux only (this is ${process.platform})`;
  try {
    const cache = execFileSync("/sbin/ldconfig", ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return cache.includes("libasound.so.2") ? undefined : "libasound2 is not installed";
  } catch {
    return "ldconfig is not available to look for libasound2";
  }
}

/**
 * Writes `dir/asound.conf`, whose default device captures from the raw file `infile` (playback goes
 * to the null device), and returns the environment that points ALSA at it.
 */
export async function writeCaptureConfig(dir: string, infile: string): Promise<NodeJS.ProcessEnv> {
  const config = join(dir, "asound.conf");
  await writeFile(
    config,
    ["</usr/share/alsa/alsa.conf>", 'pcm.!default { type plug slave.pcm "capfile" }', `pcm.capfile { type file slave.pcm "null" file "/dev/null" infile "${infile}" format "raw" }`, ""].join("\n"),
  );
  return { ALSA_CONFIG_PATH: config };
}
