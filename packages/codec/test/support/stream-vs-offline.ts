// Frame-exact streaming against the offline reference computation, as bench/stream-vs-offline.ts
// measures it and test/stream-vs-offline.test.ts checks it: the stream encoder fed one frame per
// call, its codes decoded by the stream decoder one frame per push, against `encodeSegment` /
// `decodeSegment` (the offline graphs over the whole input in one call).
import type { EncodedFrame, EncodecModel } from "../../src/runtime/encodec-model.js";
import { createStreamDecoder } from "../../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../../src/streaming/stream-encoder.js";
import type { StreamingCodec } from "../../src/streaming/streaming-codec.js";

/** Frames of 320 samples. */
const HOP = 320;
/** Frames after a flipped code within which the decoded audio may still carry its difference. */
export const FLIP_REACH_FRAMES = 20;

/** Two code matrices compared (codebook-major, `codes[k * F + f]`). */
export interface CodesComparison {
  readonly totalCodes: number;
  readonly equalCodes: number;
  /** Frames where any code differs, ascending. */
  readonly framesDiffering: number[];
  /** The lowest codebook index (0-based) that differs anywhere, or null when all are equal. */
  readonly lowestCodebook: number | null;
}

/** What {@link compareStreamToOffline} measured. */
export interface StreamVsOffline {
  /** The stream's codes against the reference's. */
  readonly codes: CodesComparison;
  /** The stream decoder's output of the stream's codes against `decodeSegment(reference)`. */
  readonly maxError: number;
  readonly meanError: number;
  /** The same max, over the frames with no differing code in them or in the {@link FLIP_REACH_FRAMES} before. */
  readonly maxErrorAwayFromFlips: number;
  /** The stream decoder on the reference's own codes against `decodeSegment(reference)` (the decoder alone). */
  readonly decoderMaxError: number;
  readonly decoderMeanError: number;
}

/** Compare codebook-major codes `a` and `b` of `numCodebooks` rows. */
export function compareCodes(a: ArrayLike<number>, b: ArrayLike<number>, numCodebooks: number): CodesComparison {
  if (a.length !== b.length) throw new Error(`compareCodes: ${a.length} codes against ${b.length}`);
  const numFrames = a.length / numCodebooks;
  const differing = new Set<number>();
  let equal = 0;
  let lowest: number | null = null;
  for (let k = 0; k < numCodebooks; k++) {
    for (let f = 0; f < numFrames; f++) {
      if (a[k * numFrames + f] === b[k * numFrames + f]) equal++;
      else {
        differing.add(f);
        lowest ??= k;
      }
    }
  }
  return { totalCodes: a.length, equalCodes: equal, framesDiffering: [...differing].sort((x, y) => x - y), lowestCodebook: lowest };
}

async function streamDecode(codec: StreamingCodec, frames: ReadonlyArray<{ codes: Uint16Array; numCodebooks: number; lengthSamples: number }>, length: number): Promise<Float32Array> {
  const decoder = createStreamDecoder(codec);
  const out = new Float32Array(length);
  let at = 0;
  const put = (parts: Float32Array[]) => {
    const p = parts[0]!;
    out.set(p.subarray(0, Math.max(0, Math.min(p.length, length - at))), at);
    at += p.length;
  };
  for (const f of frames) put(await decoder.push({ codes: f.codes, numCodebooks: f.numCodebooks, numFrames: 1, lengthSamples: f.lengthSamples }));
  put(await decoder.end());
  if (at !== length) throw new Error(`stream decoder gave ${at} samples, expected ${length}`);
  return out;
}

/**
 * Stream-encode mono `audio` at `bandwidthKbps` in pieces of `pieceSamples()` samples (default
 * one frame, 320, per call: what a live sender does; larger pieces make multi-frame model calls)
 * and decode it one frame per push; compare with `reference` (`model.encodeSegment` of the same audio) and its
 * `decodeSegment`.
 */
export async function compareStreamToOffline(
  model: EncodecModel,
  codec: StreamingCodec,
  audio: Float32Array,
  bandwidthKbps: number,
  reference: EncodedFrame,
  pieceSamples: () => number = () => HOP,
): Promise<StreamVsOffline> {
  const K = reference.numCodebooks;
  const F = reference.numFrames;
  const encoder = await createStreamEncoder(codec, { bandwidthKbps });
  const frames = [];
  for (let at = 0; at < audio.length; ) {
    const end = Math.min(audio.length, at + pieceSamples());
    frames.push(...(await encoder.push([audio.subarray(at, end)])));
    at = end;
  }
  frames.push(...(await encoder.end()));
  if (frames.length !== F) throw new Error(`stream encoder gave ${frames.length} frames, the reference ${F}`);
  const streamCodes = new Uint16Array(K * F);
  frames.forEach((frame, f) => {
    for (let k = 0; k < K; k++) streamCodes[k * F + f] = frame.codes[k]!;
  });
  const codes = compareCodes(streamCodes, reference.codes, K);

  const expected = (await model.decodeSegment(reference))[0]!.subarray(0, audio.length);
  const decoded = await streamDecode(codec, frames, audio.length);
  const referenceFrames = frames.map((frame, f) => ({ codes: Uint16Array.from({ length: K }, (_, k) => reference.codes[k * F + f]!), numCodebooks: K, lengthSamples: frame.lengthSamples }));
  const decoderOnly = await streamDecode(codec, referenceFrames, audio.length);

  const flipped = new Set(codes.framesDiffering);
  const nearFlip = (f: number) => {
    for (let d = 0; d <= FLIP_REACH_FRAMES; d++) if (flipped.has(f - d)) return true;
    return false;
  };
  let maxError = 0;
  let sumError = 0;
  let maxAway = 0;
  let decoderMax = 0;
  let decoderSum = 0;
  for (let i = 0; i < audio.length; i++) {
    const d = Math.abs(decoded[i]! - expected[i]!);
    maxError = Math.max(maxError, d);
    sumError += d;
    if (!nearFlip(Math.floor(i / HOP))) maxAway = Math.max(maxAway, d);
    const o = Math.abs(decoderOnly[i]! - expected[i]!);
    decoderMax = Math.max(decoderMax, o);
    decoderSum += o;
  }
  return {
    codes,
    maxError,
    meanError: sumError / audio.length,
    maxErrorAwayFromFlips: maxAway,
    decoderMaxError: decoderMax,
    decoderMeanError: decoderSum / audio.length,
  };
}
