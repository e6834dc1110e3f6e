import { DEFAULT_RESAMPLER_QUALITY } from "../constants.js";
import { CliError } from "../errors.js";
import { mixChannels } from "./channel-mix.js";
import { loadAudioBackend, type Naudiodon, type NaudiodonDevice } from "./playback.js";
import { Resampler } from "./resampler.js";
import { decodeInterleaved } from "./stream-wav-header.js";

/** Bytes of captured audio held before the capture is paused (backpressure on PortAudio): about 1 s of 48 kHz stereo float. */
const MAX_QUEUED_BYTES = 384 * 1024;
/** Capture block, ms: PortAudio hands over audio in pieces this long. */
const CAPTURE_BLOCK_MS = 10;

/** Options of {@link CaptureInput.open}. */
export interface CaptureInputOptions {
  /** `--input-device`: a device index, or part of a device's name (case-insensitive). @default undefined (the default input) */
  readonly device?: string | undefined;
  /** Rate to deliver, Hz (the model's). */
  readonly sampleRateHz: number;
  /** Channels to deliver (the model's). */
  readonly channels: number;
}

/** An audio device as `encstream devices` lists it. */
export interface AudioDevice {
  /** PortAudio's index (what `--input-device` takes). */
  readonly id: number;
  readonly name: string;
  /** The host API (ALSA, CoreAudio, WASAPI...). */
  readonly hostApi: string;
  readonly inputChannels: number;
  readonly outputChannels: number;
  /** The device's default rate, Hz. */
  readonly sampleRateHz: number;
  /** Whether it is the default input / output of the default host API. */
  readonly defaultInput: boolean;
  readonly defaultOutput: boolean;
}

/**
 * Lists the audio devices PortAudio sees (naudiodon2, loaded on first use).
 *
 * @throws CliError `"playback-unavailable"` when naudiodon2 or its libraries are missing.
 */
export async function listAudioDevices(): Promise<AudioDevice[]> {
  return devicesOf(await loadBackend());
}

function devicesOf(backend: Naudiodon): AudioDevice[] {
  const { defaultHostAPI, HostAPIs } = backend.getHostAPIs();
  const host = HostAPIs[defaultHostAPI];
  const devices = backend.getDevices();
  // The host API's defaults are indices among its own devices.
  const ofHost = devices.filter((d) => d.hostAPIName === host?.name);
  const defaultIn = ofHost[host?.defaultInput ?? -1]?.id;
  const defaultOut = ofHost[host?.defaultOutput ?? -1]?.id;
  return devices.map((d: NaudiodonDevice) => ({
    id: d.id,
    name: d.name,
    hostApi: d.hostAPIName,
    inputChannels: d.maxInputChannels,
    outputChannels: d.maxOutputChannels,
    sampleRateHz: d.defaultSampleRate,
    defaultInput: d.id === defaultIn,
    defaultOutput: d.id === defaultOut,
  }));
}

async function loadBackend(): Promise<Naudiodon> {
  try {
    return await loadAudioBackend();
  } catch (error) {
    if (error instanceof CliError) {
      throw new CliError(error.code, error.message.replace("audio playback is unavailable", "audio capture is unavailable").replace(/ Write a WAV file with --output instead\.$/, " Send a file or pipe audio with --input - instead."), { cause: error });
    }
    throw error;
  }
}

/** Picks the capture device: an index, else the input device whose name contains `wanted` (exact name first). */
function pickDevice(devices: readonly AudioDevice[], wanted: string | undefined): AudioDevice {
  const inputs = devices.filter((d) => d.inputChannels > 0);
  const list = () => inputs.map((d) => `${d.id} "${d.name}"`).join(", ") || "none";
  if (wanted === undefined) {
    const found = inputs.find((d) => d.defaultInput) ?? inputs[0];
    if (found === undefined) throw new CliError("playback-failed", "no audio input device found (see encstream devices)");
    return found;
  }
  if (/^\d+$/.test(wanted)) {
    const found = inputs.find((d) => d.id === Number(wanted));
    if (found === undefined) throw new CliError("usage", `--input-device ${wanted}: no input device has that index (inputs: ${list()})`);
    return found;
  }
  const lower = wanted.toLowerCase();
  const found = inputs.find((d) => d.name.toLowerCase() === lower) ?? inputs.find((d) => d.name.toLowerCase().includes(lower));
  if (found === undefined) throw new CliError("usage", `--input-device ${JSON.stringify(wanted)}: no input device by that name (inputs: ${list()})`);
  return found;
}

type CaptureStream = ReturnType<Naudiodon["AudioIO"]> & NodeJS.ReadableStream & { start(): void; quit(callback?: () => void): void };

/**
 * Live audio from a capture device (`--input mic`) through PortAudio: captured as 32-bit float
 * at the device's default rate with up to 2 channels, resampled (Speex) and mixed to the
 * delivered format. Capture starts at the first {@link CaptureInput.read}, so nothing piles up
 * while the model loads. Captured audio is queued up to about a second; beyond that the
 * capture is paused, and PortAudio drops what the device delivers meanwhile (an overrun). A
 * device error (PortAudio's "input overflow" included) is counted in
 * {@link CaptureInput.overruns} and the device is opened again: never fatal.
 */
export class CaptureInput {
  /** The device captured from. */
  readonly device: AudioDevice;
  /** Rate of the delivered audio, Hz. */
  readonly sampleRateHz: number;
  /** Channels of the delivered audio. */
  readonly channels: number;
  /** Rate and channels captured from the device. */
  readonly captureRateHz: number;
  readonly captureChannels: number;
  readonly #backend: Naudiodon;
  #stream: CaptureStream | undefined;
  #resampler: Resampler | undefined;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #pending = new Uint8Array(0);
  #wake: (() => void) | undefined;
  #ended = false;
  #closed = false;
  #overruns = 0;
  #framesCaptured = 0;

  private constructor(backend: Naudiodon, device: AudioDevice, options: CaptureInputOptions, resampler: Resampler | undefined) {
    this.#backend = backend;
    this.device = device;
    this.sampleRateHz = options.sampleRateHz;
    this.channels = options.channels;
    this.captureRateHz = Math.round(device.sampleRateHz);
    this.captureChannels = Math.min(device.inputChannels, 2);
    this.#resampler = resampler;
  }

  /**
   * Finds the device and prepares the conversion; the device is opened at the first read.
   *
   * @throws CliError `"playback-unavailable"` without naudiodon2, `"usage"` for an unknown
   *   `--input-device`, `"playback-failed"` when there is no input device.
   */
  static async open(options: CaptureInputOptions): Promise<CaptureInput> {
    const backend = await loadBackend();
    const device = pickDevice(devicesOf(backend), options.device);
    const rate = Math.round(device.sampleRateHz);
    const captureChannels = Math.min(device.inputChannels, 2);
    const resampler =
      rate === options.sampleRateHz
        ? undefined
        : await Resampler.create({ channels: Math.min(options.channels, captureChannels), inputRateHz: rate, outputRateHz: options.sampleRateHz, quality: DEFAULT_RESAMPLER_QUALITY });
    return new CaptureInput(backend, device, options, resampler);
  }

  /** Device errors and overflows so far (each one lost some audio). */
  get overruns(): number {
    return this.#overruns;
  }

  /** Frames captured from the device so far (at its rate). */
  get framesCaptured(): number {
    return this.#framesCaptured;
  }

  #openStream(): void {
    const stream = this.#backend.AudioIO({
      inOptions: {
        channelCount: this.captureChannels,
        sampleFormat: this.#backend.SampleFormatFloat32,
        sampleRate: this.captureRateHz,
        deviceId: this.device.id,
        closeOnError: true,
        framesPerBuffer: Math.round((this.captureRateHz * CAPTURE_BLOCK_MS) / 1000),
      },
    }) as CaptureStream;
    stream.on("data", (chunk: Uint8Array) => {
      if (this.#stream !== stream) return;
      this.#queue.push(chunk);
      this.#queuedBytes += chunk.length;
      if (this.#queuedBytes > MAX_QUEUED_BYTES) stream.pause();
      this.#wake?.();
    });
    stream.on("end", () => {
      if (this.#stream !== stream) return;
      this.#ended = true;
      this.#wake?.();
    });
    stream.on("error", () => {
      if (this.#stream !== stream || this.#closed) return;
      // Counted and survived: the device is opened again.
      this.#overruns++;
      this.#stream = undefined;
      setImmediate(() => {
        if (!this.#closed) this.#openStream();
      });
    });
    this.#stream = stream;
    try {
      stream.start();
    } catch (error) {
      throw new CliError("playback-failed", `cannot open the input device ${this.device.id} "${this.device.name}" (${(error as Error).message})`, { cause: error });
    }
  }

  /**
   * The audio captured since the last call (new planar arrays, never empty), waiting for the
   * device when nothing has arrived; `null` once closed or the device ended.
   *
   * @throws CliError `"playback-failed"` if the device cannot be opened.
   */
  async read(): Promise<Float32Array[] | null> {
    if (this.#stream === undefined && !this.#closed && this.#framesCaptured === 0 && this.#overruns === 0) this.#openStream();
    const bytesPerFrame = 4 * this.captureChannels;
    for (;;) {
      if (this.#closed) return null;
      if (this.#queue.length > 0) {
        const parts = [this.#pending, ...this.#queue];
        this.#queue = [];
        this.#queuedBytes = 0;
        this.#stream?.resume();
        const total = parts.reduce((n, p) => n + p.length, 0);
        const joined = new Uint8Array(total);
        let at = 0;
        for (const p of parts) joined.set(p, (at += p.length) - p.length);
        const whole = total - (total % bytesPerFrame);
        this.#pending = joined.slice(whole);
        if (whole === 0) continue;
        const raw = decodeInterleaved(joined.subarray(0, whole), "f32", this.captureChannels);
        this.#framesCaptured += whole / bytesPerFrame;
        const mixed = this.channels < raw.length ? mixChannels(raw, this.channels) : raw;
        const piece = this.#resampler === undefined ? mixed : this.#resampler.process(mixed);
        if ((piece[0]?.length ?? 0) > 0) return mixChannels(piece, this.channels);
        continue;
      }
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** Stops the capture and releases the device. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    const stream = this.#stream;
    this.#stream = undefined;
    this.#resampler?.destroy();
    this.#resampler = undefined;
    if (stream !== undefined) await new Promise<void>((resolve) => stream.quit(() => resolve()));
  }
}
