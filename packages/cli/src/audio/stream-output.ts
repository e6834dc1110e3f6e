import { fstatSync, writeSync } from "node:fs";
import { CliError } from "../errors.js";
import { checkPlanar } from "../internal/checks.js";
import { SAMPLE_BYTES, encodeFrames, type OutputSampleFormat } from "../internal/pcm.js";
import type { RawFormat } from "./raw-format.js";

/** Options of {@link StreamOutput}. */
export interface StreamOutputOptions {
  /** Frames per second, Hz. */
  readonly sampleRateHz: number;
  /** Channels per frame. */
  readonly channels: number;
  /** Sample encoding. @default "s16" */
  readonly sampleFormat?: OutputSampleFormat;
  /** `"wav"`: a streamable WAV (sizes unknown: 0xFFFFFFFF); `"raw"`: bare interleaved samples. @default "wav" */
  readonly container?: "wav" | "raw";
  /**
   * The stream's file descriptor (1 for stdout): when it is a regular file (`> out.wav`), the
   * header's sizes are patched at {@link StreamOutput.close}. @default undefined (never patched)
   */
  readonly fd?: number | undefined;
  /** Name used in error messages. @default "stdout" */
  readonly name?: string;
}

/**
 * Builds a WAV header (44 bytes for s16, 58 for f32; layout in wav-writer.ts). `frames`
 * undefined writes the streaming form: RIFF and data sizes 0xFFFFFFFF ("to the end"), which
 * ffmpeg, sox and `encstream send --input -` read to the end of the stream.
 */
export function buildWavHeader(sampleRateHz: number, channels: number, sampleFormat: OutputSampleFormat, frames: number | undefined): Uint8Array {
  const isFloat = sampleFormat === "f32";
  const header = new Uint8Array(isFloat ? 58 : 44);
  const view = new DataView(header.buffer);
  const bytesPerFrame = channels * SAMPLE_BYTES[sampleFormat];
  const dataBytes = frames === undefined ? 0xffffffff : frames * bytesPerFrame;
  let at = 0;
  const fourCc = (id: string) => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, id.charCodeAt(i));
    at += 4;
  };
  const u32 = (value: number) => void (view.setUint32(at, value, true), (at += 4));
  const u16 = (value: number) => void (view.setUint16(at, value, true), (at += 2));
  fourCc("RIFF");
  u32(frames === undefined ? 0xffffffff : header.length - 8 + dataBytes);
  fourCc("WAVE");
  fourCc("fmt ");
  u32(isFloat ? 18 : 16);
  u16(isFloat ? 3 : 1);
  u16(channels);
  u32(sampleRateHz);
  u32(sampleRateHz * bytesPerFrame);
  u16(bytesPerFrame);
  u16(SAMPLE_BYTES[sampleFormat] * 8);
  if (isFloat) {
    u16(0);
    fourCc("fact");
    u32(4);
    u32(frames === undefined ? 0xffffffff : frames);
  }
  fourCc("data");
  u32(dataBytes);
  return header;
}

/**
 * Audio written to a byte stream as it arrives (`receive --output -`: stdout, into ffplay, sox or
 * a file): a WAV whose header declares unknown sizes (patched at the end when the stream turns
 * out to be a regular file), or raw PCM. Writes wait for the stream's buffer to drain, so a slow
 * reader slows the writer instead of filling memory. A reader that goes away (EPIPE) makes the
 * next write fail with a CliError `"io"`.
 */
export class StreamOutput {
  /** Frames per second, Hz. */
  readonly sampleRateHz: number;
  /** Channels per frame. */
  readonly channels: number;
  /** Sample encoding. */
  readonly sampleFormat: OutputSampleFormat;
  readonly #stream: NodeJS.WritableStream;
  readonly #container: "wav" | "raw";
  readonly #fd: number | undefined;
  readonly #name: string;
  #headerWritten = false;
  #framesWritten = 0;
  #failure: CliError | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  /** @throws RangeError for an out-of-range option. */
  constructor(stream: NodeJS.WritableStream, options: StreamOutputOptions) {
    this.#stream = stream;
    this.sampleRateHz = options.sampleRateHz;
    this.channels = options.channels;
    this.sampleFormat = options.sampleFormat ?? "s16";
    this.#container = options.container ?? "wav";
    this.#fd = options.fd;
    this.#name = options.name ?? "stdout";
    stream.on("error", (error: Error) => {
      this.#failure ??= new CliError("io", `${this.#name}: cannot write (${error.message})`, { cause: error });
    });
  }

  /** The raw format written (`--raw-format` of a reader of this output). */
  get rawFormat(): RawFormat {
    return { sampleFormat: this.sampleFormat, sampleRateHz: this.sampleRateHz, channels: this.channels };
  }

  /** Frames written so far. */
  get framesWritten(): number {
    return this.#framesWritten;
  }

  /**
   * Appends planar audio; the samples are encoded before this returns.
   *
   * @throws RangeError on a wrong channel count or ragged channels.
   * @throws CliError `"io"` once the stream failed (the reader went away).
   */
  write(audio: readonly Float32Array[]): Promise<void> {
    const frames = checkPlanar("audio", audio, this.channels);
    const bytes = new Uint8Array(frames * this.channels * SAMPLE_BYTES[this.sampleFormat]);
    encodeFrames(audio, this.sampleFormat, frames, bytes);
    const step = this.#queue.then(async () => {
      if (!this.#headerWritten && this.#container === "wav") await this.#put(buildWavHeader(this.sampleRateHz, this.channels, this.sampleFormat, undefined));
      this.#headerWritten = true;
      if (bytes.length > 0) await this.#put(bytes);
      this.#framesWritten += frames;
    });
    this.#queue = step.catch(() => undefined);
    return step;
  }

  /**
   * Writes the header if nothing was written (an empty WAV), waits for the writes, and patches
   * the header's sizes when the stream is a regular file. The stream itself is left open.
   */
  close(): Promise<void> {
    this.#closing ??= this.write(Array.from({ length: this.channels }, () => new Float32Array(0))).then(() => {
      if (this.#container !== "wav" || this.#fd === undefined) return;
      try {
        if (!fstatSync(this.#fd).isFile()) return;
        writeSync(this.#fd, buildWavHeader(this.sampleRateHz, this.channels, this.sampleFormat, this.#framesWritten), 0, undefined, 0);
      } catch {
        // Opened for appending or not seekable: the streaming header stays, which readers accept.
      }
    });
    return this.#closing;
  }

  #put(bytes: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const fail = (error: Error | null | undefined) => {
        this.#failure ??= new CliError("io", `${this.#name}: cannot write (${error?.message ?? "stream closed"})`, { cause: error });
        reject(this.#failure);
      };
      const ok = this.#stream.write(bytes, (error?: Error | null) => {
        if (error) fail(error);
        else if (ok) resolve();
      });
      if (!ok) this.#stream.once("drain", () => resolve());
    });
  }
}
