import { DEFAULT_RESAMPLER_QUALITY } from "../constants.js";
import { CliError } from "../errors.js";
import type { WavSampleFormat } from "../internal/wav-header.js";
import { mixChannels } from "./channel-mix.js";
import type { RawFormat } from "./raw-format.js";
import { Resampler } from "./resampler.js";
import { decodeInterleaved, parseStreamWavHeader } from "./stream-wav-header.js";

/** Options of {@link StreamInput.open}. */
export interface StreamInputOptions {
  /** Rate to deliver, Hz (the model's). */
  readonly sampleRateHz: number;
  /** Channels to deliver (the model's), mixed with {@link mixChannels}. */
  readonly channels: number;
  /** Raw PCM of this format instead of a WAV stream. @default undefined (a WAV header is expected) */
  readonly rawFormat?: RawFormat | undefined;
  /** Name used in error messages. @default "stdin" */
  readonly name?: string;
}

/**
 * Audio read from a byte stream as it arrives (`--input -`: stdin, fed by ffmpeg, sox, arecord):
 * a WAV stream (its header parsed as it comes, the data read to the declared size or the end of
 * the stream) or raw interleaved PCM (`--raw-format`). Each {@link StreamInput.read} hands out
 * what has arrived, converted to the delivered rate and channel count, so a live pipe is
 * encoded as it is produced. A partial frame at the end of the stream is dropped.
 */
export class StreamInput {
  /** Rate of the delivered audio, Hz. */
  readonly sampleRateHz: number;
  /** Channels of the delivered audio. */
  readonly channels: number;
  readonly #name: string;
  readonly #chunks: AsyncIterator<Uint8Array | string>;
  #format: { sampleFormat: WavSampleFormat; channels: number; sampleRateHz: number; bytesPerFrame: number } | undefined;
  #remainingBytes = Number.POSITIVE_INFINITY;
  #pending = new Uint8Array(0);
  #resampler: Resampler | undefined;
  #done = false;
  #framesIn = 0;

  private constructor(source: AsyncIterable<Uint8Array | string>, options: StreamInputOptions) {
    this.sampleRateHz = options.sampleRateHz;
    this.channels = options.channels;
    this.#name = options.name ?? "stdin";
    this.#chunks = source[Symbol.asyncIterator]();
  }

  /**
   * Reads the stream's header (for a WAV stream) and prepares the conversion.
   *
   * @throws CliError naming the stream: `"not-wav"`, `"corrupt"`, `"unsupported"`, `"truncated"`
   *   (the stream ended before its header was complete), `"io"` when reading fails.
   */
  static async open(source: AsyncIterable<Uint8Array | string>, options: StreamInputOptions): Promise<StreamInput> {
    const input = new StreamInput(source, options);
    await input.#start(options.rawFormat);
    return input;
  }

  /** Rate of the stream, Hz. */
  get sourceRateHz(): number {
    return (this.#format as { sampleRateHz: number }).sampleRateHz;
  }

  /** Channels in the stream. */
  get sourceChannels(): number {
    return (this.#format as { channels: number }).channels;
  }

  /** Frames read from the stream so far (at the stream's rate). */
  get framesRead(): number {
    return this.#framesIn;
  }

  async #start(raw: RawFormat | undefined): Promise<void> {
    if (raw !== undefined) {
      this.#format = { ...raw, bytesPerFrame: raw.channels * (raw.sampleFormat === "s16" ? 2 : 4) };
    } else {
      for (;;) {
        const header = parseStreamWavHeader(this.#pending, this.#name);
        if (header !== undefined) {
          this.#format = header;
          this.#pending = this.#pending.subarray(header.headerBytes);
          this.#remainingBytes = header.dataBytes ?? Number.POSITIVE_INFINITY;
          break;
        }
        if (!(await this.#pull())) throw new CliError("truncated", `${this.#name}: the stream ended before its WAV header was complete`);
      }
    }
    const format = this.#format;
    if (format.sampleRateHz !== this.sampleRateHz) {
      this.#resampler = await Resampler.create({
        channels: Math.min(this.channels, format.channels),
        inputRateHz: format.sampleRateHz,
        outputRateHz: this.sampleRateHz,
        quality: DEFAULT_RESAMPLER_QUALITY,
      });
    }
  }

  /** Appends the next chunk of the stream to the pending bytes; false at its end. */
  async #pull(): Promise<boolean> {
    let next: IteratorResult<Uint8Array | string>;
    try {
      next = await this.#chunks.next();
    } catch (error) {
      throw new CliError("io", `${this.#name}: cannot read (${(error as Error).message})`, { cause: error });
    }
    if (next.done === true) return false;
    const chunk = typeof next.value === "string" ? new TextEncoder().encode(next.value) : next.value;
    const joined = new Uint8Array(this.#pending.length + chunk.length);
    joined.set(this.#pending);
    joined.set(chunk, this.#pending.length);
    this.#pending = joined;
    return true;
  }

  /**
   * The audio that has arrived since the last call (new planar arrays at the delivered rate and
   * channel count, never empty), waiting for the stream when nothing has; `null` at its end.
   *
   * @throws CliError `"io"` if reading the stream fails.
   */
  async read(): Promise<Float32Array[] | null> {
    const format = this.#format;
    if (format === undefined) throw new Error("StreamInput: read() before open()");
    while (!this.#done) {
      const wholeBytes = Math.min(this.#remainingBytes, this.#pending.length - (this.#pending.length % format.bytesPerFrame));
      let piece: Float32Array[];
      if (wholeBytes >= format.bytesPerFrame) {
        const bytes = this.#pending.subarray(0, wholeBytes - (wholeBytes % format.bytesPerFrame));
        this.#pending = this.#pending.subarray(bytes.length);
        this.#remainingBytes -= bytes.length;
        const raw = decodeInterleaved(bytes, format.sampleFormat, format.channels);
        this.#framesIn += raw[0]?.length ?? 0;
        piece = this.#resampler === undefined ? raw : this.#resampler.process(this.channels < raw.length ? mixChannels(raw, this.channels) : raw);
      } else if (this.#remainingBytes >= format.bytesPerFrame && (await this.#pull())) {
        continue;
      } else {
        this.#done = true;
        if (this.#resampler === undefined) return null;
        piece = this.#resampler.flush();
      }
      if ((piece[0]?.length ?? 0) > 0) return mixChannels(piece, this.channels);
    }
    return null;
  }

  /** Stops reading and frees the resampler. Safe to call more than once. */
  async close(): Promise<void> {
    this.#done = true;
    this.#resampler?.destroy();
    this.#resampler = undefined;
    await this.#chunks.return?.();
  }
}
