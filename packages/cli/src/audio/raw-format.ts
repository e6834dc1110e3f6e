import { MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";

/** Sample encodings of raw PCM streams (`--raw-format`): 16-bit integer or 32-bit float, little-endian. */
export type RawSampleFormat = "s16" | "f32";

/** Raw PCM as `--raw-format` describes it: `s16le:48000:2` or `f32le:24000:1`. */
export interface RawFormat {
  /** How each sample is stored (little-endian). */
  readonly sampleFormat: RawSampleFormat;
  /** Frames per second, Hz. */
  readonly sampleRateHz: number;
  /** Interleaved channels per frame. */
  readonly channels: number;
}

/**
 * Parses a raw PCM description `FORMAT:RATE:CHANNELS`, FORMAT `s16le` or `f32le`, RATE in
 * [1000, 768000] Hz, CHANNELS in [1, 64].
 *
 * @throws RangeError naming `rawFormat` and what is wrong with it.
 */
export function parseRawFormat(text: string): RawFormat {
  const parts = text.trim().split(":");
  const [format, rate, channels] = parts;
  if (parts.length !== 3 || (format !== "s16le" && format !== "f32le")) {
    throw new RangeError(`rawFormat must be FORMAT:RATE:CHANNELS with FORMAT s16le or f32le (like s16le:48000:2), got ${JSON.stringify(text)}`);
  }
  const sampleRateHz = Number(rate);
  if (!/^\d+$/.test(rate ?? "") || sampleRateHz < MIN_SAMPLE_RATE_HZ || sampleRateHz > MAX_SAMPLE_RATE_HZ) {
    throw new RangeError(`rawFormat's rate must be an integer in [${MIN_SAMPLE_RATE_HZ}, ${MAX_SAMPLE_RATE_HZ}] Hz, got ${JSON.stringify(rate)}`);
  }
  const count = Number(channels);
  if (!/^\d+$/.test(channels ?? "") || count < 1 || count > MAX_WAV_CHANNELS) {
    throw new RangeError(`rawFormat's channel count must be an integer in [1, ${MAX_WAV_CHANNELS}], got ${JSON.stringify(channels)}`);
  }
  return { sampleFormat: format === "s16le" ? "s16" : "f32", sampleRateHz, channels: count };
}

/** `s16le:48000:2` for a {@link RawFormat}. */
export function formatRawFormat(format: RawFormat): string {
  return `${format.sampleFormat}le:${format.sampleRateHz}:${format.channels}`;
}
