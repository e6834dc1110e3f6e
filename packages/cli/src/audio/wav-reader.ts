import { open, type FileHandle } from "node:fs/promises";
import { CliError } from "../errors.js";
import { checkIntegerInRange } from "../internal/checks.js";
import { describeIoError } from "../internal/io-error.js";
import { decodeFrames } from "../internal/pcm.js";
import { readWavHeader, type WavFormat } from "../internal/wav-header.js";

/** Most frames one {@link WavReader.read} call may ask for (about 23 s at 44.1 kHz). */
const MAX_READ_FRAMES = 1 << 20;

/**
 * Reads a WAV file's samples a piece at a time, as stored (no resampling or mixing), so a long
 * file never has to fit in memory. Supports 8/16/24/32-bit integer PCM and 32/64-bit float,
 * plain or WAVE_FORMAT_EXTENSIBLE, any channel count up to 64.
 */
export class WavReader {
  /** The file's path as given. */
  readonly path: string;
  /** What the header says. */
  readonly format: WavFormat;
  #file: FileHandle | undefined;
  #nextFrame = 0;
  #buffer = new Uint8Array(0);

  private constructor(path: string, file: FileHandle, format: WavFormat) {
    this.path = path;
    this.#file = file;
    this.format = format;
  }

  /**
   * Opens `path` and reads its header.
   *
   * @throws CliError `"io"` if the file cannot be opened, `"not-wav"` / `"corrupt"` /
   *   `"truncated"` / `"unsupported"` for a bad or unsupported header.
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
    return decodeFrames(this.#buffer, sampleFormat, channels, frames);
  }

  /** Closes the file. Safe to call more than once. */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }
}
