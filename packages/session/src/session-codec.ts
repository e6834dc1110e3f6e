import {
  createStreamDecoder,
  createStreamEncoder,
  decodeChunk,
  encodeChunk,
  payloadModelKindOf,
  type CodeBlock,
  type EncodecModel,
  type EncodedChunk,
  type LmWeights,
  type PayloadModelKind,
  type StreamFrame,
  type StreamingCodec,
} from "@encstream/codec";
import { SessionError } from "./errors.js";

/**
 * A frame-exact stream encoder as the sessions use it (`StreamEncoder` of `@encstream/codec`
 * fits). Every model call is async, so it may run elsewhere (a worker).
 */
export interface SessionStreamEncoder {
  /** K, codebooks per frame. */
  readonly numCodebooks: number;
  /** Frames the encoder takes in before its first output (the "exact" start). */
  readonly startupFrames: number;
  /** Encodes what `audio` completes (planar, model rate; not retained): the frames now final. */
  push(audio: readonly Float32Array[]): Promise<StreamFrame[]>;
  /** Encodes what is left at the end of the stream (the last frame may be short). */
  end(): Promise<StreamFrame[]>;
  /** Forgets the stream: the next push starts a new one. */
  reset(): void;
}

/**
 * A frame-exact stream decoder as the sessions use it (`StreamDecoder` of `@encstream/codec`
 * fits). Each call returns the audio it made final (planar, model rate, the caller's).
 */
export interface SessionStreamDecoder {
  /** Frames the decoder takes in before its first output. */
  readonly startupFrames: number;
  /** Decodes a block of frames. */
  push(block: CodeBlock): Promise<Float32Array[]>;
  /** Conceals `count` lost frames (last codes, fading to silence). */
  pushMissing(count: number): Promise<Float32Array[]>;
  /** Ends the stream: what is still held back. */
  end(): Promise<Float32Array[]>;
  /** Forgets the stream. */
  reset(): void;
}

/**
 * The codec side of a session: what a sender or receiver needs of an EnCodec model. Build one
 * from `@encstream/codec` objects with {@link createSessionCodec} (any runtime: onnxruntime-node,
 * onnxruntime-web), or implement it to run the model elsewhere; every model call is async.
 */
export interface SessionCodec {
  /** The payload's name for the model: `"24k"` (24 kHz mono) or `"48k"` (48 kHz stereo). */
  readonly modelKind: PayloadModelKind;
  /** Model rate, Hz. */
  readonly sampleRateHz: number;
  /** Model channels. */
  readonly channels: number;
  /** True for a causal model (frame-exact stream mode possible). */
  readonly causal: boolean;
  /** Samples per EnCodec frame (320 for both published models). */
  readonly hopLengthSamples: number;
  /** Bandwidths the model supports, kbps. */
  readonly bandwidthsKbps: readonly number[];
  /** True when the model normalises loudness (48 kHz): its chunks carry a scale. */
  readonly normalize: boolean;
  /**
   * K, codebooks per frame at `bandwidthKbps`.
   * @throws RangeError for a bandwidth the model does not support
   */
  numCodebooksForBandwidth(bandwidthKbps: number): number;
  /** Encodes one chunk on its own (planar, model rate), as `encodeChunk` of `@encstream/codec`. */
  encodeChunk(audio: readonly Float32Array[], options: { readonly bandwidthKbps: number }): Promise<EncodedChunk>;
  /** Decodes one chunk, trimmed to its `lengthSamples`, as `decodeChunk` of `@encstream/codec`. */
  decodeChunk(chunk: EncodedChunk): Promise<Float32Array[]>;
  /**
   * A new frame-exact stream encoder at `bandwidthKbps`.
   * @throws SessionError `"unsupported"` (or the codec's own error) when the model cannot stream
   */
  createStreamEncoder(options: { readonly bandwidthKbps: number }): Promise<SessionStreamEncoder>;
  /**
   * A new frame-exact stream decoder.
   * @throws SessionError `"unsupported"` (or the codec's own error) when the model cannot stream
   */
  createStreamDecoder(): Promise<SessionStreamDecoder>;
  /** The language model, or null when there is none (LM-coded streams then cannot be sent or received). */
  lm(): Promise<LmWeights | null>;
}

/** Options of {@link createSessionCodec}. */
export interface CreateSessionCodecOptions {
  /** The offline model (chunked mode), from `loadEncodec` (`@encstream/codec/node`) or `EncodecModel.create`. */
  readonly model: EncodecModel;
  /**
   * The frame-exact streaming codec, built on the first stream encoder or decoder (called once;
   * its promise is kept, a rejection too). @default undefined (no stream mode)
   */
  readonly streaming?: (() => Promise<StreamingCodec>) | undefined;
  /** The language model, read on the first `lm()` (called once; its promise is kept). @default undefined (no LM) */
  readonly lm?: (() => Promise<LmWeights | null>) | undefined;
}

/**
 * A {@link SessionCodec} over `@encstream/codec` objects, on whatever ONNX Runtime they were
 * loaded with. The providers are called lazily and their results kept.
 *
 * @throws SessionError `"unsupported"` for a model that is neither 24 kHz mono nor 48 kHz stereo
 */
export function createSessionCodec(options: CreateSessionCodecOptions): SessionCodec {
  const { model } = options;
  let modelKind: PayloadModelKind;
  try {
    modelKind = payloadModelKindOf(model.config);
  } catch (error) {
    throw new SessionError("unsupported", (error as Error).message, { cause: error });
  }
  let streaming: Promise<StreamingCodec> | undefined;
  let lm: Promise<LmWeights | null> | undefined;
  const streamingCodec = (): Promise<StreamingCodec> => {
    const provide = options.streaming;
    if (provide === undefined) {
      return Promise.reject(
        new SessionError("unsupported", "this codec has no frame-exact streaming codec (give createSessionCodec a streaming provider); use chunked mode"),
      );
    }
    streaming ??= provide();
    return streaming;
  };
  return {
    modelKind,
    sampleRateHz: model.sampleRateHz,
    channels: model.channels,
    causal: model.config.useCausalConv,
    hopLengthSamples: model.hopLengthSamples,
    bandwidthsKbps: model.bandwidthsKbps,
    normalize: model.config.normalize,
    numCodebooksForBandwidth: (bandwidthKbps) => model.numQuantizersForBandwidth(bandwidthKbps),
    encodeChunk: (audio, o) => encodeChunk(model, audio, { bandwidthKbps: o.bandwidthKbps }),
    decodeChunk: (chunk) => decodeChunk(model, chunk),
    createStreamEncoder: async (o) => createStreamEncoder(await streamingCodec(), { bandwidthKbps: o.bandwidthKbps }),
    createStreamDecoder: async () => createStreamDecoder(await streamingCodec()),
    lm: () => {
      lm ??= options.lm === undefined ? Promise.resolve(null) : options.lm();
      return lm;
    },
  };
}
