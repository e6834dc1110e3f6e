import { checkBandwidth, frameRateHz, hopLengthSamples, numQuantizers, numQuantizersForBandwidth, type EncodecConfig } from "../config.js";
import { prepareWeights, type PreparedWeights } from "../model/prepare-weights.js";
import {
  buildStreamDecoderGraph,
  buildStreamEncoderGraph,
  describeStreamStates,
  STREAMING_GRAPH_VERSION,
  streamStartupFrames,
  type StreamSide,
  type StreamStateSpec,
} from "../onnx/streaming-graphs.js";
import { describeArchitecture, type EncodecArchitecture } from "../model/architecture.js";
import { checkPrecision, isQuantized, precisionSuffix, type CodecPrecision } from "../onnx/int8-graph.js";
import { combinePhaseGraphs, PHASE_INPUT } from "../onnx/phase-graph.js";
import { createGraphOpener, hashModel, type GraphCache, type GraphOpener } from "../runtime/graph-cache.js";
import type { Tensor } from "onnxruntime-common";
import type { OrtRuntime, OrtSession, OrtSessionOptions } from "../runtime/ort-types.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { setCodecInternals, type GraphPair } from "./internal/codec-internals.js";

/** A side's sessions as the codec holds them (one for both phases, or one a phase for the quantized precisions). */
interface LazyGraphPair extends GraphPair {
  /** The sessions to release. */
  sessions(): readonly OrtSession[];
}

/** Options of {@link StreamingCodec.create}. */
export interface StreamingCodecOptions {
  /** Parsed config of a causal model (`use_causal_conv: true`, e.g. `facebook/encodec_24khz`). */
  readonly config: EncodecConfig;
  /**
   * Weights by Hugging Face name; checked against the config. Kept (folded) while the codec
   * lives, to build encoder graphs for further bandwidths. Give either this or `loadTensors`.
   */
  readonly tensors?: TensorMap;
  /**
   * Reads the weights when a graph must be built (a graph cache miss), instead of `tensors`: they
   * are checked, used and dropped, not kept in memory; a later miss (another bandwidth)
   * reads them again. Needs `modelKey` for the graph cache.
   * @default undefined (use `tensors`)
   */
  readonly loadTensors?: () => Promise<TensorMap>;
  /**
   * Identity of the model for the graph cache keys (hex, at least 32 digits), e.g. the node
   * loader's file identity key; it must change whenever the weights, the config or the graph
   * builder change. @default undefined (the SHA-256 of the config and weights: `hashModel`)
   */
  readonly modelKey?: string;
  /** The ONNX Runtime module: `onnxruntime-node`, `onnxruntime-web`, or compatible. */
  readonly runtime: OrtRuntime;
  /** Options for every inference session. @default {} (the runtime's defaults; see `nodeSessionOptions` for single-threaded, non-spinning ones) */
  readonly sessionOptions?: OrtSessionOptions;
  /** Where built graphs are stored and looked up. @default undefined (every graph is built) */
  readonly graphCache?: GraphCache;
  /** Bandwidths whose encoder graphs are opened at creation (others on first use). @default [] */
  readonly preloadBandwidthsKbps?: readonly number[];
  /**
   * The sides whose sessions this codec opens: a sender needs only `["encoder"]`, a receiver
   * only `["decoder"]`. Making a stream encoder (decoder) of a codec without that side throws.
   * @default ["encoder", "decoder"]
   */
  readonly sides?: readonly StreamSide[];
  /**
   * No effect: each side is one session, whose graph holds the startup ("first") and the step
   * computation as the two branches of an `If` over one copy of the weights, so there is no
   * second session to release. Accepted for compatibility.
   * @deprecated since the phases share one graph
   * @default false
   */
  readonly releaseStartupSessions?: boolean;
  /** Numeric precision of the encoder and decoder graphs (see `EncodecModelOptions.precision`). @default "float32" */
  readonly precision?: CodecPrecision;
  /**
   * No effect: each side is one session (see `releaseStartupSessions`). Accepted for compatibility.
   * @deprecated since the phases share one graph
   * @default false
   */
  readonly oneSessionAtATime?: boolean;
}

/**
 * The stateful ONNX graphs of a causal EnCodec model (24 kHz), from which any number of
 * {@link StreamEncoder}s and {@link StreamDecoder}s are made (`createStreamEncoder`,
 * `createStreamDecoder`). Each side is one session, whose graph runs a stream's first call (the
 * offline start) or a later one (states in and out) on a flag, over one copy of the weights
 * (onnx/phase-graph.ts). The sessions hold no stream state, so encoders and decoders made from
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
  /** Numeric precision of the graphs (see `StreamingCodecOptions.precision`). */
  readonly precision: CodecPrecision;

  private readonly encoders = new Map<number, Promise<LazyGraphPair>>();
  private decoderPair: LazyGraphPair | null = null;
  private released = false;

  private constructor(
    private readonly openGraph: GraphOpener,
    /** The prepared weights (read again on each call when they are loaded on demand). */
    private weights: () => Promise<PreparedWeights>,
    private readonly sides: ReadonlySet<StreamSide>,
    readonly runtime: OrtRuntime,
    architecture: EncodecArchitecture,
    precision: CodecPrecision,
  ) {
    const config = architecture.config;
    this.precision = precision;
    this.config = config;
    this.sampleRateHz = config.sampleRateHz;
    this.channels = config.audioChannels;
    this.hopLengthSamples = hopLengthSamples(config);
    this.frameRateHz = frameRateHz(config);
    this.bandwidthsKbps = config.targetBandwidthsKbps;
    this.numQuantizers = numQuantizers(config);
    this.codebookSize = config.codebookSize;
    this.encoderStartupFrames = streamStartupFrames(architecture, "encoder");
    this.decoderStartupFrames = streamStartupFrames(architecture, "decoder");
    this.encoderStates = Object.freeze(describeStreamStates(architecture, "encoder"));
    this.decoderStates = Object.freeze(describeStreamStates(architecture, "decoder"));
    setCodecInternals(this, {
      runtime,
      decoder: () => {
        this.assertLive();
        this.assertSide("decoder");
        return this.decoderPair!;
      },
      encoder: (nq) => {
        this.assertLive();
        this.assertSide("encoder");
        return this.encoderPair(nq);
      },
    });
  }

  /**
   * Check the weights, build (or read from `graphCache`) the streaming decoder graphs (and the
   * encoder graphs of `preloadBandwidthsKbps`) and open their sessions, for the `sides` asked.
   * With `loadTensors` and a `modelKey` whose graphs are all cached, the weights are not read.
   *
   * @throws CodecError `unsupported` for a non-causal model (48 kHz: use chunked streaming);
   *   `missing-tensor` / `shape-mismatch` / `unexpected-tensor` for weights that do not fit the config
   * @throws RangeError for a preload bandwidth the model does not support, bad `sides` or `modelKey`;
   *   TypeError when neither `tensors` nor `loadTensors` is given
   */
  static async create(options: StreamingCodecOptions): Promise<StreamingCodec> {
    const { config, runtime } = options;
    const sessionOptions = options.sessionOptions ?? {};
    const preload = options.preloadBandwidthsKbps ?? [];
    const precision = checkPrecision(options.precision, "precision");
    for (const bw of preload) checkBandwidth(config, bw, "preloadBandwidthsKbps");
    const sides = new Set<StreamSide>(options.sides ?? ["encoder", "decoder"]);
    if (sides.size === 0 || [...sides].some((side) => side !== "encoder" && side !== "decoder")) {
      throw new RangeError(`sides must name "encoder" and/or "decoder", got ${JSON.stringify(options.sides)}`);
    }
    if (!sides.has("encoder") && preload.length > 0) throw new RangeError("preloadBandwidthsKbps needs the encoder side (sides)");
    if (options.modelKey !== undefined && !/^[0-9a-f]{32,}$/.test(options.modelKey)) {
      throw new RangeError(`modelKey must be at least 32 lowercase hex digits, got ${JSON.stringify(options.modelKey)}`);
    }
    const architecture = describeArchitecture(config);
    describeStreamStates(architecture, "encoder"); // throws `unsupported` before any building or reading
    const cache = options.graphCache;
    let weights: () => Promise<PreparedWeights>;
    let modelHash: string | null = null;
    if (options.tensors) {
      const prepared = prepareWeights(config, options.tensors);
      weights = async () => prepared;
      if (cache) modelHash = options.modelKey ?? (await hashModel(config, prepared.tensors));
    } else if (options.loadTensors) {
      const load = options.loadTensors;
      weights = async () => prepareWeights(config, await load());
      if (cache && options.modelKey) modelHash = options.modelKey;
    } else {
      throw new TypeError("StreamingCodec.create needs tensors or loadTensors");
    }
    const openGraph = createGraphOpener({ runtime, sessionOptions, cache, modelHash, keyPrefix: `stream${STREAMING_GRAPH_VERSION}-` });
    // While creating, weights read once serve every graph built; afterwards they are read again when needed.
    let held: Promise<PreparedWeights> | null = null;
    const codec = new StreamingCodec(openGraph, () => (held ??= weights()), sides, runtime, architecture, precision);
    try {
      if (sides.has("decoder")) codec.decoderPair = await codec.openSide("decoder", 0);
      for (const bw of preload) await codec.encoderPair(numQuantizersForBandwidth(config, bw));
    } catch (e) {
      await codec.release();
      throw e;
    }
    codec.weights = weights;
    return codec;
  }

  /** Quantizers (codebooks) used at `bandwidthKbps`. @throws RangeError for a bandwidth the model does not support */
  numQuantizersForBandwidth(bandwidthKbps: number): number {
    checkBandwidth(this.config, bandwidthKbps, "bandwidthKbps");
    return numQuantizersForBandwidth(this.config, bandwidthKbps);
  }

  /**
   * Open one side's sessions (`nq` codebooks for the encoder). float32: one graph whose `If`
   * runs the "first" (startup) or the "step" computation over one copy of the weights (see
   * onnx/phase-graph.ts). The quantized precisions: the two graphs as two sessions, so that a
   * step call runs without the `If` and its gate (5–7 % of an int8 or int4 frame), for a second
   * copy of weights that are a quarter of float32's or less.
   */
  private async openSide(side: StreamSide, nq: number): Promise<LazyGraphPair> {
    const suffix = `${side === "encoder" ? `-${nq}` : ""}${precisionSuffix(this.precision)}`;
    const build = async (phase: "first" | "step") => {
      const prepared = await this.weights();
      return side === "encoder" ? buildStreamEncoderGraph(prepared, nq, phase, this.precision) : buildStreamDecoderGraph(prepared, phase, this.precision);
    };
    if (isQuantized(this.precision)) {
      const first = await this.openGraph(`${side}-first${suffix}`, () => build("first"));
      let step: OrtSession;
      try {
        step = await this.openGraph(`${side}-step${suffix}`, () => build("step"));
      } catch (e) {
        await first.release();
        throw e;
      }
      return {
        sessions: () => [first, step],
        runStep: (feeds) => {
          this.assertLive();
          return step.run(feeds);
        },
        runFirst: (feeds) => {
          this.assertLive();
          return first.run(feeds);
        },
      };
    }
    const name = `${side}-phases${suffix}`;
    const session = await this.openGraph(name, async () => combinePhaseGraphs(await build("first"), await build("step"), `stream-${side}-phases${suffix}`));
    const first = new this.runtime.Tensor("bool", new Uint8Array([1]), []);
    const step = new this.runtime.Tensor("bool", new Uint8Array([0]), []);
    let zeros: Record<string, Tensor> | null = null;
    return {
      sessions: () => [session],
      runStep: (feeds) => {
        this.assertLive();
        return session.run({ ...feeds, [PHASE_INPUT]: step });
      },
      runFirst: (feeds) => {
        this.assertLive();
        zeros ??= this.unreadStateInputs(session, feeds);
        return session.run({ ...zeros, ...feeds, [PHASE_INPUT]: first });
      },
    };
  }

  /** Zero tensors for the inputs the first call does not feed (the states, which its branch does not read), from the session's input metadata. */
  private unreadStateInputs(session: OrtSession, feeds: Record<string, Tensor>): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const metadata = (session as Partial<Pick<OrtSession, "inputMetadata">>).inputMetadata;
    for (const name of session.inputNames) {
      if (name === PHASE_INPUT || name in feeds) continue;
      const meta = metadata?.find((m) => m.name === name);
      const dims = meta?.isTensor ? meta.shape : undefined;
      if (!meta?.isTensor || meta.type !== "float32" || !dims || dims.some((d) => typeof d !== "number")) {
        throw new Error(`StreamingCodec: the runtime gives no fixed float32 shape for state input ${name} (InferenceSession.inputMetadata)`);
      }
      const shape = dims as number[];
      out[name] = new this.runtime.Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    }
    return out;
  }

  private encoderPair(nq: number): Promise<LazyGraphPair> {
    let pair = this.encoders.get(nq);
    if (!pair) {
      pair = this.openSide("encoder", nq);
      pair.catch(() => this.encoders.delete(nq));
      this.encoders.set(nq, pair);
    }
    return pair;
  }

  private assertLive(): void {
    if (this.released) throw new Error("StreamingCodec: released");
  }

  private assertSide(side: StreamSide): void {
    if (!this.sides.has(side)) throw new Error(`StreamingCodec: created without the ${side} side (sides: ${[...this.sides].join(", ")})`);
  }

  /** Release every session (native memory). Encoders and decoders made from this codec cannot be used afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const sessions: OrtSession[] = [];
    const pairs: Array<LazyGraphPair | null> = [this.decoderPair];
    for (const p of this.encoders.values()) pairs.push(await p.catch(() => null));
    for (const pair of pairs) if (pair) sessions.push(...pair.sessions());
    await Promise.all(sessions.map((s) => s.release()));
  }
}
