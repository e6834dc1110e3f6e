import type { FileHandle } from "node:fs/promises";
import wavefile from "wavefile";
import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MAX_WAV_HEADER_BYTES, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { CliError } from "../errors.js";

/**
 * A WAV file's header is parsed by the `wavefile` library (RIFF container, chunks in any order,
 * `fmt ` fields and the WAVE_FORMAT_EXTENSIBLE extension); this module reads a bounded prefix
 * of the file for it and checks what it found against the file's real size and this package's
 * limits. The samples are then read from the file in windows and decoded by `wavefile` too
 * (see `WavReader`), so a long file is never held in memory.
 *
 * RIFF/WAVE layout (every number little-endian), for reference:
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

/** The `wavefile` bit-depth code that decodes each sample format. */
export const WAVEFILE_BIT_DEPTH: Readonly<Record<WavSampleFormat, string>> = {
  u8: "8",
  s16: "16",
  s24: "24",
  s32: "32",
  f32: "32f",
  f64: "64",
};

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;
const UNKNOWN_DATA_SIZE = 0xffffffff;
/** Largest `fmt ` chunk accepted; real ones are 16, 18 or 40 bytes. */
const MAX_FMT_BYTES = 1_024;
/** Prefix of the file handed to `wavefile` first; grown (×4) while the data chunk lies beyond it. */
const FIRST_PREFIX_BYTES = 64 * 1024;
/** The sub-format GUID's last three 32-bit words (little-endian) for PCM and IEEE float. */
const EXTENSIBLE_GUID_TAIL = [0x00100000, 0xaa000080, 0x719b3800];

const FORMAT_NAMES: Readonly<Record<number, string>> = {
  0x0002: "Microsoft ADPCM",
  0x0006: "A-law",
  0x0007: "µ-law",
  0x0011: "IMA ADPCM",
  0x0055: "MPEG layer 3",
};

/** The parts of a parsed `wavefile.WaveFile` read here (its type declarations say `object`). */
interface ParsedWav {
  readonly container: string;
  readonly format: string;
  readonly fmt: {
    readonly chunkId: string;
    readonly chunkSize: number;
    readonly audioFormat: number;
    readonly numChannels: number;
    readonly sampleRate: number;
    readonly blockAlign: number;
    readonly bitsPerSample: number;
    readonly cbSize: number;
    readonly subformat: readonly number[];
  };
  readonly data: { readonly chunkId: string; readonly chunkSize: number; readonly samples: Uint8Array };
}

/**
 * Reads and checks a WAV header through `file` (of `fileSizeBytes` bytes): a prefix of the file
 * (64 KiB, grown while the `data` chunk lies beyond it, at most {@link MAX_WAV_HEADER_BYTES}) is
 * parsed with `wavefile`. `name` is used in error messages.
 *
 * @throws CliError `"not-wav"`, `"truncated"`, `"corrupt"` or `"unsupported"`.
 */
export async function readWavHeader(file: FileHandle, fileSizeBytes: number, name: string): Promise<WavFormat> {
  if (fileSizeBytes < 12) {
    throw new CliError("not-wav", `${name}: not a WAV file (${fileSizeBytes} bytes, too short for a RIFF header)`);
  }
  for (let prefixBytes = FIRST_PREFIX_BYTES; ; prefixBytes *= 4) {
    const length = Math.min(prefixBytes, MAX_WAV_HEADER_BYTES, fileSizeBytes);
    // A Node Buffer: wavefile's `slice` of it is a view, whose byteOffset tells where the data starts.
    const prefix = Buffer.alloc(length);
    const { bytesRead } = await file.read(prefix, 0, length, 0);
    if (bytesRead < length) throw new CliError("truncated", `${name}: the file ended early (it shrank while being read?)`);
    const final = length === fileSizeBytes || length === MAX_WAV_HEADER_BYTES;
    const format = parsePrefix(prefix, fileSizeBytes, final, name);
    if (format !== undefined) return format;
  }
}

/**
 * Parses `prefix` with `wavefile` and checks what it found. Returns undefined when the `data`
 * chunk lies beyond the prefix and `final` is false (the caller reads a longer prefix).
 */
function parsePrefix(prefix: Buffer, fileSizeBytes: number, final: boolean, name: string): WavFormat | undefined {
  const parser = new wavefile.WaveFile();
  let parseError: unknown;
  try {
    parser.fromBuffer(prefix, true);
  } catch (error) {
    // Kept as the cause; what was parsed before the failure is still inspected below.
    parseError = error;
  }
  const wav = parser as unknown as ParsedWav;
  if (wav.container === "RF64") throw new CliError("unsupported", `${name}: not a RIFF/WAVE file (RF64 files over 4 GiB are not supported)`);
  if (wav.container === "RIFX") throw new CliError("unsupported", `${name}: not a RIFF/WAVE file (big-endian RIFX is not supported)`);
  if (wav.container !== "RIFF" || wav.format !== "WAVE") throw new CliError("not-wav", `${name}: not a RIFF/WAVE file`, { cause: parseError });

  const hasFmt = wav.fmt.chunkId === "fmt ";
  const hasData = wav.data.chunkId === "data";
  if (hasFmt && (wav.fmt.chunkSize < 16 || wav.fmt.chunkSize > MAX_FMT_BYTES)) {
    throw new CliError("corrupt", `${name}: fmt chunk of ${wav.fmt.chunkSize} bytes (expected 16 to ${MAX_FMT_BYTES})`);
  }
  if (!hasFmt || !hasData) {
    if (!final) return undefined;
    // wavefile looks for fmt first and stops there when it is missing.
    if (!hasFmt && fileSizeBytes >= 12 + 8) {
      throw new CliError("corrupt", `${name}: no fmt chunk${prefix.length < fileSizeBytes ? ` in the first ${MAX_WAV_HEADER_BYTES} bytes` : ""}`, { cause: parseError });
    }
    if (prefix.length === fileSizeBytes) throw new CliError("truncated", `${name}: the WAV file ends before its data chunk`, { cause: parseError });
    throw new CliError("corrupt", `${name}: no data chunk in the first ${MAX_WAV_HEADER_BYTES} bytes`, { cause: parseError });
  }
  // wavefile read every fmt field once both chunks were found; anything it threw after that
  // concerns metadata chunks (LIST, junk...) that are not needed here.
  const format = checkFmt(wav.fmt, name);
  const samples = wav.data.samples;
  const dataOffsetBytes = samples.byteOffset - prefix.byteOffset;
  if (!(samples.buffer === prefix.buffer && dataOffsetBytes >= 12 && dataOffsetBytes <= prefix.length)) {
    throw new Error("readWavHeader: wavefile did not return the data chunk as a view of the prefix");
  }
  const available = fileSizeBytes - dataOffsetBytes;
  let dataBytes = wav.data.chunkSize;
  if (dataBytes === UNKNOWN_DATA_SIZE) {
    dataBytes = available;
  } else if (dataBytes > available) {
    throw new CliError("truncated", `${name}: the data chunk declares ${dataBytes} bytes but only ${available} follow (file truncated?)`);
  }
  return { ...format, frameCount: Math.floor(dataBytes / format.bytesPerFrame), dataOffsetBytes };
}

function checkFmt(fmt: ParsedWav["fmt"], name: string): Omit<WavFormat, "frameCount" | "dataOffsetBytes"> {
  let tag = fmt.audioFormat;
  const { numChannels: channels, sampleRate: sampleRateHz, blockAlign, bitsPerSample: bits } = fmt;
  if (tag === FORMAT_EXTENSIBLE) {
    if (fmt.cbSize < 22 || fmt.subformat.length < 4) {
      throw new CliError("corrupt", `${name}: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short`);
    }
    const [first, ...tail] = fmt.subformat as number[];
    tag = (first as number) & 0xffff;
    const known = (first as number) >>> 16 === 0 && EXTENSIBLE_GUID_TAIL.every((word, i) => tail[i] === word);
    if (!known) throw new CliError("unsupported", `${name}: unknown WAVE_FORMAT_EXTENSIBLE sub-format`);
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
