import { checkBandwidth, frameRateHz, hopLengthSamples, numQuantizers, numQuantizersForBandwidth, type EncodecConfig } from "../config.js";
import { prepareWeights, type PreparedWeights } from "../model/prepare-weights.js";
import {
  buildStreamDecoderGraph,
  buildStreamEncoderGraph,
  describeStreamStates,
  STREAMING_GRAPH_VERSION,
  streamStartupFrames,
  type StreamGraphPhase,
  type StreamStateSpec,
} from "../onnx/streaming-graphs.js";
import { createGraphOpener, hashModel, type GraphCache } from "../runtime/graph-cache.js";
import type { OrtRuntime, OrtSession, OrtSessionOptions } from "../runtime/ort-types.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { setCodecInternals, type GraphPair } from "./internal/codec-internals.js";

/** Options of {@link StreamingCodec.create}. */
export interface StreamingCodecOptions {
  /** Parsed config of a causal model (`use_causal_conv: true`, e.g. `facebook/encodec_24khz`). */
  readonly config: EncodecConfig;
  /** Weights by Hugging Face name; checked against the config. Kept (folded) while the codec lives, to build encoder graphs for further bandwidths. */
  readonly tensors: TensorMap;
  /** The ONNX Runtime module: `onnxruntime-node`, `onnxruntime-web`, or compatible. */
  readonly runtime: OrtRuntime;
  /** Options for every inference session. @default {} (the runtime's defaults; see `nodeSessionOptions` for single-threaded, non-spinning ones) */
  readonly sessionOptions?: OrtSessionOptions;
  /** Where built graphs are stored and looked up. @default undefined (every graph is built) */
  readonly graphCache?: GraphCache;
  /** Bandwidths whose encoder graphs are opened at creation (others on first use). @default [] */
  readonly preloadBandwidthsKbps?: readonly number[];
}

/**
 * The stateful ONNX graphs of a causal EnCodec model (24 kHz), from which any number of
 * {@link StreamEncoder}s and {@link StreamDecoder}s are made (`createStreamEncoder`,
 * `createStreamDecoder`). The sessions hold no stream state, so encoders and decoders made from
 * one codec run independently. Free native memory with {@link StreamingCodec.release}.
 */
export class StreamingCodec {
  /** The model's config. */
  readonly config: EncodecConfig;
  /** Sample rate in Hz. */
  readonly sampleRateHz: number;
  /** Audio channels. */
  readonly channels: number;
  /** Samples per frame (320). */
  readonly hopLengthSamples: number;
  /** Frames per second (75). */
  readonly frameRateHz: number;
  /** Supported bandwidths, kbps. */
  readonly bandwidthsKbps: readonly number[];
  /** Quantizer layers of the model. */
  readonly numQuantizers: number;
  /** Entries per codebook. */
  readonly codebookSize: number;
  /** Frames a stream encoder must have before its first output in "exact" start mode (7 for encodec_24khz). */
  readonly encoderStartupFrames: number;
  /** Frames a stream decoder must have before its first output in "exact" start mode (7 for encodec_24khz). */
  readonly decoderStartupFrames: number;
  /** The encoder graphs' state tensors, in input order. */
  readonly encoderStates: readonly StreamStateSpec[];
  /** The decoder graphs' state tensors, in input order. */
  readonly decoderStates: readonly StreamStateSpec[];

  private readonly encoders = new Map<number, Promise<GraphPair>>();
  private released = false;

  private constructor(
    private readonly openGraph: (name: string, build: () => Uint8Array) => Promise<OrtSession>,
    private readonly decoder: GraphPair,
    private readonly buildEncoder: (nq: number, phase: StreamGraphPhase) => Uint8Array,
    readonly runtime: OrtRuntime,
    prepared: PreparedWeights,
  ) {
    const config = prepared.architecture.config;
    this.config = config;
    this.sampleRateHz = config.sampleRateHz;
    this.channels = config.audioChannels;
    this.hopLengthSamples = hopLengthSamples(config);
    this.frameRateHz = frameRateHz(config);
    this.bandwidthsKbps = config.targetBandwidthsKbps;
    this.numQuantizers = numQuantizers(config);
    this.codebookSize = config.codebookSize;
    this.encoderStartupFrames = streamStartupFrames(prepared.architecture, "encoder");
    this.decoderStartupFrames = streamStartupFrames(prepared.architecture, "decoder");
    this.encoderStates = Object.freeze(describeStreamStates(prepared.architecture, "encoder"));
    this.decoderStates = Object.freeze(describeStreamStates(prepared.architecture, "decoder"));
    setCodecInternals(this, {
      runtime,
      decoder: () => {
        this.assertLive();
        return decoder;
      },
      encoder: (nq) => {
        this.assertLive();
        return this.encoderPair(nq);
      },
    });
  }

  /**
   * Check the weights, build (or read from `graphCache`) the streaming decoder graphs (and the
   * encoder graphs of `preloadBandwidthsKbps`) and open their sessions.
   *
   * @throws CodecError `unsupported` for a non-causal model (48 kHz: use chunked streaming);
   *   `missing-tensor` / `shape-mismatch` / `unexpected-tensor` for weights that do not fit the config
   * @throws RangeError for a preload bandwidth the model does not support
   */
  static async create(options: StreamingCodecOptions): Promise<StreamingCodec> {
    const { config, runtime } = options;
    const sessionOptions = options.sessionOptions ?? {};
    for (const bw of options.preloadBandwidthsKbps ?? []) checkBandwidth(config, bw, "preloadBandwidthsKbps");
    const prepared = prepareWeights(config, options.tensors);
    describeStreamStates(prepared.architecture, "encoder"); // throws `unsupported` before any building
    const cache = options.graphCache;
    const modelHash = cache ? await hashModel(config, prepared.tensors) : null;
    const openGraph = createGraphOpener({ runtime, sessionOptions, cache, modelHash, keyPrefix: `stream${STREAMING_GRAPH_VERSION}-` });
    const first = await openGraph("decoder-first", () => buildStreamDecoderGraph(prepared, "first"));
    let step: OrtSession;
    try {
      step = await openGraph("decoder-step", () => buildStreamDecoderGraph(prepared, "step"));
    } catch (e) {
      await first.release();
      throw e;
    }
    const codec = new StreamingCodec(openGraph, { first, step }, (nq, phase) => buildStreamEncoderGraph(prepared, nq, phase), runtime, prepared);
    try {
      for (const bw of options.preloadBandwidthsKbps ?? []) await codec.encoderPair(numQuantizersForBandwidth(config, bw));
    } catch (e) {
      await codec.release();
      throw e;
    }
    return codec;
  }

  /** Quantizers (codebooks) used at `bandwidthKbps`. @throws RangeError for a bandwidth the model does not support */
  numQuantizersForBandwidth(bandwidthKbps: number): number {
    checkBandwidth(this.config, bandwidthKbps, "bandwidthKbps");
    return numQuantizersForBandwidth(this.config, bandwidthKbps);
  }

  private encoderPair(nq: number): Promise<GraphPair> {
    let pair = this.encoders.get(nq);
    if (!pair) {
      pair = (async () => {
        const first = await this.openGraph(`encoder-first-${nq}`, () => this.buildEncoder(nq, "first"));
        try {
          return { first, step: await this.openGraph(`encoder-step-${nq}`, () => this.buildEncoder(nq, "step")) };
        } catch (e) {
          await first.release();
          throw e;
        }
      })();
      pair.catch(() => this.encoders.delete(nq));
      this.encoders.set(nq, pair);
    }
    return pair;
  }

  private assertLive(): void {
    if (this.released) throw new Error("StreamingCodec: released");
  }

  /** Release every session (native memory). Encoders and decoders made from this codec cannot be used afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const sessions: OrtSession[] = [this.decoder.first, this.decoder.step];
    for (const p of this.encoders.values()) {
      const pair = await p.catch(() => null);
      if (pair) sessions.push(pair.first, pair.step);
    }
    await Promise.all(sessions.map((s) => s.release()));
  }
}
