import {
  createChunkCoder,
  createStreamDecoder,
  createStreamEncoder,
  payloadModelKindOf,
  type ChunkCoder,
  type EncodecModel,
  type LmWeights,
  type PayloadModelKind,
  type StreamDecoderLike,
  type StreamEncoderLike,
  type StreamingCodec,
} from "@encstream/codec";
import { SessionError } from "./errors.js";

/**
 * The codec side of a session: what a sender or receiver needs of an EnCodec model. It is the
 * codec's `ChunkCoder` (chunked mode: each chunk encoded and decoded on its own) plus the model's
 * facts, frame-exact stream encoders and decoders (`StreamEncoderLike` / `StreamDecoderLike`:
 * the in-thread `StreamEncoder` / `StreamDecoder` or the worker-thread ones of
 * `@encstream/codec/node`) and the language model. Build one with {@link createSessionCodec}
 * (any ONNX Runtime: onnxruntime-node, onnxruntime-web); every model call is async, so an
 * implementation may run the model elsewhere (spread the result and replace what runs elsewhere).
 */
export interface SessionCodec extends ChunkCoder {
  /** The payload's name for the model: `"24k"` (24 kHz mono) or `"48k"` (48 kHz stereo). */
  readonly modelKind: PayloadModelKind;
  /** True for a causal model (frame-exact stream mode possible). */
  readonly causal: boolean;
  /** Bandwidths the model supports, kbps. */
  readonly bandwidthsKbps: readonly number[];
  /**
   * A new frame-exact stream encoder at `bandwidthKbps` (started "exact").
   * @throws SessionError `"unsupported"` (or the codec's own error) when the model cannot stream
   */
  createStreamEncoder(options: { readonly bandwidthKbps: number }): Promise<StreamEncoderLike>;
  /**
   * A new frame-exact stream decoder (started "exact").
   * @throws SessionError `"unsupported"` (or the codec's own error) when the model cannot stream
   */
  createStreamDecoder(): Promise<StreamDecoderLike>;
  /** The language model, or null when there is none (LM-coded streams then cannot be sent or received). */
  lm(): Promise<LmWeights | null>;
}

/** Options of {@link createSessionCodec}. */
export interface CreateSessionCodecOptions {
  /** The offline model, from `loadEncodec` (`@encstream/codec/node`) or `EncodecModel.create`. */
  readonly model: EncodecModel;
  /**
   * What codes the chunks (chunked mode), e.g. `createWorkerChunkCoder` of `@encstream/codec/node`.
   * @default createChunkCoder(model) (the calling thread)
   */
  readonly chunkCoder?: ChunkCoder | undefined;
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
  const chunks = options.chunkCoder ?? createChunkCoder(model);
  return {
    modelKind,
    sampleRateHz: chunks.sampleRateHz,
    channels: chunks.channels,
    causal: model.config.useCausalConv,
    hopLengthSamples: chunks.hopLengthSamples,
    bandwidthsKbps: model.bandwidthsKbps,
    normalize: chunks.normalize,
    numQuantizersForBandwidth: (bandwidthKbps) => chunks.numQuantizersForBandwidth(bandwidthKbps),
    encodeChunk: (audio, o) => chunks.encodeChunk(audio, o),
    decodeChunk: (chunk) => chunks.decodeChunk(chunk),
    createStreamEncoder: async (o) => createStreamEncoder(await streamingCodec(), { bandwidthKbps: o.bandwidthKbps }),
    createStreamDecoder: async () => createStreamDecoder(await streamingCodec()),
    lm: () => {
      lm ??= options.lm === undefined ? Promise.resolve(null) : options.lm();
      return lm;
    },
  };
}
