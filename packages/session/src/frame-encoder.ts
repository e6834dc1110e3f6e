import type { PayloadMode, PayloadModelKind, StreamEncoderLike, StreamFrame } from "@encstream/codec";
import { Chunker, computeOverlapSamples } from "@encstream/ola";
import { DEFAULT_CHUNK_MS_24K, DEFAULT_CHUNK_MS_48K, FRAME_SAMPLES } from "./constants.js";
import type { SessionCodec } from "./session-codec.js";

/** The chunk length of the chunked framing when none is chosen, ms: 250 at 24 kHz, 1000 at 48 kHz. */
export function defaultChunkMsOf(modelKind: PayloadModelKind): number {
  return modelKind === "48k" ? DEFAULT_CHUNK_MS_48K : DEFAULT_CHUNK_MS_24K;
}

/**
 * One encoded unit of a stream, before it becomes a payload: a chunk (chunked mode) or one
 * 320-sample frame (stream mode). Its `seq` is the wire sequence number.
 */
export interface EncodedUnit {
  /** Wire sequence number: the chunk's or frame's index in the stream, from 0. */
  readonly seq: number;
  /** Codebook-major codes `[numCodebooks × numFrames]`. */
  readonly codes: Uint16Array;
  /** K, codebooks per frame. */
  readonly numCodebooks: number;
  /** F, EnCodec frames the unit holds. */
  readonly numFrames: number;
  /** Samples per channel the unit carries (the decoder trims to it). */
  readonly lengthSamples: number;
  /** The 48 kHz chunk's scale, or null. */
  readonly scale: number | null;
  /** Whether the unit's audio begins with the overlap it shares with the previous chunk (the wire flag). */
  readonly hasOverlap: boolean;
  /** First input sample the unit covers (model rate). */
  readonly startSample: number;
  /** One past the last input sample it covers: the unit's audio was complete once this many samples were captured. */
  readonly endSample: number;
  /** RMS level of the unit's input audio, dBFS (see `levelDbfs`), when measured (`measureUnitLevels`; `send --dtx`). @default undefined */
  readonly levelDb?: number | undefined;
}

/**
 * Turns audio at the model's rate into {@link EncodedUnit}s, in either framing. Push audio as it
 * is captured, cut at {@link FrameEncoder.nextBoundary} so that every unit is encoded the moment
 * its last sample is in (and, in stream mode, so that the ONNX calls are the same on every run:
 * one frame each after the startup).
 */
export interface FrameEncoder {
  /** `"chunked"` or `"stream"`. */
  readonly mode: PayloadMode;
  /** Samples between the starts of consecutive units: the chunk hop, or 320. */
  readonly stepSamples: number;
  /** Chunk length (chunked) or 320 (stream), samples. */
  readonly unitSamples: number;
  /** Overlap between chunks, samples (0 in stream mode). */
  readonly overlapSamples: number;
  /** K, codebooks per frame at the chosen bandwidth. */
  readonly numCodebooks: number;
  /** The sample count (from the start of the stream) at which the next unit is complete, given `fed` samples pushed so far. */
  nextBoundary(fed: number): number;
  /** Encodes what `audio` completes (planar, model rate; not retained). */
  push(audio: readonly Float32Array[]): Promise<EncodedUnit[]>;
  /** Encodes what is left at the end of the stream, then resets. */
  end(): Promise<EncodedUnit[]>;
  /** Runs the encoder once on silence, so the first real unit is not slowed by ONNX Runtime's first call; leaves no state. */
  warmUp(): Promise<void>;
}

/** Options of {@link createChunkedEncoder}. */
export interface ChunkedEncoderOptions {
  /** Chunk length, samples per channel. */
  readonly chunkSamples: number;
  /** Overlap as a fraction of the chunk, 0.01 to 0.5. */
  readonly overlapRatio: number;
  /** Bandwidth, kbps (one the model supports). */
  readonly bandwidthKbps: number;
}

/**
 * Chunked framing: `@encstream/ola`'s `Chunker` cuts overlapping chunks, each encoded on its own
 * (`encodeChunk`: at 48 kHz with its own scale).
 *
 * @throws RangeError for a bandwidth the model does not support
 */
export function createChunkedEncoder(codec: SessionCodec, options: ChunkedEncoderOptions): FrameEncoder {
  const { chunkSamples, overlapRatio, bandwidthKbps } = options;
  let chunker = new Chunker({ chunkSamples, overlapRatio });
  const overlapSamples = computeOverlapSamples(chunkSamples, overlapRatio);
  const hop = chunkSamples - overlapSamples;
  const numCodebooks = codec.numQuantizersForBandwidth(bandwidthKbps);
  const encodeAll = async (chunks: readonly { index: number; startSample: number; hasOverlap: boolean; samples: Float32Array[] }[]) => {
    const units: EncodedUnit[] = [];
    for (const chunk of chunks) {
      const encoded = await codec.encodeChunk(chunk.samples, { bandwidthKbps });
      units.push({
        seq: chunk.index,
        codes: encoded.codes,
        numCodebooks: encoded.numCodebooks,
        numFrames: encoded.numFrames,
        lengthSamples: encoded.lengthSamples,
        scale: encoded.scale,
        hasOverlap: chunk.hasOverlap,
        startSample: chunk.startSample,
        endSample: chunk.startSample + encoded.lengthSamples,
      });
    }
    return units;
  };
  return {
    mode: "chunked",
    stepSamples: hop,
    unitSamples: chunkSamples,
    overlapSamples,
    numCodebooks,
    nextBoundary: (fed) => (fed < chunkSamples ? chunkSamples : chunkSamples + (Math.floor((fed - chunkSamples) / hop) + 1) * hop),
    push: (audio) => encodeAll(chunker.push(audio)),
    end: () => encodeAll(chunker.end()),
    warmUp: async () => {
      const silence = Array.from({ length: codec.channels }, () => new Float32Array(chunkSamples));
      await codec.encodeChunk(silence, { bandwidthKbps });
      chunker = new Chunker({ chunkSamples, overlapRatio });
    },
  };
}

/**
 * Stream framing: the frame-exact stateful encoder of a causal model, one 320-sample frame per
 * unit. It starts in "exact" mode: its first frames come out together once the startup frames
 * are in (7 for encodec_24khz), then one per frame, equal to the offline encoding.
 *
 * @throws what `codec.createStreamEncoder` throws (a model that cannot stream, a bad bandwidth)
 */
export async function createFrameStreamEncoder(codec: SessionCodec, bandwidthKbps: number): Promise<FrameEncoder> {
  const encoder: StreamEncoderLike = await codec.createStreamEncoder({ bandwidthKbps });
  const toUnits = (frames: readonly StreamFrame[]): EncodedUnit[] =>
    frames.map((frame) => ({
      seq: frame.index,
      codes: frame.codes,
      numCodebooks: frame.numCodebooks,
      numFrames: 1,
      lengthSamples: frame.lengthSamples,
      scale: null,
      hasOverlap: false,
      startSample: frame.index * FRAME_SAMPLES,
      endSample: frame.index * FRAME_SAMPLES + frame.lengthSamples,
    }));
  return {
    mode: "stream",
    stepSamples: FRAME_SAMPLES,
    unitSamples: FRAME_SAMPLES,
    overlapSamples: 0,
    numCodebooks: encoder.numCodebooks,
    nextBoundary: (fed) => (Math.floor(fed / FRAME_SAMPLES) + 1) * FRAME_SAMPLES,
    push: async (audio) => toUnits(await encoder.push(audio)),
    end: async () => toUnits(await encoder.end()),
    warmUp: async () => {
      // The startup frames and one more run both of the encoder's graphs ("first" and "step").
      const silence = Array.from({ length: codec.channels }, () => new Float32Array(FRAME_SAMPLES));
      for (let i = 0; i <= encoder.startupFrames; i++) await encoder.push(silence);
      encoder.reset();
    },
  };
}
