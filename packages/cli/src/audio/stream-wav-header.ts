import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { CliError } from "../errors.js";
import type { WavSampleFormat } from "../internal/wav-header.js";

/*
 * A WAV header read from a stream (a pipe), which cannot seek: the RIFF/WAVE preamble and the
 * chunks before `data` are parsed as the bytes arrive (layout in ../internal/wav-header.ts).
 * Writers that stream (ffmpeg, sox, `encstream receive --output -`) cannot know the length, so
 * they declare 0, 0xFFFFFFFF or some large size: the data is read until the declared size or
 * the end of the stream, whichever comes first.
 */

/** Most header bytes (chunks before `data`) read from a stream before giving up. */
export const MAX_STREAM_WAV_HEADER_BYTES = 1024 * 1024;

/** Data sizes that mean "unknown, read to the end": what streaming writers put there. */
const UNKNOWN_DATA_SIZES = new Set([0, 0xffffffff]);

/** What a streamed WAV header says. */
export interface StreamWavFormat {
  readonly sampleFormat: WavSampleFormat;
  readonly channels: number;
  readonly sampleRateHz: number;
  /** Bytes per interleaved frame. */
  readonly bytesPerFrame: number;
  /** Data bytes declared, or undefined for "to the end of the stream". */
  readonly dataBytes: number | undefined;
  /** Bytes of the header (where the data starts). */
  readonly headerBytes: number;
}

/**
 * Parses a WAV header at the start of `bytes`. Returns undefined while more bytes are needed
 * (the caller appends and calls again), the format once the `data` chunk's header is in.
 *
 * @throws CliError `"not-wav"`, `"corrupt"`, `"unsupported"` or `"too-large"` (a header past
 *   {@link MAX_STREAM_WAV_HEADER_BYTES}), naming `name`.
 */
export function parseStreamWavHeader(bytes: Uint8Array, name: string): StreamWavFormat | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fourCc = (at: number) => String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
  if (bytes.length < 12) {
    if (bytes.length >= 4 && fourCc(0) !== "RIFF") throw new CliError("not-wav", `${name}: not a RIFF/WAVE stream (give --raw-format for raw PCM)`);
    return undefined;
  }
  if (fourCc(0) !== "RIFF" || fourCc(8) !== "WAVE") throw new CliError("not-wav", `${name}: not a RIFF/WAVE stream (give --raw-format for raw PCM)`);
  let fmt: Omit<StreamWavFormat, "dataBytes" | "headerBytes"> | undefined;
  let at = 12;
  for (;;) {
    if (at > MAX_STREAM_WAV_HEADER_BYTES) throw new CliError("too-large", `${name}: no data chunk in the first ${MAX_STREAM_WAV_HEADER_BYTES} bytes`);
    if (at + 8 > bytes.length) return undefined;
    const id = fourCc(at);
    const size = view.getUint32(at + 4, true);
    if (id === "data") {
      if (fmt === undefined) throw new CliError("corrupt", `${name}: data chunk before the fmt chunk`);
      return { ...fmt, dataBytes: UNKNOWN_DATA_SIZES.has(size) ? undefined : size, headerBytes: at + 8 };
    }
    if (id === "fmt ") {
      if (size < 16 || size > 1024) throw new CliError("corrupt", `${name}: fmt chunk of ${size} bytes (expected 16 to 1024)`);
      if (at + 8 + size > bytes.length) return undefined;
      fmt = readFmt(new DataView(bytes.buffer, bytes.byteOffset + at + 8, size), name);
    } else if (size > MAX_STREAM_WAV_HEADER_BYTES) {
      throw new CliError("too-large", `${name}: a ${JSON.stringify(id)} chunk of ${size} bytes before the data (at most ${MAX_STREAM_WAV_HEADER_BYTES})`);
    }
    at += 8 + size + (size & 1);
  }
}

function readFmt(view: DataView, name: string): Omit<StreamWavFormat, "dataBytes" | "headerBytes"> {
  let tag = view.getUint16(0, true);
  const channels = view.getUint16(2, true);
  const sampleRateHz = view.getUint32(4, true);
  const blockAlign = view.getUint16(12, true);
  const bits = view.getUint16(14, true);
  if (tag === 0xfffe) {
    if (view.byteLength < 40) throw new CliError("corrupt", `${name}: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short`);
    tag = view.getUint16(24, true);
  }
  if (channels < 1 || channels > MAX_WAV_CHANNELS) throw new CliError("corrupt", `${name}: ${channels} channels (expected 1 to ${MAX_WAV_CHANNELS})`);
  if (sampleRateHz < MIN_SAMPLE_RATE_HZ || sampleRateHz > MAX_SAMPLE_RATE_HZ) {
    throw new CliError("unsupported", `${name}: sample rate ${sampleRateHz} Hz (expected ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ})`);
  }
  const sampleFormat: WavSampleFormat | undefined =
    tag === 1 ? ({ 8: "u8", 16: "s16", 24: "s24", 32: "s32" } as const)[bits as 8] : tag === 3 ? ({ 32: "f32", 64: "f64" } as const)[bits as 32] : undefined;
  if (sampleFormat === undefined) {
    throw new CliError("unsupported", `${name}: format tag ${tag} with ${bits}-bit samples is not supported (8/16/24/32-bit PCM or 32/64-bit float only)`);
  }
  if (blockAlign !== channels * (bits / 8)) throw new CliError("corrupt", `${name}: block align ${blockAlign} does not match ${channels} × ${bits}-bit samples`);
  return { sampleFormat, channels, sampleRateHz, bytesPerFrame: blockAlign };
}

/**
 * Decodes whole interleaved little-endian frames into new planar floats in [-1, 1) (integers
 * scaled by 2^−(bits−1), u8 offset by 128, floats as stored). `bytes.length` must be a multiple
 * of `channels × bytes per sample`.
 */
export function decodeInterleaved(bytes: Uint8Array, sampleFormat: WavSampleFormat, channels: number): Float32Array[] {
  const step = { u8: 1, s16: 2, s24: 3, s32: 4, f32: 4, f64: 8 }[sampleFormat];
  const frames = bytes.length / (step * channels);
  if (!Number.isInteger(frames)) throw new RangeError(`bytes must hold whole frames, got ${bytes.length} bytes for ${channels} × ${step}-byte samples`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let c = 0; c < channels; c++) {
    const target = out[c] as Float32Array;
    for (let i = 0, at = c * step; i < frames; i++, at += step * channels) {
      switch (sampleFormat) {
        case "u8":
          target[i] = ((bytes[at] as number) - 128) / 128;
          break;
        case "s16":
          target[i] = view.getInt16(at, true) / 32_768;
          break;
        case "s24":
          target[i] = ((view.getUint16(at, true) | (view.getInt8(at + 2) << 16)) as number) / 8_388_608;
          break;
        case "s32":
          target[i] = view.getInt32(at, true) / 2_147_483_648;
          break;
        case "f32":
          target[i] = view.getFloat32(at, true);
          break;
        case "f64":
          target[i] = view.getFloat64(at, true);
          break;
      }
    }
  }
  return out;
}
