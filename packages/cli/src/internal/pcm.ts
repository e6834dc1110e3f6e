import type { WavSampleFormat } from "./wav-header.js";

/** Sample encodings this package writes (WAV files, audio devices). */
export type OutputSampleFormat = "s16" | "f32";

/**
 * Returns `value` as an output sample format.
 *
 * @throws RangeError naming `sampleFormat` unless it is "s16" or "f32".
 */
export function checkOutputSampleFormat(value: unknown): OutputSampleFormat {
  if (value !== "s16" && value !== "f32") {
    throw new RangeError(`sampleFormat must be "s16" or "f32", got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Bytes per sample of each stored format. */
export const SAMPLE_BYTES: Readonly<Record<WavSampleFormat, number>> = {
  u8: 1,
  s16: 2,
  s24: 3,
  s32: 4,
  f32: 4,
  f64: 8,
};

/**
 * Encodes `frames` frames of planar audio as interleaved little-endian samples into `target`
 * (which must hold `frames × channels × bytes per sample` bytes). `s16` scales by 32768, rounds
 * to nearest and clips to [-32768, 32767] (NaN becomes 0); `f32` stores the floats unchanged.
 */
export function encodeFrames(
  planar: readonly Float32Array[],
  sampleFormat: OutputSampleFormat,
  frames: number,
  target: Uint8Array,
): void {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  const channels = planar.length;
  const step = SAMPLE_BYTES[sampleFormat];
  const stride = channels * step;
  for (let c = 0; c < channels; c++) {
    const samples = planar[c] as Float32Array;
    let at = c * step;
    if (sampleFormat === "s16") {
      for (let i = 0; i < frames; i++, at += stride) view.setInt16(at, toInt16(samples[i] as number), true);
    } else {
      for (let i = 0; i < frames; i++, at += stride) view.setFloat32(at, samples[i] as number, true);
    }
  }
}

/** One float sample to a 16-bit integer: × 32768, rounded, clipped; NaN → 0. */
function toInt16(sample: number): number {
  const scaled = Math.round(sample * 32_768);
  if (scaled > 32_767) return 32_767;
  if (scaled < -32_768) return -32_768;
  return scaled || 0;
}
