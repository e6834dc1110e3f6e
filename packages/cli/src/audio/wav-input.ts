import { DEFAULT_RESAMPLER_QUALITY, DEFAULT_WAV_CHUNK_FRAMES, MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { checkIntegerInRange } from "../internal/checks.js";
import type { WavSampleFormat } from "../internal/wav-header.js";
import { mixChannels } from "./channel-mix.js";
import { Resampler } from "./resampler.js";
import { WavReader } from "./wav-reader.js";

/** Options of {@link WavInput.open} and {@link readWavFile}. */
export interface WavInputOptions {
  /**
   * Sample rate to deliver, Hz (the model's: 24000 or 48000). Other rates are converted with the
   * Speex resampler.
   * @default the file's rate
   */
  readonly sampleRateHz?: number;
  /**
   * Channels to deliver (the model's: 1 or 2), mixed with {@link mixChannels}: a mean when
   * downmixing, copies when upmixing.
   * @default the file's channel count
   */
  readonly channels?: number;
  /**
   * Frames read from the file per step (at the file's rate); bounds the memory a
   * {@link WavInput} holds.
   * @default 4096
   */
  readonly chunkFrames?: number;
  /**
   * Speex resampler quality, 0 to 10.
   * @default 8
   */
  readonly resamplerQuality?: number;
}

/** A whole WAV file, converted: what {@link readWavFile} returns. */
export interface WavAudio {
  /** Planar samples, one `Float32Array` per channel, at `sampleRateHz`; owned by the caller. */
  readonly audio: Float32Array[];
  /** Rate of `audio`, Hz. */
  readonly sampleRateHz: number;
  /** Rate of the file, Hz. */
  readonly sourceRateHz: number;
  /** Channels in the file. */
  readonly sourceChannels: number;
  /** How the file stores samples. */
  readonly sourceFormat: WavSampleFormat;
  /** Length of `audio`, seconds. */
  readonly durationS: number;
}

/**
 * A WAV file delivered piece by piece at a chosen rate and channel count: the streaming form of
 * {@link readWavFile} for long inputs (it holds one chunk, not the file). Iterate it with
 * `for await`, or call {@link WavInput.read} until `null`; then {@link WavInput.close}.
 */
export class WavInput implements AsyncIterable<Float32Array[]> {
  /** The file's path as given. */
  readonly path: string;
  /** Rate of the delivered audio, Hz. */
  readonly sampleRateHz: number;
  /** Channels of the delivered audio. */
  readonly channels: number;
  /** Rate of the file, Hz. */
  readonly sourceRateHz: number;
  /** Channels in the file. */
  readonly sourceChannels: number;
  /** How the file stores samples. */
  readonly sourceFormat: WavSampleFormat;
  /** Frames that will be delivered in all: `ceil(file frames × sampleRateHz / sourceRateHz)`. */
  readonly frameCount: number;
  #reader: WavReader;
  #resampler: Resampler | undefined;
  #chunkFrames: number;
  #done = false;

  private constructor(reader: WavReader, resampler: Resampler | undefined, channels: number, sampleRateHz: number, chunkFrames: number) {
    const format = reader.format;
    this.path = reader.path;
    this.sampleRateHz = sampleRateHz;
    this.channels = channels;
    this.sourceRateHz = format.sampleRateHz;
    this.sourceChannels = format.channels;
    this.sourceFormat = format.sampleFormat;
    this.frameCount = Math.ceil((format.frameCount * sampleRateHz) / format.sampleRateHz);
    this.#reader = reader;
    this.#resampler = resampler;
    this.#chunkFrames = chunkFrames;
  }

  /**
   * Opens a WAV file for conversion to `options.sampleRateHz` and `options.channels`.
   *
   * @throws RangeError for an option out of range.
   * @throws CliError naming the file for a missing, unreadable, non-WAV, corrupt or unsupported file.
   */
  static async open(path: string, options: WavInputOptions = {}): Promise<WavInput> {
    if (options.sampleRateHz !== undefined) {
      checkIntegerInRange("sampleRateHz", options.sampleRateHz, MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ);
    }
    if (options.channels !== undefined) checkIntegerInRange("channels", options.channels, 1, MAX_WAV_CHANNELS);
    const chunkFrames = options.chunkFrames ?? DEFAULT_WAV_CHUNK_FRAMES;
    checkIntegerInRange("chunkFrames", chunkFrames, 1, 1 << 20);
    const quality = options.resamplerQuality ?? DEFAULT_RESAMPLER_QUALITY;
    checkIntegerInRange("resamplerQuality", quality, 0, 10);

    const reader = await WavReader.open(path);
    const { sampleRateHz: sourceRateHz, channels: sourceChannels } = reader.format;
    const sampleRateHz = options.sampleRateHz ?? sourceRateHz;
    const channels = options.channels ?? sourceChannels;
    let resampler: Resampler | undefined;
    try {
      if (sampleRateHz !== sourceRateHz) {
        resampler = await Resampler.create({
          // Downmix before resampling and upmix after: the resampler sees the fewer channels.
          channels: Math.min(channels, sourceChannels),
          inputRateHz: sourceRateHz,
          outputRateHz: sampleRateHz,
          quality,
        });
      }
    } catch (error) {
      await reader.close();
      throw error;
    }
    return new WavInput(reader, resampler, channels, sampleRateHz, chunkFrames);
  }

  /** Length of the delivered audio, seconds. */
  get durationS(): number {
    return this.frameCount / this.sampleRateHz;
  }

  /**
   * The next piece of converted audio (new planar arrays owned by the caller, never empty), or
   * `null` at the end.
   *
   * @throws CliError if reading the file fails.
   */
  async read(): Promise<Float32Array[] | null> {
    while (!this.#done) {
      const raw = await this.#reader.read(this.#chunkFrames);
      let piece: Float32Array[];
      if (raw === null) {
        this.#done = true;
        if (this.#resampler === undefined) return null;
        piece = this.#resampler.flush();
      } else if (this.#resampler === undefined) {
        piece = raw;
      } else {
        piece = this.#resampler.process(this.channels < raw.length ? mixChannels(raw, this.channels) : raw);
      }
      if ((piece[0]?.length ?? 0) > 0) return mixChannels(piece, this.channels);
    }
    return null;
  }

  /** Iterates {@link WavInput.read} until the end, then closes the input. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Float32Array[], void, undefined> {
    try {
      for (let piece = await this.read(); piece !== null; piece = await this.read()) yield piece;
    } finally {
      await this.close();
    }
  }

  /** Closes the file and frees the resampler. Safe to call more than once. */
  async close(): Promise<void> {
    this.#done = true;
    this.#resampler?.destroy();
    this.#resampler = undefined;
    await this.#reader.close();
  }
}

/**
 * Reads a whole WAV file (any rate; 8/16/24/32-bit integer or 32/64-bit float; any channel
 * count) as planar float audio at `options.sampleRateHz` with `options.channels` channels,
 * resampled with Speex and mixed with {@link mixChannels}. The file is read in chunks, so only
 * the result is held in memory; for very long files use {@link WavInput} instead.
 *
 * @throws RangeError for an option out of range.
 * @throws CliError naming the file for a missing, unreadable, non-WAV, corrupt or unsupported file.
 */
export async function readWavFile(path: string, options: WavInputOptions = {}): Promise<WavAudio> {
  const input = await WavInput.open(path, options);
  try {
    const audio = Array.from({ length: input.channels }, () => new Float32Array(input.frameCount));
    let at = 0;
    for (let piece = await input.read(); piece !== null; piece = await input.read()) {
      const frames = (piece[0] as Float32Array).length;
      if (at + frames > input.frameCount) throw new Error(`readWavFile: more frames than the ${input.frameCount} expected`);
      piece.forEach((channel, c) => (audio[c] as Float32Array).set(channel, at));
      at += frames;
    }
    if (at !== input.frameCount) throw new Error(`readWavFile: ${at} frames instead of the ${input.frameCount} expected`);
    return {
      audio,
      sampleRateHz: input.sampleRateHz,
      sourceRateHz: input.sourceRateHz,
      sourceChannels: input.sourceChannels,
      sourceFormat: input.sourceFormat,
      durationS: input.durationS,
    };
  } finally {
    await input.close();
  }
}
