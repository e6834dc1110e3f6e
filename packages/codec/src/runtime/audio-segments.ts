import { NORMALIZE_EPSILON } from "../constants.js";

/** Start offsets of the offline segments: `0, stride, 2·stride, …` below `length` (at least one segment). */
export function segmentOffsets(lengthSamples: number, strideSamples: number | null): number[] {
  if (strideSamples === null || lengthSamples === 0) return [0];
  const out: number[] = [];
  for (let offset = 0; offset < lengthSamples; offset += strideSamples) out.push(offset);
  return out;
}

/**
 * The reference's segment scale: `1e-8 + sqrt(mean(mono²))` with `mono` the mean of the channels,
 * rounded to float32 as the reference computes it. `channels` are planar, equal lengths.
 */
export function segmentScale(channels: readonly Float32Array[]): number {
  const n = channels[0]?.length ?? 0;
  if (n === 0) return Math.fround(NORMALIZE_EPSILON);
  let sum = 0;
  for (let t = 0; t < n; t++) {
    let m = 0;
    for (const ch of channels) m += ch[t]!;
    m = Math.fround(m / channels.length);
    sum += m * m;
  }
  const volume = Math.fround(Math.sqrt(Math.fround(sum / n)));
  return Math.fround(NORMALIZE_EPSILON + volume);
}

/**
 * Write `channels` (divided by `scale` when given, rounded to float32 like the reference's
 * float32 division) into one `[C, T]` row-major array, zero-padding each channel to `length`.
 */
export function interleavePlanar(channels: readonly Float32Array[], length: number, scale: number | null): Float32Array {
  const out = new Float32Array(channels.length * length);
  channels.forEach((ch, c) => {
    const n = Math.min(ch.length, length);
    if (scale === null) out.set(ch.subarray(0, n), c * length);
    else for (let t = 0; t < n; t++) out[c * length + t] = ch[t]! / scale;
  });
  return out;
}

/**
 * The reference's `_linear_overlap_add`: each segment is weighted by a triangle (peak in its
 * middle, computed over the first segment's length), the weighted segments are summed at
 * `k · stride`, and every sample is divided by the sum of the weights that cover it.
 *
 * @param segments decoded segments, each planar (one Float32Array per channel)
 * @returns planar output of length `stride · (n − 1) + last segment length`
 */
export function linearOverlapAdd(segments: readonly (readonly Float32Array[])[], strideSamples: number): Float32Array[] {
  const first = segments[0];
  if (!first || first.length === 0) throw new RangeError("segments must hold at least one segment with a channel");
  const last = segments[segments.length - 1]!;
  const total = strideSamples * (segments.length - 1) + last[0]!.length;
  const frameLength = first[0]!.length;
  const weight = new Float64Array(frameLength);
  for (let i = 0; i < frameLength; i++) {
    const t = (i + 1) / (frameLength + 1);
    weight[i] = 0.5 - Math.abs(t - 0.5);
  }
  const sumWeight = new Float64Array(total);
  const acc = first.map(() => new Float64Array(total));
  segments.forEach((seg, s) => {
    const offset = s * strideSamples;
    const len = Math.min(seg[0]!.length, frameLength, total - offset);
    for (let i = 0; i < len; i++) sumWeight[offset + i]! += weight[i]!;
    seg.forEach((ch, c) => {
      const a = acc[c]!;
      for (let i = 0; i < len; i++) a[offset + i]! += weight[i]! * ch[i]!;
    });
  });
  return acc.map((a) => {
    const out = new Float32Array(total);
    for (let i = 0; i < total; i++) out[i] = a[i]! / sumWeight[i]!;
    return out;
  });
}
