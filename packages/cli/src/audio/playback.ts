import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { CliError } from "../errors.js";
import { checkIntegerInRange, checkPlanar } from "../internal/checks.js";
import { SAMPLE_BYTES, checkOutputSampleFormat, encodeFrames, type OutputSampleFormat } from "../internal/pcm.js";

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

/**
 * Checks, without opening a device, whether the audio backend loads (so `--play` can fail before
 * any network or model work). Loads naudiodon2 if it can (see {@link openPlayback}).
 */
export async function probePlayback(): Promise<PlaybackSupport> {
  try {
    await loadAudioBackend();
    return { available: true };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
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
 * Opens an audio output through PortAudio (naudiodon2, loaded on first use) and starts it.
 * naudiodon2's native code prints PortAudio's version and the device options on stdout, and
 * loading it installs `segfault-handler`, which writes `crash.log` if the process crashes.
 *
 * @throws RangeError if an option is out of range.
 * @throws CliError `"playback-unavailable"` if naudiodon2 or the libraries it needs are missing,
 *   `"playback-failed"` if the device refuses the stream.
 */
export async function openPlayback(options: PlaybackOptions): Promise<Playback> {
  checkIntegerInRange("sampleRateHz", options.sampleRateHz, MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ);
  checkIntegerInRange("channels", options.channels, 1, MAX_WAV_CHANNELS);
  const sampleFormat = checkOutputSampleFormat(options.sampleFormat ?? "f32");
  const deviceId = options.deviceId ?? -1;
  checkIntegerInRange("deviceId", deviceId, -1, 0x7fffffff);

  const naudiodon = await loadAudioBackend();
  let stream: OutputStream;
  try {
    stream = naudiodon.AudioIO({
      outOptions: {
        channelCount: options.channels,
        sampleFormat: sampleFormat === "f32" ? naudiodon.SampleFormatFloat32 : naudiodon.SampleFormat16Bit,
        sampleRate: options.sampleRateHz,
        deviceId,
        closeOnError: true,
      },
    });
    stream.start();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new CliError(
      "playback-failed",
      `cannot open the audio device (${detail}) for ${options.channels} channel(s) at ${options.sampleRateHz} Hz`,
      { cause: error },
    );
  }
  return new PortAudioPlayback(stream, options.sampleRateHz, options.channels, sampleFormat);
}

class PortAudioPlayback implements Playback {
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly sampleFormat: OutputSampleFormat;
  #stream: OutputStream;
  #framesWritten = 0;
  #failure: CliError | undefined;
  #closing: Promise<void> | undefined;

  constructor(stream: OutputStream, sampleRateHz: number, channels: number, sampleFormat: OutputSampleFormat) {
    this.#stream = stream;
    this.sampleRateHz = sampleRateHz;
    this.channels = channels;
    this.sampleFormat = sampleFormat;
    stream.on("error", (error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      this.#failure ??= new CliError("playback-failed", `audio device error: ${detail}`, { cause: error });
    });
  }

  get framesWritten(): number {
    return this.#framesWritten;
  }

  write(audio: readonly Float32Array[]): Promise<void> {
    if (this.#closing !== undefined) throw new Error("Playback: write() after close()");
    const frames = checkPlanar("audio", audio, this.channels);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (frames === 0) return Promise.resolve();
    const bytes = Buffer.allocUnsafe(frames * this.channels * SAMPLE_BYTES[this.sampleFormat]);
    encodeFrames(audio, this.sampleFormat, frames, bytes);
    return new Promise((resolve, reject) => {
      this.#stream.write(bytes, (error?: Error | null) => {
        if (error) {
          this.#failure ??= new CliError("playback-failed", `audio device error: ${error.message}`, { cause: error });
          reject(this.#failure);
        } else {
          this.#framesWritten += frames;
          resolve();
        }
      });
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const stream = this.#stream;
      // naudiodon2 emits "finished" after draining and stopping PortAudio; "close" or an error
      // ends the wait too.
      const done = () => resolve();
      stream.once("finished", done);
      stream.once("close", done);
      stream.once("error", done);
      stream.end();
    }).then(() => {
      if (this.#failure !== undefined) throw this.#failure;
    });
    return this.#closing;
  }

  abort(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => this.#stream.abort(() => resolve()));
    return this.#closing;
  }
}
