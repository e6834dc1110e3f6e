import { bitsPerCode, frameRateHz, segmentLengthSamples, segmentStrideSamples, type EncodecConfig } from "../config.js";

/**
 * How a model cuts audio into independently coded segments, and how many frames each gets. This
 * is the arithmetic of the reference `decompress` (and of `EncodecModel.encode`), shared by the
 * `.ecdc` reader/writer and the runtime so that they agree frame for frame.
 */
export interface SegmentLayout {
  /** Model sample rate. */
  readonly sampleRateHz: number;
  /** Frames per second of the encoder: `ceil(sampleRateHz / product(upsampling_ratios))` (75 at 24 kHz, 150 at 48 kHz). */
  readonly frameRateHz: number;
  /** Samples per segment, or `null` when the whole audio is one segment (24 kHz). 48 kHz: 48000. */
  readonly segmentSamples: number | null;
  /** Samples between segment starts, or `null` with `segmentSamples`. 48 kHz: 47520 (1 % overlap). */
  readonly strideSamples: number | null;
}

/** A {@link SegmentLayout} plus what the `.ecdc` container needs to know about the model. */
export interface EcdcModelLayout extends SegmentLayout {
  /** Bits per code, `log2(codebook_size)`: 10. */
  readonly bitsPerCodebook: number;
  /** True when each segment carries a float32 scale (the model normalises its input: 48 kHz). */
  readonly normalize: boolean;
}

/** One segment of the audio. */
export interface PlannedSegment {
  /** First sample of the segment. */
  readonly offsetSamples: number;
  /** Samples in the segment (the last one may be short). */
  readonly lengthSamples: number;
  /** Code frames the segment encodes to: `ceil(lengthSamples * frameRateHz / sampleRateHz)`. */
  readonly frames: number;
}

/** The layouts of the two published model names an `.ecdc` file may name in its `m` field. */
export const ECDC_MODEL_LAYOUTS: Readonly<Record<"encodec_24khz" | "encodec_48khz", EcdcModelLayout>> = {
  encodec_24khz: { sampleRateHz: 24000, frameRateHz: 75, segmentSamples: null, strideSamples: null, bitsPerCodebook: 10, normalize: false },
  encodec_48khz: { sampleRateHz: 48000, frameRateHz: 150, segmentSamples: 48000, strideSamples: 47520, bitsPerCodebook: 10, normalize: true },
};

/**
 * The `.ecdc` layout of a parsed EnCodec config: frame rate, segment length and stride, bits per
 * code, as `config.ts` computes them (`frameRateHz`, `segmentLengthSamples`, `segmentStrideSamples`,
 * `bitsPerCode`), so that the runtime and the container agree.
 */
export function ecdcLayoutFromConfig(config: EncodecConfig): EcdcModelLayout {
  return {
    sampleRateHz: config.sampleRateHz,
    frameRateHz: frameRateHz(config),
    segmentSamples: segmentLengthSamples(config),
    strideSamples: segmentStrideSamples(config),
    bitsPerCodebook: bitsPerCode(config),
    normalize: config.normalize,
  };
}

/** Number of segments {@link planSegments} returns, without allocating them. */
export function countSegments(audioLength: number, layout: SegmentLayout): number {
  checkAudioLength(audioLength);
  if (audioLength === 0) return 0;
  const stride = layout.strideSamples ?? audioLength;
  return Math.ceil(audioLength / stride);
}

/**
 * Cut `audioLength` samples into segments the way the reference does: starts at 0, stride,
 * 2·stride, … below `audioLength`; each `min(segmentSamples, rest)` long; frames
 * `ceil(length · frameRateHz / sampleRateHz)`. A layout without segments gives one segment.
 *
 * @example planSegments(120000, ECDC_MODEL_LAYOUTS.encodec_48khz).map((s) => s.frames) // [150, 150, 78]
 * @throws RangeError for a negative or non-integer `audioLength` or an invalid layout
 */
export function planSegments(audioLength: number, layout: SegmentLayout): PlannedSegment[] {
  checkLayout(layout);
  const count = countSegments(audioLength, layout);
  const length = layout.segmentSamples ?? audioLength;
  const stride = layout.strideSamples ?? audioLength;
  const out: PlannedSegment[] = [];
  for (let s = 0; s < count; s++) {
    const offsetSamples = s * stride;
    const lengthSamples = Math.min(audioLength - offsetSamples, length);
    out.push({ offsetSamples, lengthSamples, frames: Math.ceil((lengthSamples * layout.frameRateHz) / layout.sampleRateHz) });
  }
  return out;
}

function checkAudioLength(audioLength: number): void {
  if (!Number.isSafeInteger(audioLength) || audioLength < 0) throw new RangeError(`audioLength must be a non-negative integer, got ${audioLength}`);
}

function checkLayout(layout: SegmentLayout): void {
  const positive = (x: number): boolean => Number.isSafeInteger(x) && x > 0;
  if (!positive(layout.sampleRateHz) || !positive(layout.frameRateHz)) {
    throw new RangeError(`layout must have positive integer sampleRateHz and frameRateHz, got ${layout.sampleRateHz} and ${layout.frameRateHz}`);
  }
  if ((layout.segmentSamples === null) !== (layout.strideSamples === null)) throw new RangeError("layout segmentSamples and strideSamples must both be set or both be null");
  if (layout.segmentSamples !== null && (!positive(layout.segmentSamples) || !positive(layout.strideSamples!))) {
    throw new RangeError(`layout segmentSamples and strideSamples must be positive integers, got ${layout.segmentSamples} and ${layout.strideSamples}`);
  }
}
