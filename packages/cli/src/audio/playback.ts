import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import type { Writable } from "node:stream";
import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { CliError } from "../errors.js";
import { checkIntegerInRange, checkPlanar } from "../internal/checks.js";
import { SAMPLE_BYTES, checkOutputSampleFormat, encodeFrames, type OutputSampleFormat } from "../internal/pcm.js";
import { PLAYER_SCRIPT, type PlayerConfig, type PlayerMessage } from "../internal/player-script.js";

/** Options of {@link openPlayback}. */
export interface PlaybackOptions {
  /** Frames per second of the audio given to `write`, Hz (the device must support it). */
  readonly sampleRateHz: number;
  /** Channels of the audio given to `write`, 1 to 64. */
  readonly channels: number;
  /**
   * Sample encoding sent to the device: `"f32"` (unchanged floats) or `"s16"` (rounded, clipped).
   * @default "f32"
   */
  readonly sampleFormat?: OutputSampleFormat;
  /**
   * PortAudio device index (see naudiodon2's `getDevices()`); -1 is the default output device.
   * @default -1
   */
  readonly deviceId?: number;
}

/** An open audio output: what {@link openPlayback} returns. */
export interface Playback {
  /** Frames per second, Hz. */
  readonly sampleRateHz: number;
  /** Channels per frame. */
  readonly channels: number;
  /** Sample encoding sent to the device. */
  readonly sampleFormat: OutputSampleFormat;
  /** Frames accepted by the device so far. */
  readonly framesWritten: number;
  /**
   * Queues planar audio (one `Float32Array` per channel) for playback. The samples are encoded
   * before this returns (the caller may reuse the arrays); the promise settles once the device
   * queue has taken them, which paces the caller at real time on a real device (a null device
   * takes audio as fast as it comes).
   *
   * @throws RangeError on a wrong channel count or ragged channels; Error after `close()`.
   * @throws CliError `"playback-failed"` if the device reports an error.
   */
  write(audio: readonly Float32Array[]): Promise<void>;
  /** Plays what is queued, then stops and releases the device. Safe to call more than once. */
  close(): Promise<void>;
  /** Stops at once, dropping what is queued, and releases the device. */
  abort(): Promise<void>;
}

/**
 * The part of naudiodon2's API used here, declared locally: naudiodon2 is optional, so this
 * package must type-check and build where it is not installed.
 */
export interface Naudiodon {
  readonly SampleFormatFloat32: number;
  readonly SampleFormat16Bit: number;
  AudioIO(options: {
    outOptions: { channelCount: number; sampleFormat: number; sampleRate: number; deviceId: number; closeOnError: boolean };
  }): OutputStream;
  AudioIO(options: {
    inOptions: {
      channelCount: number;
      sampleFormat: number;
      sampleRate: number;
      deviceId: number;
      closeOnError: boolean;
      framesPerBuffer?: number;
      maxQueue?: number;
      highwaterMark?: number;
    };
  }): NodeJS.ReadableStream & { start(): void; quit(callback?: () => void): void; abort(callback?: () => void): void };
  getDevices(): readonly NaudiodonDevice[];
  getHostAPIs(): { defaultHostAPI: number; HostAPIs: readonly { name: string; defaultInput: number; defaultOutput: number }[] };
}

/** A device as naudiodon2's `getDevices()` describes it. */
export interface NaudiodonDevice {
  readonly id: number;
  readonly name: string;
  readonly maxInputChannels: number;
  readonly maxOutputChannels: number;
  readonly defaultSampleRate: number;
  readonly hostAPIName: string;
}

/** naudiodon2's output stream: a Writable of interleaved samples plus PortAudio controls. */
interface OutputStream extends NodeJS.WritableStream {
  start(): void;
  abort(callback?: () => void): void;
}

/** Imported through a variable so that neither TypeScript nor the bundler resolves it at build time. */
const NAUDIODON = "naudiodon2";

/** Whether audio playback can work here: what {@link probePlayback} returns. */
export type PlaybackSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

let loading: Promise<Naudiodon> | undefined;

/** Bytes of the player process's stderr kept for an error message. */
const STDERR_TAIL_BYTES = 4096;

/**
 * Loads naudiodon2 (PortAudio bindings, an optional dependency) once per process. Exported for
 * capture and `encstream devices`; not part of the package's API.
 *
 * @throws CliError `"playback-unavailable"` saying what is missing and that `--output` still works.
 */
export function loadAudioBackend(): Promise<Naudiodon> {
  loading ??= (import(NAUDIODON) as Promise<Naudiodon | { default: Naudiodon }>).then(
    (module) => ("default" in module ? module.default : module),
    (error: unknown) => {
      throw new CliError("playback-unavailable", describeLoadFailure(error), { cause: error });
    },
  );
  return loading;
}

/** How long a player process may take to load PortAudio and open the device, ms. */
const PLAYER_START_TIMEOUT_MS = 20_000;

/** Where naudiodon2 is, resolved from this package (the player script has none to resolve from). */
function resolveNaudiodon(): string {
  return createRequire(import.meta.url).resolve("naudiodon2");
}

/** A player process that has reported ready. */
interface StartedPlayer {
  readonly child: ChildProcess;
  /** The last bytes it wrote to stderr. */
  readonly stderrTail: () => string;
}

type PlayerFailure = Extract<PlayerMessage, { type: "failed" }>;

/** Starts the player process (see player-script.ts) and waits until it is ready, or says why not. */
async function startPlayer(config: Omit<PlayerConfig, "modulePath">): Promise<StartedPlayer | PlayerFailure> {
  let modulePath: string;
  try {
    modulePath = resolveNaudiodon();
  } catch (error) {
    return { type: "failed", stage: "load", message: (error as Error).message, code: (error as { code?: string }).code ?? "MODULE_NOT_FOUND" };
  }
  const child = spawn(process.execPath, ["-e", PLAYER_SCRIPT, JSON.stringify({ ...config, modulePath } satisfies PlayerConfig)], {
    stdio: ["pipe", "ignore", "pipe", "ipc"],
  });
  let tail = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL_BYTES);
  });
  // A player that dies is reported by write/close; its stdin's EPIPE must not crash this process.
  child.stdin?.on("error", () => undefined);
  const first = await new Promise<PlayerMessage>((resolve) => {
    const timer = setTimeout(() => resolve({ type: "failed", stage: "open", message: `no answer in ${PLAYER_START_TIMEOUT_MS / 1000} s` }), PLAYER_START_TIMEOUT_MS);
    const settle = (message: PlayerMessage) => {
      clearTimeout(timer);
      resolve(message);
    };
    child.once("message", (message) => settle(message as PlayerMessage));
    child.once("error", (error) => settle({ type: "failed", stage: "load", message: error.message }));
    child.once("exit", (code, signal) => settle({ type: "failed", stage: "open", message: `the player process exited (${signal ?? `code ${code}`})` }));
  });
  if (first.type === "failed") {
    child.kill("SIGKILL");
    return first;
  }
  return { child, stderrTail: () => tail };
}

/** The CliError for a player that did not start. */
function startFailure(failed: PlayerFailure, options: { sampleRateHz: number; channels: number } | "probe"): CliError {
  if (failed.stage === "load") {
    const cause = Object.assign(new Error(failed.message), failed.code !== undefined ? { code: failed.code } : {});
    return new CliError("playback-unavailable", describeLoadFailure(cause), { cause });
  }
  const what =
    options === "probe"
      ? `no audio output device can be opened (${failed.message})`
      : `cannot open the audio device (${failed.message}) for ${options.channels} channel(s) at ${options.sampleRateHz} Hz`;
  return new CliError("playback-failed", `${what}; write a WAV file instead with --output FILE`);
}

/**
 * Checks whether audio can be played here: loads naudiodon2 and opens the default output device
 * (48 kHz stereo unless told otherwise) in a short-lived player process, so that a machine
 * without sound fails in one line before any network or model work, without the libraries'
 * noise on this process's output.
 */
export async function probePlayback(format: { readonly sampleRateHz: number; readonly channels: number } = { sampleRateHz: 48_000, channels: 2 }): Promise<PlaybackSupport> {
  const player = await startPlayer({ ...format, sampleFormat: "f32", deviceId: -1, probe: true });
  if ("type" in player) return { available: false, reason: startFailure(player, "probe").message };
  await new Promise((resolve) => (player.child.exitCode !== null ? resolve(undefined) : player.child.once("exit", resolve)));
  return { available: true };
}

/**
 * Explains why naudiodon2 could not be loaded, from the error Node gave.
 * Exported for tests; not part of the package's API.
 */
export function describeLoadFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  let why: string;
  if (/libasound\.so/.test(text)) {
    why = "ALSA's library is missing (install it: apt-get install libasound2)";
  } else if (/libportaudio/.test(text)) {
    why = `the PortAudio library bundled with naudiodon2 could not be loaded (${firstLine(text)})`;
  } else if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && /naudiodon2/.test(text)) {
    why = "the optional dependency naudiodon2 is not installed";
  } else if (/Could not locate the bindings file|segfault-handler|\.node\b/.test(text)) {
    why =
      "naudiodon2's native addon was not built (allow naudiodon2 and segfault-handler to build in " +
      "pnpm-workspace.yaml's onlyBuiltDependencies and run `pnpm rebuild naudiodon2 segfault-handler`)";
  } else {
    why = `naudiodon2 failed to load (${firstLine(text)})`;
  }
  return `audio playback is unavailable: ${why}. Write a WAV file with --output instead.`;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

/**
 * Opens an audio output through PortAudio (naudiodon2) and starts it. PortAudio runs in a
 * player process of its own (see internal/player-script.ts), fed through a pipe: its version
 * banner, naudiodon2's option dump and ALSA's probing messages never reach this process's
 * stdout or stderr, and `segfault-handler` (which naudiodon2 installs) lives there too.
 *
 * @throws RangeError if an option is out of range.
 * @throws CliError `"playback-unavailable"` if naudiodon2 or the libraries it needs are missing,
 *   `"playback-failed"` if the device refuses the stream (the message suggests `--output`).
 */
export async function openPlayback(options: PlaybackOptions): Promise<Playback> {
  checkIntegerInRange("sampleRateHz", options.sampleRateHz, MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ);
  checkIntegerInRange("channels", options.channels, 1, MAX_WAV_CHANNELS);
  const sampleFormat = checkOutputSampleFormat(options.sampleFormat ?? "f32");
  const deviceId = options.deviceId ?? -1;
  checkIntegerInRange("deviceId", deviceId, -1, 0x7fffffff);
  const player = await startPlayer({ sampleRateHz: options.sampleRateHz, channels: options.channels, sampleFormat, deviceId, probe: false });
  if ("type" in player) throw startFailure(player, options);
  return new ProcessPlayback(player, options.sampleRateHz, options.channels, sampleFormat);
}

/** Playback through a player process: audio goes down its stdin, failures come back on IPC. */
class ProcessPlayback implements Playback {
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly sampleFormat: OutputSampleFormat;
  readonly #child: ChildProcess;
  readonly #stdin: Writable;
  readonly #exited: Promise<void>;
  readonly #stderrTail: () => string;
  #framesWritten = 0;
  #failure: CliError | undefined;
  #closing: Promise<void> | undefined;

  constructor(player: StartedPlayer, sampleRateHz: number, channels: number, sampleFormat: OutputSampleFormat) {
    this.#child = player.child;
    this.#stdin = player.child.stdin as Writable;
    this.#stderrTail = player.stderrTail;
    this.sampleRateHz = sampleRateHz;
    this.channels = channels;
    this.sampleFormat = sampleFormat;
    player.child.on("message", (message: PlayerMessage) => {
      if (message.type === "failed") this.#failure ??= new CliError("playback-failed", `audio device error: ${message.message}`);
    });
    this.#exited = new Promise((resolve) => {
      if (player.child.exitCode !== null || player.child.signalCode !== null) resolve();
      else player.child.once("exit", () => resolve());
    });
    void this.#exited.then(() => {
      if (this.#closing === undefined) this.#failure ??= new CliError("playback-failed", `the audio player stopped${this.#detail()}`);
    });
  }

  get framesWritten(): number {
    return this.#framesWritten;
  }

  #detail(): string {
    const last = this.#stderrTail().trim().split("\n").pop();
    return last === undefined || last === "" ? "" : ` (${last})`;
  }

  write(audio: readonly Float32Array[]): Promise<void> {
    if (this.#closing !== undefined) throw new Error("Playback: write() after close()");
    const frames = checkPlanar("audio", audio, this.channels);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (frames === 0) return Promise.resolve();
    const bytes = Buffer.allocUnsafe(frames * this.channels * SAMPLE_BYTES[this.sampleFormat]);
    encodeFrames(audio, this.sampleFormat, frames, bytes);
    return new Promise((resolve, reject) => {
      this.#stdin.write(bytes, (error?: Error | null) => {
        if (error || this.#failure !== undefined) {
          this.#failure ??= new CliError("playback-failed", `audio device error: ${error?.message ?? "the player stopped"}`, { cause: error });
          reject(this.#failure);
        } else {
          this.#framesWritten += frames;
          resolve();
        }
      });
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stdin.end();
      await this.#exited;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#child.exitCode !== 0) throw new CliError("playback-failed", `the audio player failed${this.#detail()}`);
    })();
    return this.#closing;
  }

  abort(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#child.connected) this.#child.send({ type: "abort" });
      else this.#child.kill("SIGKILL");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 2000);
      await this.#exited;
      clearTimeout(timer);
    })();
    return this.#closing;
  }
}
