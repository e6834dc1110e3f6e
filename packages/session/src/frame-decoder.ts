import { OverlapAdd } from "@encstream/ola";
import type { StreamDecoderLike } from "@encstream/codec";
import type { SessionCodec } from "./session-codec.js";

/** The codes of one received unit, as the payload carried them. */
export interface UnitCodes {
  /** Codebook-major codes `[numCodebooks × numFrames]`. */
  readonly codes: Uint16Array;
  /** K, codebooks per frame. */
  readonly numCodebooks: number;
  /** F, EnCodec frames in the unit. */
  readonly numFrames: number;
  /** Samples per channel the unit carries. */
  readonly lengthSamples: number;
  /** The 48 kHz chunk's scale, or null. */
  readonly scale: number | null;
  /** The wire header's `has_overlap`. */
  readonly hasOverlap: boolean;
  /** Each frame's K when they differ (a payload's per-frame K table), else null or absent. */
  readonly frameCodebooks?: Uint8Array | null;
}

/**
 * Turns received units, in playout order, into the stream's audio: each call returns the audio
 * it made final (planar, model rate, owned by the caller), so the output concatenated is the
 * stream, aligned with the sender's input from its first sample.
 */
export interface FrameDecoder {
  /** Decodes the next unit. */
  decode(unit: UnitCodes): Promise<Float32Array[]>;
  /** Conceals `count` lost units (each keeps its length in the output). */
  missing(count: number): Promise<Float32Array[]>;
  /** Ends the stream: what is still held back (the last overlap, or startup frames); then the decoder is fresh. */
  finish(): Promise<Float32Array[]>;
  /** Runs the decoder once on silence codes (ONNX Runtime's first call is slow); leaves no state. */
  warmUp(numCodebooks: number): Promise<void>;
}

/**
 * Chunked framing: every chunk decoded on its own (`decodeChunk`, trimmed to its length, scaled
 * at 48 kHz), joined by `@encstream/ola`'s triangular overlap-add; lost chunks become the
 * defined fade-out, silence and fade-in of `OverlapAdd.pushMissing`.
 */
export function createChunkedDecoder(codec: SessionCodec, options: { readonly chunkSamples: number; readonly overlapRatio: number }): FrameDecoder {
  const ola = new OverlapAdd({ channels: codec.channels, chunkSamples: options.chunkSamples, overlapRatio: options.overlapRatio });
  return {
    decode: async (unit) =>
      ola.push(await codec.decodeChunk({ codes: unit.codes, numCodebooks: unit.numCodebooks, numFrames: unit.numFrames, lengthSamples: unit.lengthSamples, scale: unit.scale, frameCodebooks: unit.frameCodebooks ?? null }), { hasOverlap: unit.hasOverlap }),
    missing: async (count) => ola.pushMissing({ chunks: count }),
    finish: async () => ola.flush(),
    warmUp: async (numCodebooks) => {
      const frames = Math.ceil(options.chunkSamples / codec.hopLengthSamples);
      await codec.decodeChunk({
        codes: new Uint16Array(numCodebooks * frames),
        numCodebooks,
        numFrames: frames,
        lengthSamples: options.chunkSamples,
        scale: codec.normalize ? 1 : null,
      });
    },
  };
}

/** Options of {@link createFrameStreamDecoder}. */
export interface FrameStreamDecoderOptions {
  /**
   * Decode a unit of several frames one frame at a time, so that the audio does not depend on
   * how the frames were grouped into messages (the decoder's batched call differs from its
   * frame-by-frame calls in the last bits): a stream whose frames per message change plays
   * bit-identically to the same frames one a message. @default false (one call a unit)
   */
  readonly frameByFrame?: boolean;
}

/** The unit's frame `j` alone (its codes at its own K; the last one of a unit may be short). */
function frameOf(unit: UnitCodes, j: number, hopSamples: number): { codes: Uint16Array; numCodebooks: number; numFrames: 1; lengthSamples: number } {
  const f = unit.numFrames;
  const k = unit.frameCodebooks?.[j] ?? unit.numCodebooks;
  const codes = new Uint16Array(k);
  for (let q = 0; q < k; q++) codes[q] = unit.codes[q * f + j] as number;
  return { codes, numCodebooks: k, numFrames: 1, lengthSamples: Math.max(1, Math.min(hopSamples, unit.lengthSamples - j * hopSamples)) };
}

/** Concatenates planar pieces, channel by channel. */
function concatPlanar(pieces: readonly Float32Array[][]): Float32Array[] {
  if (pieces.length === 1) return pieces[0] as Float32Array[];
  const channels = pieces.find((p) => p.length > 0)?.length ?? 0;
  return Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(pieces.reduce((n, p) => n + (p[c]?.length ?? 0), 0));
    let at = 0;
    for (const p of pieces) {
      const channel = p[c];
      if (channel === undefined) continue;
      out.set(channel, at);
      at += channel.length;
    }
    return out;
  });
}

/**
 * Stream framing: the frame-exact stateful decoder ("exact" start: its first audio comes once the
 * startup frames are in, then one frame per frame, equal to the offline decoding); lost frames
 * are concealed by the decoder (last codes, fading to silence).
 *
 * @param framesPerUnit frames one lost unit stands for in `missing` (1: `missing` counts frames)
 * @throws what `codec.createStreamDecoder` throws (a model that cannot stream)
 */
export async function createFrameStreamDecoder(codec: SessionCodec, framesPerUnit = 1, options: FrameStreamDecoderOptions = {}): Promise<FrameDecoder> {
  const decoder: StreamDecoderLike = await codec.createStreamDecoder();
  const hop = codec.hopLengthSamples;
  return {
    decode: async (unit) => {
      if (options.frameByFrame !== true || unit.numFrames === 1) {
        return decoder.push({ codes: unit.codes, numCodebooks: unit.numCodebooks, numFrames: unit.numFrames, lengthSamples: unit.lengthSamples, frameCodebooks: unit.frameCodebooks ?? null });
      }
      const pieces: Float32Array[][] = [];
      for (let j = 0; j < unit.numFrames; j++) pieces.push(await decoder.push(frameOf(unit, j, hop)));
      return concatPlanar(pieces);
    },
    // a unit is `framesPerUnit` frames (`--frames-per-packet`): conceal them all
    missing: (count) => decoder.pushMissing(count * framesPerUnit),
    finish: () => decoder.end(),
    warmUp: async (numCodebooks) => {
      const codes = new Uint16Array(numCodebooks);
      for (let i = 0; i <= decoder.startupFrames; i++) await decoder.push({ codes, numCodebooks, numFrames: 1 });
      decoder.reset();
    },
  };
}
