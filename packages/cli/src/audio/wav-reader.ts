import { open, type FileHandle } from "node:fs/promises";
import wavefile from "wavefile";
import { MAX_WAV_FILE_BYTES } from "../constants.js";
import { CliError } from "../errors.js";
import { checkIntegerInRange } from "../internal/checks.js";
import { describeIoError } from "../internal/io-error.js";
import { readWavHeader, WAVEFILE_BIT_DEPTH, type WavFormat, type WavSampleFormat } from "../internal/wav-header.js";

/** Most frames one {@link WavReader.read} call may ask for (about 23 s at 44.1 kHz). */
const MAX_READ_FRAMES = 1 << 20;

/** What one integer unit of each stored format is worth in [-1, 1): 2^−(bits−1); floats pass as they are. */
const SCALE: Readonly<Record<WavSampleFormat, number>> = {
  u8: 1 / 128,
  s16: 1 / 32_768,
  s24: 1 / 8_388_608,
  s32: 1 / 2_147_483_648,
  f32: 1,
  f64: 1,
};

/**
 * Reads a WAV file's samples a piece at a time, as stored (no resampling or mixing), so a long
 * file never has to fit in memory. Supports 8/16/24/32-bit integer PCM and 32/64-bit float,
 * plain or WAVE_FORMAT_EXTENSIBLE, any channel count up to 64, files up to
 * {@link MAX_WAV_FILE_BYTES}. The header is parsed and the samples are decoded by the
 * `wavefile` library, one window of the file at a time.
 */
export class WavReader {
  /** The file's path as given. */
  readonly path: string;
  /** What the header says. */
  readonly format: WavFormat;
  #file: FileHandle | undefined;
  #nextFrame = 0;
  #buffer = new Uint8Array(0);
  /** A `wavefile` decoder set up for this file's sample format; its data window is swapped per read. */
  #decoder: InstanceType<typeof wavefile.WaveFile>;

  private constructor(path: string, file: FileHandle, format: WavFormat) {
    this.path = path;
    this.#file = file;
    this.format = format;
    this.#decoder = new wavefile.WaveFile();
    this.#decoder.fromScratch(format.channels, format.sampleRateHz, WAVEFILE_BIT_DEPTH[format.sampleFormat], []);
  }

  /**
   * Opens `path` and reads its header.
   *
   * @throws CliError `"io"` if the file cannot be opened, `"too-large"` over
   *   {@link MAX_WAV_FILE_BYTES}, `"not-wav"` / `"corrupt"` / `"truncated"` / `"unsupported"` for
   *   a bad or unsupported header.
   */
  static async open(path: string): Promise<WavReader> {
    let file: FileHandle;
    try {
      file = await open(path, "r");
    } catch (error) {
      throw new CliError("io", describeIoError(path, "cannot open", error), { cause: error });
    }
    try {
      const { size } = await file.stat();
      if (size > MAX_WAV_FILE_BYTES) {
        throw new CliError("too-large", `${path}: ${size} bytes is over the ${MAX_WAV_FILE_BYTES}-byte limit of a WAV file`);
      }
      const format = await readWavHeader(file, size, path);
      return new WavReader(path, file, format);
    } catch (error) {
      await file.close();
      if (error instanceof CliError) throw error;
      throw new CliError("io", describeIoError(path, "cannot read", error), { cause: error });
    }
  }

  /** Frames not read yet. */
  get remainingFrames(): number {
    return this.format.frameCount - this.#nextFrame;
  }

  /**
   * Reads up to `maxFrames` frames as new planar `Float32Array`s (integers scaled to [-1, 1),
   * floats unchanged), or `null` once every frame has been read.
   *
   * @throws RangeError if `maxFrames` is not an integer in [1, 1048576].
   * @throws CliError `"truncated"` if the file shrank, `"io"` if reading fails or after close.
   */
  async read(maxFrames: number): Promise<Float32Array[] | null> {
    checkIntegerInRange("maxFrames", maxFrames, 1, MAX_READ_FRAMES);
    const file = this.#file;
    if (file === undefined) throw new CliError("io", `${this.path}: read after close`);
    const frames = Math.min(maxFrames, this.remainingFrames);
    if (frames === 0) return null;
    const { bytesPerFrame, dataOffsetBytes, sampleFormat, channels } = this.format;
    const length = frames * bytesPerFrame;
    if (this.#buffer.length < length) this.#buffer = new Uint8Array(length);
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.read(this.#buffer, 0, length, dataOffsetBytes + this.#nextFrame * bytesPerFrame));
    } catch (error) {
      throw new CliError("io", describeIoError(this.path, "cannot read", error), { cause: error });
    }
    if (bytesRead < length) {
      throw new CliError("truncated", `${this.path}: the file ended early (it shrank while being read?)`);
    }
    this.#nextFrame += frames;
    return this.#decode(this.#buffer.subarray(0, length), sampleFormat, channels);
  }

  /** Interleaved stored samples → planar floats, decoded by wavefile and scaled to [-1, 1). */
  #decode(bytes: Uint8Array, sampleFormat: WavSampleFormat, channels: number): Float32Array[] {
    (this.#decoder.data as { samples: Uint8Array }).samples = bytes;
    const decoded = this.#decoder.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
    (this.#decoder.data as { samples: Uint8Array }).samples = new Uint8Array(0);
    const planar = channels === 1 ? [decoded as Float64Array] : (decoded as Float64Array[]);
    const scale = SCALE[sampleFormat];
    const offset = sampleFormat === "u8" ? 128 : 0;
    return planar.map((channel) => {
      const out = new Float32Array(channel.length);
      for (let i = 0; i < channel.length; i++) out[i] = ((channel[i] as number) - offset) * scale;
      return out;
    });
  }

  /** Closes the file. Safe to call more than once. */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }
}
