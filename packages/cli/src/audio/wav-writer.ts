import { open, type FileHandle } from "node:fs/promises";
import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { CliError } from "../errors.js";
import { checkIntegerInRange, checkPlanar } from "../internal/checks.js";
import { describeIoError } from "../internal/io-error.js";
import { SAMPLE_BYTES, checkOutputSampleFormat, encodeFrames, type OutputSampleFormat } from "../internal/pcm.js";

/** Options of {@link WavFileWriter.create}. */
export interface WavFileWriterOptions {
  /** Frames per second, Hz (integer, 1000 to 768000). */
  readonly sampleRateHz: number;
  /** Channels per frame, 1 to 64. */
  readonly channels: number;
  /**
   * `"s16"`: 16-bit PCM (rounded, clipped to [-1, 1)); `"f32"`: 32-bit IEEE float (format 3,
   * with the `fact` chunk the spec asks of non-PCM files), stored unchanged.
   * @default "s16"
   */
  readonly sampleFormat?: OutputSampleFormat;
  /**
   * Writes `length` bytes of `bytes` from `offset` at file `position` and resolves with the
   * bytes the OS took, as `FileHandle.write` does (which may take fewer: a full disk). For tests
   * that simulate short writes.
   * @default the file handle's own `write`
   */
  readonly writeAt?: WavWriteAt;
}

/** How a {@link WavFileWriter} writes: `FileHandle.write`'s positional form, resolving with the bytes written. */
export type WavWriteAt = (file: FileHandle, bytes: Uint8Array, offset: number, length: number, position: number) => Promise<number>;

const fileWriteAt: WavWriteAt = async (file, bytes, offset, length, position) => (await file.write(bytes, offset, length, position)).bytesWritten;

/** A write that stopped short: `written` of `wanted` bytes, the OS giving no error (or 0 bytes: no progress). */
class ShortWriteError extends Error {
  constructor(
    readonly written: number,
    readonly wanted: number,
  ) {
    super(`short write: ${written} of ${wanted} bytes`);
  }
}

/*
 * Why this header is written here and not by wavefile (which parses and decodes every WAV this
 * package reads): wavefile builds a whole file in memory from all the samples (`toBuffer`),
 * while this writer must keep the file on disk valid after every append, patching only the size
 * fields in place. The header is a fixed 44/58-byte layout; the tests read every written file
 * back with wavefile.
 */

/**
 * Header layout written (little-endian), 44 bytes for s16 and 58 for f32:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | "RIFF" |
 * | 4 | 4 | RIFF size = file bytes − 8 (patched after every write) |
 * | 8 | 4 | "WAVE" |
 * | 12 | 4 | "fmt " |
 * | 16 | 4 | fmt size: 16 (s16) or 18 (f32, with cbSize) |
 * | 20 | 2 | format tag: 1 PCM or 3 IEEE float |
 * | 22 | 2 | channels |
 * | 24 | 4 | sample rate, Hz |
 * | 28 | 4 | byte rate = rate × block align |
 * | 32 | 2 | block align = channels × bytes per sample |
 * | 34 | 2 | bits per sample: 16 or 32 |
 * | 36 | 2 | f32 only: cbSize = 0, then "fact", 4, frame count (patched) |
 * | 36 / 50 | 4 | "data" |
 * | 40 / 54 | 4 | data size in bytes (patched after every write) |
 */
function headerBytesOf(sampleFormat: OutputSampleFormat): number {
  return sampleFormat === "s16" ? 44 : 58;
}

/**
 * Writes a WAV file as audio arrives, keeping it a valid, playable WAV after every write: the
 * samples go to the end of the file first, then the header's RIFF and data sizes (and the
 * `fact` frame count) are patched in place with one positional write. A process killed at any
 * moment (even `kill -9`) leaves a file that holds the audio of every completed write; at most
 * the samples of the write in flight lie past the declared data and are ignored by readers.
 * No `fsync` is done: a power cut can lose what the OS had not flushed.
 *
 * The file is created (or truncated) at its final path. Writes are queued, so calls need not
 * be awaited one by one, but a rejected write means the file holds only the earlier ones.
 *
 * A write the OS takes only in part (a full disk: Node's `write` may return fewer bytes than
 * asked without an error) is retried for the rest; when it still cannot go on, the write fails
 * with an `"io"` error naming the file, and the header is patched to declare exactly the whole
 * frames that reached the file: it never claims bytes that are not on disk.
 */
export class WavFileWriter {
  /** The file's path as given. */
  readonly path: string;
  /** Frames per second, Hz. */
  readonly sampleRateHz: number;
  /** Channels per frame. */
  readonly channels: number;
  /** Sample encoding in the file. */
  readonly sampleFormat: OutputSampleFormat;
  #file: FileHandle | undefined;
  #header: Uint8Array;
  #headerView: DataView;
  #bytesPerFrame: number;
  #maxFrames: number;
  #framesQueued = 0;
  #framesWritten = 0;
  #queue: Promise<void> = Promise.resolve();
  #failure: CliError | undefined;
  #closing: Promise<void> | undefined;
  readonly #writeAt: WavWriteAt;
  /** Bytes of the last `#writeFully` that reached the file (all of them when it succeeded). */
  #partial = 0;

  private constructor(path: string, file: FileHandle, options: Required<Omit<WavFileWriterOptions, "writeAt">>, writeAt: WavWriteAt) {
    this.#writeAt = writeAt;
    this.path = path;
    this.sampleRateHz = options.sampleRateHz;
    this.channels = options.channels;
    this.sampleFormat = options.sampleFormat;
    this.#file = file;
    this.#bytesPerFrame = options.channels * SAMPLE_BYTES[options.sampleFormat];
    const headerBytes = headerBytesOf(options.sampleFormat);
    this.#header = new Uint8Array(headerBytes);
    this.#headerView = new DataView(this.#header.buffer);
    // The RIFF size field (file bytes − 8) must fit in a uint32.
    this.#maxFrames = Math.floor((0xffffffff - (headerBytes - 8)) / this.#bytesPerFrame);
    this.#fillHeader();
  }

  /**
   * Creates (or truncates) `path` and writes the header of an empty WAV.
   *
   * @throws RangeError if an option is out of range.
   * @throws CliError `"io"` naming the path if the file cannot be created.
   */
  static async create(path: string, options: WavFileWriterOptions): Promise<WavFileWriter> {
    checkIntegerInRange("sampleRateHz", options.sampleRateHz, MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ);
    checkIntegerInRange("channels", options.channels, 1, MAX_WAV_CHANNELS);
    const sampleFormat = checkOutputSampleFormat(options.sampleFormat ?? "s16");
    let file: FileHandle;
    try {
      file = await open(path, "w");
    } catch (error) {
      throw new CliError("io", describeIoError(path, "cannot create", error), { cause: error });
    }
    const writer = new WavFileWriter(path, file, { sampleRateHz: options.sampleRateHz, channels: options.channels, sampleFormat }, options.writeAt ?? fileWriteAt);
    try {
      await writer.#writeFully(writer.#header, 0);
    } catch (error) {
      await file.close().catch(() => undefined);
      throw new CliError("io", describeIoError(path, "cannot write", error), { cause: error });
    }
    return writer;
  }

  /** Frames on disk and declared in the header (completed writes). */
  get framesWritten(): number {
    return this.#framesWritten;
  }

  /** Seconds of audio on disk and declared in the header. */
  get durationS(): number {
    return this.#framesWritten / this.sampleRateHz;
  }

  /**
   * Appends planar audio (one `Float32Array` per channel, equal lengths). The samples are
   * encoded before this returns, so the caller may reuse the arrays at once; the promise
   * settles when the samples and the updated header are written.
   *
   * @throws RangeError if `audio` has the wrong channel count or ragged channels, and Error
   *   after `close()` (both synchronously: they are misuse).
   * @throws CliError `"too-large"` past 4 GiB of data, `"io"` if the OS refuses the write (later
   *   writes then fail the same way).
   */
  write(audio: readonly Float32Array[]): Promise<void> {
    if (this.#closing !== undefined) throw new Error(`WavFileWriter: write() after close() (${this.path})`);
    const frames = checkPlanar("audio", audio, this.channels);
    if (frames === 0) return this.#queue;
    if (this.#framesQueued + frames > this.#maxFrames) {
      const limitS = Math.floor(this.#maxFrames / this.sampleRateHz);
      return Promise.reject(
        new CliError("too-large", `${this.path}: a WAV file holds at most 4 GiB of samples (${limitS} s in this format)`),
      );
    }
    const bytes = new Uint8Array(frames * this.#bytesPerFrame);
    encodeFrames(audio, this.sampleFormat, frames, bytes);
    const offset = this.#header.length + this.#framesQueued * this.#bytesPerFrame;
    this.#framesQueued += frames;
    const step = this.#queue.then(() => this.#append(bytes, offset, frames));
    this.#queue = step.catch(() => undefined);
    return step;
  }

  /**
   * Waits for queued writes, then closes the file (the header is already final). Safe to call
   * more than once.
   *
   * @throws CliError `"io"` if the last writes or the close failed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#queue;
      const file = this.#file;
      this.#file = undefined;
      try {
        await file?.close();
      } catch (error) {
        throw new CliError("io", describeIoError(this.path, "cannot close", error), { cause: error });
      }
      if (this.#failure !== undefined) throw this.#failure;
    })();
    return this.#closing;
  }

  /**
   * Writes all of `bytes` at `position`, going on after short writes; a write that makes no
   * progress rejects with a {@link ShortWriteError}, an OS error rejects as it is. Either way
   * `#partial` holds the bytes that reached the file.
   */
  async #writeFully(bytes: Uint8Array, position: number): Promise<void> {
    const file = this.#file as FileHandle;
    let done = 0;
    this.#partial = 0;
    while (done < bytes.length) {
      const n = await this.#writeAt(file, bytes, done, bytes.length - done, position + done);
      if (!(Number.isInteger(n) && n > 0 && n <= bytes.length - done)) throw new ShortWriteError(done, bytes.length);
      done += n;
      this.#partial = done;
    }
  }

  async #append(bytes: Uint8Array, offset: number, frames: number): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    // Samples first, then the sizes that make them part of the file: a crash between the two
    // leaves the previous, consistent header.
    try {
      await this.#writeFully(bytes, offset);
    } catch (error) {
      // Only whole frames that reached the file are declared (a partial frame stays past the
      // declared data, where readers ignore it); what follows fails the same way.
      const onDisk = Math.floor(this.#partial / this.#bytesPerFrame);
      this.#failure = this.#ioError(error, bytes.length);
      if (onDisk > 0) {
        this.#framesWritten += onDisk;
        this.#fillHeader();
        await this.#writeFully(this.#header, 0).catch(() => {
          // The header could not be patched: it still declares the earlier frames, all on disk.
          this.#framesWritten -= onDisk;
        });
      }
      throw this.#failure;
    }
    this.#framesWritten += frames;
    this.#fillHeader();
    try {
      await this.#writeFully(this.#header, 0);
    } catch (error) {
      this.#failure = this.#ioError(error, this.#header.length);
      throw this.#failure;
    }
  }

  /** The `"io"` error of a failed write of `wanted` bytes: the OS's reason, or the short write. */
  #ioError(error: unknown, wanted: number): CliError {
    if (error instanceof ShortWriteError) {
      return new CliError("io", `${this.path}: cannot write (short write: the file system took ${error.written} of ${wanted} bytes; is the disk full?)`, { cause: error });
    }
    return new CliError("io", describeIoError(this.path, `cannot write (${this.#partial} of ${wanted} bytes written)`, error), { cause: error });
  }

  #fillHeader(): void {
    const view = this.#headerView;
    const isFloat = this.sampleFormat === "f32";
    const dataBytes = this.#framesWritten * this.#bytesPerFrame;
    let at = 0;
    const fourCc = (id: string) => {
      for (let i = 0; i < 4; i++) view.setUint8(at + i, id.charCodeAt(i));
      at += 4;
    };
    const u32 = (value: number) => {
      view.setUint32(at, value, true);
      at += 4;
    };
    const u16 = (value: number) => {
      view.setUint16(at, value, true);
      at += 2;
    };
    fourCc("RIFF");
    u32(this.#header.length - 8 + dataBytes);
    fourCc("WAVE");
    fourCc("fmt ");
    u32(isFloat ? 18 : 16);
    u16(isFloat ? 3 : 1);
    u16(this.channels);
    u32(this.sampleRateHz);
    u32(this.sampleRateHz * this.#bytesPerFrame);
    u16(this.#bytesPerFrame);
    u16(SAMPLE_BYTES[this.sampleFormat] * 8);
    if (isFloat) {
      u16(0);
      fourCc("fact");
      u32(4);
      u32(this.#framesWritten);
    }
    fourCc("data");
    u32(dataBytes);
  }
}
