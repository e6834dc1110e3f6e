import type { EncodeOptions } from "../runtime/encodec-model.js";
import type { EncodecModel } from "../runtime/encodec-model.js";
import { decodeChunk, encodeChunk, type EncodedChunk } from "./chunk-codec.js";
import type { CodeBlock, StreamFrame, StreamStart } from "./stream-types.js";

/**
 * What a caller needs of a frame-by-frame stream encoder. `StreamEncoder` (inference on the
 * calling thread) and `WorkerStreamEncoder` of `@encstream/codec/node` (inference in a worker
 * thread) both have it, so a session can take either.
 */
export interface StreamEncoderLike {
  /** Codebooks per frame at this bandwidth. */
  readonly numCodebooks: number;
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Whole frames buffered before the first output. */
  readonly startupFrames: number;
  /** Target bandwidth, kbps. */
  readonly bandwidthKbps: number;
  /** How the stream begins. */
  readonly start: StreamStart;
  /** Frames emitted so far in this stream. */
  readonly frameCount: number;
  /** Samples per channel pushed but not yet encoded. */
  readonly bufferedSamples: number;
  /** Append audio (planar, model rate; copied, not retained) and encode every whole frame that is ready; calls run in order. */
  push(audio: readonly Float32Array[]): Promise<StreamFrame[]>;
  /** Encode what is buffered (the last frame possibly partial), then reset for a new stream. */
  end(): Promise<StreamFrame[]>;
  /** Forget the stream; the next push starts a new one. Call it between streams. */
  reset(): void;
}

/**
 * What a caller needs of a frame-by-frame stream decoder: `StreamDecoder` (calling thread) and
 * `WorkerStreamDecoder` of `@encstream/codec/node` (worker thread) both have it.
 */
export interface StreamDecoderLike {
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Frames gathered before the first output. */
  readonly startupFrames: number;
  /** How the stream begins. */
  readonly start: StreamStart;
  /** Concealed frames over which the output fades to silence. */
  readonly concealFadeFrames: number;
  /** Codebooks per frame of the current stream, or null before its first block. */
  readonly numCodebooks: number | null;
  /** Frames pushed so far in this stream, concealed ones included. */
  readonly frameCount: number;
  /** Decode a block of codes; resolves to the audio it made final (planar, owned by the caller). */
  push(block: CodeBlock): Promise<Float32Array[]>;
  /** Conceal `count` lost frames (1 to 4500); resolves to the audio made final. */
  pushMissing(count?: number): Promise<Float32Array[]>;
  /** Decode frames still gathered for the startup, then reset for a new stream. */
  end(): Promise<Float32Array[]>;
  /** Forget the stream; the next push starts a new one. Call it between streams. */
  reset(): void;
}

/**
 * Chunked streaming's coder: each chunk encoded and decoded on its own. {@link createChunkCoder}
 * runs an `EncodecModel` on the calling thread, `createWorkerChunkCoder` of
 * `@encstream/codec/node` in a worker thread; a session can take either.
 */
export interface ChunkCoder {
  /** Sample rate, Hz. */
  readonly sampleRateHz: number;
  /** Audio channels. */
  readonly channels: number;
  /** Samples per codec frame (320). */
  readonly hopLengthSamples: number;
  /** Whether chunks carry their own scale (the 48 kHz model's `normalize`). */
  readonly normalize: boolean;
  /** Codebooks at `bandwidthKbps`. @throws RangeError for a bandwidth the model does not support */
  numQuantizersForBandwidth(bandwidthKbps: number): number;
  /** As `encodeChunk(model, audio, options)`. */
  encodeChunk(audio: readonly Float32Array[], options: EncodeOptions): Promise<EncodedChunk>;
  /** As `decodeChunk(model, chunk)`. */
  decodeChunk(chunk: EncodedChunk): Promise<Float32Array[]>;
}

/**
 * A {@link ChunkCoder} over an offline model on the calling thread (`encodeChunk` /
 * `decodeChunk`). The model stays the caller's to release.
 */
export function createChunkCoder(model: EncodecModel): ChunkCoder {
  return {
    sampleRateHz: model.sampleRateHz,
    channels: model.channels,
    hopLengthSamples: model.hopLengthSamples,
    normalize: model.config.normalize,
    numQuantizersForBandwidth: (bw) => model.numQuantizersForBandwidth(bw),
    encodeChunk: (audio, options) => encodeChunk(model, audio, options),
    decodeChunk: (chunk) => decodeChunk(model, chunk),
  };
}
