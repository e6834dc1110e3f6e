import type { FileHandle } from "node:fs/promises";
import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { CliError } from "../errors.js";

/**
 * RIFF/WAVE layout read here (every number little-endian):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | "RIFF" |
 * | 4 | 4 | RIFF size: file bytes − 8 (not trusted: the file size bounds every read) |
 * | 8 | 4 | "WAVE" |
 * | 12 | … | chunks: 4-byte id, uint32 size, body, one pad byte when the size is odd |
 *
 * `fmt ` body: uint16 format tag (1 PCM, 3 IEEE float, 0xFFFE extensible), uint16 channels,
 * uint32 sample rate, uint32 byte rate, uint16 block align, uint16 bits per sample; extensible
 * adds uint16 extension size (22), uint16 valid bits, uint32 channel mask and a 16-byte
 * sub-format GUID whose first two bytes are the real format tag.
 * `data` body: interleaved sample frames. A data size of 0xFFFFFFFF (a writer that streamed
 * and never came back) means "to the end of the file".
 */

/** How samples are stored in a WAV file's data chunk. */
export type WavSampleFormat = "u8" | "s16" | "s24" | "s32" | "f32" | "f64";

/** What a WAV file's header says about its audio. */
export interface WavFormat {
  /** Sample encoding: unsigned 8-bit, signed 16/24/32-bit integer, or 32/64-bit IEEE float. */
  readonly sampleFormat: WavSampleFormat;
  /** Channels per frame. */
  readonly channels: number;
  /** Frames per second, Hz. */
  readonly sampleRateHz: number;
  /** Whole frames in the data chunk. */
  readonly frameCount: number;
  /** Bytes per frame (`channels` × bytes per sample). */
  readonly bytesPerFrame: number;
  /** File offset of the first frame. */
  readonly dataOffsetBytes: number;
}

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;
const UNKNOWN_DATA_SIZE = 0xffffffff;
/** Largest `fmt ` chunk read; real ones are 16, 18 or 40 bytes. */
const MAX_FMT_BYTES = 1_024;
/** Chunks skipped before `data` before the file is called corrupt. */
const MAX_CHUNKS_BEFORE_DATA = 1_024;
/** The tail of the WAVE_FORMAT_EXTENSIBLE sub-format GUID (after the 2-byte format tag). */
const EXTENSIBLE_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const FORMAT_NAMES: Readonly<Record<number, string>> = {
  0x0002: "Microsoft ADPCM",
  0x0006: "A-law",
  0x0007: "µ-law",
  0x0011: "IMA ADPCM",
  0x0055: "MPEG layer 3",
};

/**
 * Reads and checks a WAV header through `file` (of `fileSizeBytes` bytes), stopping at the
 * start of the `data` chunk. `name` is used in error messages.
 *
 * @throws CliError `"not-wav"`, `"truncated"`, `"corrupt"` or `"unsupported"`.
 */
export async function readWavHeader(file: FileHandle, fileSizeBytes: number, name: string): Promise<WavFormat> {
  const readAt = async (position: number, length: number): Promise<DataView> => {
    const bytes = new Uint8Array(length);
    const { bytesRead } = await file.read(bytes, 0, length, position);
    if (bytesRead < length) {
      throw new CliError("truncated", `${name}: the WAV file ends inside its header (at byte ${position + bytesRead})`);
    }
    return new DataView(bytes.buffer);
  };
  if (fileSizeBytes < 12) {
    throw new CliError("not-wav", `${name}: not a WAV file (${fileSizeBytes} bytes, too short for a RIFF header)`);
  }
  const riff = await readAt(0, 12);
  const magic = fourCc(riff, 0);
  if (magic !== "RIFF" || fourCc(riff, 8) !== "WAVE") {
    const hint = magic === "RF64" ? " (RF64 files over 4 GiB are not supported)" : magic === "RIFX" ? " (big-endian RIFX is not supported)" : "";
    throw new CliError(magic === "RF64" || magic === "RIFX" ? "unsupported" : "not-wav", `${name}: not a RIFF/WAVE file${hint}`);
  }

  let position = 12;
  let format: Omit<WavFormat, "frameCount" | "dataOffsetBytes"> | undefined;
  for (let chunk = 0; chunk < MAX_CHUNKS_BEFORE_DATA; chunk++) {
    if (position + 8 > fileSizeBytes) {
      throw new CliError("truncated", `${name}: the WAV file ends before its data chunk`);
    }
    const header = await readAt(position, 8);
    const id = fourCc(header, 0);
    const size = header.getUint32(4, true);
    const body = position + 8;
    if (id === "fmt ") {
      if (size < 16 || size > MAX_FMT_BYTES) {
        throw new CliError("corrupt", `${name}: fmt chunk of ${size} bytes (expected 16 to ${MAX_FMT_BYTES})`);
      }
      if (body + size > fileSizeBytes) throw new CliError("truncated", `${name}: the WAV file ends inside its fmt chunk`);
      format = parseFmt(await readAt(body, size), name);
    } else if (id === "data") {
      if (format === undefined) throw new CliError("corrupt", `${name}: data chunk before the fmt chunk`);
      const available = fileSizeBytes - body;
      let dataBytes = size;
      if (size === UNKNOWN_DATA_SIZE) {
        dataBytes = available;
      } else if (size > available) {
        throw new CliError(
          "truncated",
          `${name}: the data chunk declares ${size} bytes but only ${available} follow (file truncated?)`,
        );
      }
      return { ...format, frameCount: Math.floor(dataBytes / format.bytesPerFrame), dataOffsetBytes: body };
    }
    position = body + size + (size % 2);
  }
  throw new CliError("corrupt", `${name}: no data chunk among the first ${MAX_CHUNKS_BEFORE_DATA} chunks`);
}

function parseFmt(view: DataView, name: string): Omit<WavFormat, "frameCount" | "dataOffsetBytes"> {
  let tag = view.getUint16(0, true);
  const channels = view.getUint16(2, true);
  const sampleRateHz = view.getUint32(4, true);
  const blockAlign = view.getUint16(12, true);
  const bits = view.getUint16(14, true);
  if (tag === FORMAT_EXTENSIBLE) {
    if (view.byteLength < 40 || view.getUint16(16, true) < 22) {
      throw new CliError("corrupt", `${name}: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short`);
    }
    tag = view.getUint16(24, true);
    const guidTail = EXTENSIBLE_GUID_TAIL.every((byte, i) => view.getUint8(26 + i) === byte);
    if (!guidTail) throw new CliError("unsupported", `${name}: unknown WAVE_FORMAT_EXTENSIBLE sub-format`);
  }
  if (channels < 1 || channels > MAX_WAV_CHANNELS) {
    throw new CliError("corrupt", `${name}: ${channels} channels (expected 1 to ${MAX_WAV_CHANNELS})`);
  }
  if (sampleRateHz < MIN_SAMPLE_RATE_HZ || sampleRateHz > MAX_SAMPLE_RATE_HZ) {
    throw new CliError(
      "unsupported",
      `${name}: sample rate ${sampleRateHz} Hz (expected ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ})`,
    );
  }
  const sampleFormat = sampleFormatOf(tag, bits);
  if (sampleFormat === undefined) {
    const what = tag === FORMAT_PCM ? `${bits}-bit PCM` : tag === FORMAT_FLOAT ? `${bits}-bit float` : (FORMAT_NAMES[tag] ?? `format tag 0x${tag.toString(16).padStart(4, "0")}`);
    throw new CliError(
      "unsupported",
      `${name}: ${what} is not supported (8/16/24/32-bit PCM or 32/64-bit float only)`,
    );
  }
  const bytesPerFrame = channels * (bits / 8);
  if (blockAlign !== bytesPerFrame) {
    throw new CliError("corrupt", `${name}: block align ${blockAlign} does not match ${channels} × ${bits}-bit samples`);
  }
  return { sampleFormat, channels, sampleRateHz, bytesPerFrame };
}

function sampleFormatOf(tag: number, bits: number): WavSampleFormat | undefined {
  if (tag === FORMAT_PCM) {
    if (bits === 8) return "u8";
    if (bits === 16) return "s16";
    if (bits === 24) return "s24";
    if (bits === 32) return "s32";
  } else if (tag === FORMAT_FLOAT) {
    if (bits === 32) return "f32";
    if (bits === 64) return "f64";
  }
  return undefined;
}

function fourCc(view: DataView, offset: number): string {
  let id = "";
  for (let i = 0; i < 4; i++) id += String.fromCharCode(view.getUint8(offset + i));
  return id;
}
