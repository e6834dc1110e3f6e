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
 * Decodes `frames` interleaved little-endian frames of `channels` samples from the start of
 * `bytes` into new planar `Float32Array`s. Integers map to [-1, 1) by dividing by 2^(bits−1)
 * (8-bit is unsigned, centred on 128); floats pass through unchanged.
 */
export function decodeFrames(
  bytes: Uint8Array,
  sampleFormat: WavSampleFormat,
  channels: number,
  frames: number,
): Float32Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const planar = Array.from({ length: channels }, () => new Float32Array(frames));
  const step = SAMPLE_BYTES[sampleFormat];
  for (let c = 0; c < channels; c++) {
    const out = planar[c] as Float32Array;
    let at = c * step;
    const stride = channels * step;
    switch (sampleFormat) {
      case "u8":
        for (let i = 0; i < frames; i++, at += stride) out[i] = (view.getUint8(at) - 128) / 128;
        break;
      case "s16":
        for (let i = 0; i < frames; i++, at += stride) out[i] = view.getInt16(at, true) / 32_768;
        break;
      case "s24":
        for (let i = 0; i < frames; i++, at += stride) {
          const value = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
          out[i] = value / 8_388_608;
        }
        break;
      case "s32":
        for (let i = 0; i < frames; i++, at += stride) out[i] = view.getInt32(at, true) / 2_147_483_648;
        break;
      case "f32":
        for (let i = 0; i < frames; i++, at += stride) out[i] = view.getFloat32(at, true);
        break;
      case "f64":
        for (let i = 0; i < frames; i++, at += stride) out[i] = view.getFloat64(at, true);
        break;
    }
  }
  return planar;
}

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
