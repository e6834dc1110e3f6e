/**
 * The audio player process: a CommonJS script run with `node -e` by `openPlayback` and
 * `probePlayback` (audio/playback.ts). It loads naudiodon2 (PortAudio) and plays what arrives on
 * its stdin, so that the noise of the native libraries stays in that process: PortAudio's
 * version banner and naudiodon2's option dump on stdout, ALSA's dozens of "ALSA lib …" lines on
 * stderr while PortAudio probes the devices. Its parent ignores its stdout and keeps only the
 * tail of its stderr.
 *
 * argv[1] is a JSON {@link PlayerConfig}. Messages on the IPC channel, child to parent:
 * `{ type: "ready" }` once the device is open (the probe then closes it and exits),
 * `{ type: "failed", stage: "load" | "open", message, code }` when naudiodon2 does not load or the
 * device does not open (then the process exits 0). Parent to child: `{ type: "abort" }` stops at
 * once. The end of stdin plays out what is queued, stops the device and exits.
 */
export const PLAYER_SCRIPT = `
"use strict";
(function main() {
const config = JSON.parse(process.argv[1]);
const report = (message) => {
  if (process.connected) process.send(message);
};
const disconnect = () => {
  if (process.connected) process.disconnect();
};
const fail = (stage, error) => {
  report({ type: "failed", stage, message: error instanceof Error ? error.message : String(error), code: error && error.code });
  disconnect();
};
let naudiodon;
try {
  naudiodon = require(config.modulePath);
} catch (error) {
  fail("load", error);
  return;
}
let stream;
try {
  stream = naudiodon.AudioIO({
    outOptions: {
      channelCount: config.channels,
      sampleFormat: config.sampleFormat === "f32" ? naudiodon.SampleFormatFloat32 : naudiodon.SampleFormat16Bit,
      sampleRate: config.sampleRateHz,
      deviceId: config.deviceId,
      closeOnError: true,
    },
  });
  stream.start();
} catch (error) {
  fail("open", error);
  return;
}
if (config.probe) {
  report({ type: "ready" });
  stream.abort(disconnect);
  return;
}
let failed = false;
stream.on("error", (error) => {
  if (failed) return;
  failed = true;
  report({ type: "failed", stage: "play", message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  disconnect();
});
stream.once("finished", disconnect);
stream.once("close", disconnect);
process.on("message", (message) => {
  if (message && message.type === "abort") stream.abort(() => process.exit(0));
});
process.stdin.pipe(stream);
report({ type: "ready" });
})();
`;

/** What the player process is told (argv[1], as JSON). */
export interface PlayerConfig {
  /** Absolute path of naudiodon2's entry, resolved by the parent (the script has no package to resolve from). */
  readonly modulePath: string;
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly sampleFormat: "s16" | "f32";
  /** PortAudio device index, -1 for the default output. */
  readonly deviceId: number;
  /** Open the device, report, close it and exit (a check before the real work). */
  readonly probe: boolean;
}

/** A message from the player process. */
export type PlayerMessage =
  | { readonly type: "ready" }
  | { readonly type: "failed"; readonly stage: "load" | "open" | "play"; readonly message: string; readonly code?: string };
