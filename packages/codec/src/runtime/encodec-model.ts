import {
  frameRateHz,
  hopLengthSamples,
  numQuantizers,
  checkBandwidth,
  numQuantizersForBandwidth,
  segmentLengthSamples,
  segmentStrideSamples,
  type EncodecConfig,
} from "../config.js";
import { MAX_BATCH_SEGMENTS, MAX_SEGMENT_SAMPLES } from "../constants.js";
import { CodecError } from "../errors.js";
import { checkFrameCodebooks, findBadCode, writeCodeIds } from "../internal/frame-codebooks.js";
import { prepareWeights, type PreparedWeights } from "../model/prepare-weights.js";
import { buildDecodeGraph, buildEncoderGraph, buildQuantizerEncodeGraph, GRAPH_IO } from "../onnx/encodec-graphs.js";
import { checkPrecision, precisionSuffix, type CodecPrecision } from "../onnx/int8-graph.js";
import { StreamingCodec } from "../streaming/streaming-codec.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { interleavePlanar, segmentOffsets, segmentScale } from "./audio-segments.js";
import { OfflineDecoder, OfflineEncoder, usesBlocks, type OfflineCodeBlock, type OfflineEngine } from "./offline-coder.js";
import { createGraphOpener, hashModel, type GraphCache, type GraphOpener } from "./graph-cache.js";
import type { Tensor } from "onnxruntime-common";
import type { OrtRuntime, OrtSession, OrtSessionOptions } from "./ort-types.js";

/** The codes of one segment (the whole input for 24 kHz; one 1 s segment for 48 kHz offline). */
export interface EncodedFrame {
  /**
   * Codes, codebook-major: the code of codebook `k` at frame `f` is `codes[k * numFrames + f]`,
   * each below the model's `codebookSize`. Owned by the caller.
   */
  readonly codes: Uint16Array;
  /** K: codebooks used (set by the bandwidth); with `frameCodebooks`, the most any frame uses. */
  readonly numCodebooks: number;
  /** F: latent frames (`ceil(samples / hop)`). */
  readonly numFrames: number;
  /**
   * Per-frame bitrate: frame `f` uses only its first `frameCodebooks[f]` codebooks (each in
   * [1, numCodebooks]; the codes of the other rows are ignored). Decoding sums exactly the codewords
   * of each frame's own codebooks. Null or absent: every frame uses `numCodebooks`. @default null
   */
  readonly frameCodebooks?: Uint8Array | null;
  /** The segment's scale for normalizing models (48 kHz): decoded audio is multiplied by it. Null otherwise. */
  readonly scale: number | null;
}

/** An offline encoding: the segments' codes and what is needed to rebuild the audio. */
export interface EncodedAudio {
  /** One entry per segment, in order. */
  readonly frames: readonly EncodedFrame[];
  /** Samples per channel of the encoded audio (the decoded audio is trimmed to it). */
  readonly lengthSamples: number;
  /** Bandwidth the codes were made for. */
  readonly bandwidthKbps: number;
  /** Sample rate of the audio, Hz. */
  readonly sampleRateHz: number;
  /** Channels of the audio. */
  readonly channels: number;
}

/** Options of {@link EncodecModel.encode} and {@link EncodecModel.encodeSegment}. */
export interface EncodeOptions {
  /** Target bandwidth in kbps; one of the model's `bandwidthsKbps` (e.g. 1.5, 3, 6, 12, 24). */
  readonly bandwidthKbps: number;
}

/** The encoder's output for one segment (see {@link EncodecModel.embed}). */
export interface SegmentEmbeddings {
  /** `[hiddenSize, numFrames]` row-major float32 latent vectors. */
  readonly embeddings: Float32Array;
  readonly hiddenSize: number;
  readonly numFrames: number;
  /** The segment's scale (input was divided by it), or null for non-normalizing models. */
  readonly scale: number | null;
}

/** Options of {@link EncodecModel.create}. */
export interface EncodecModelOptions {
  /** Parsed config (see `parseEncodecConfig`). */
  readonly config: EncodecConfig;
  /** Weights by Hugging Face name (see `readSafetensors`); checked against the config. Not retained after creation unless needed for lazily built graphs. Give either this or `loadTensors`. */
  readonly tensors?: TensorMap;
  /**
   * Reads the weights when a graph must be built (a graph cache miss), instead of `tensors`: they
   * are checked, used and dropped; a later miss (another bandwidth's quantizer) reads them again.
   * Needs `modelKey` for the graph cache. @default undefined (use `tensors`)
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
  /** Options for every inference session (threads, execution providers, ...). @default {} (the runtime's defaults) */
  readonly sessionOptions?: OrtSessionOptions;
  /** Where built graphs are stored and looked up; without one, every graph is built. @default undefined */
  readonly graphCache?: GraphCache;
  /** Bandwidths whose quantizer graphs are made at creation (others on first use). @default [] */
  readonly preloadBandwidthsKbps?: readonly number[];
  /**
   * When the offline encoder and decode graphs are opened: at creation, or on first use (a
   * command that only decodes, or codes a long file block by block, then never holds the
   * sessions it does not run; the weights are kept, or read again with `loadTensors`, until then).
   * @default "eager"
   */
  readonly openGraphs?: "eager" | "on-first-use";
  /**
   * Numeric precision of the SEANet encoder and decoder graphs (offline and streaming):
   * `"float32"` is exact (the reference's numbers); `"int8"` runs the convolutions and LSTMs
   * with int8 weights and dynamically quantized activations through ONNX Runtime's
   * `com.microsoft` CPU kernels (onnxruntime-node; not onnxruntime-web), several times faster per
   * frame and approximate: see the package README's fidelity table; the streaming quantizer's
   * distances are int8 too. `"int4"` is int8 with 4-bit weights (blocks of 128) in the LSTMs and
   * the largest convolutions: faster per frame still, and further from float32.
   * Part of the graph cache keys. @default "float32"
   */
  readonly precision?: CodecPrecision;
}

/** Counters of how graphs were obtained (for tests and diagnostics). */
export interface GraphStats {
  /** Graphs built from the weights. */
  readonly built: number;
  /** Graphs read from the cache. */
  readonly fromCache: number;
  /** Milliseconds spent building graphs. */
  readonly buildMs: number;
}

/**
 * EnCodec on ONNX Runtime: offline `encode`/`decode` exactly as the reference (segments,
 * normalization, overlap-add), plus per-segment `encodeSegment`/`decodeSegment`. Audio is planar
 * float32 at the model's sample rate, one array per channel. Batch size is always 1.
 *
 * Create with {@link EncodecModel.create}; free native memory with {@link EncodecModel.release}.
 */
export class EncodecModel {
  /** The model's config. */
  readonly config: EncodecConfig;
  /** Sample rate in Hz. */
  readonly sampleRateHz: number;
  /** Audio channels (1 or 2). */
  readonly channels: number;
  /** Samples per latent frame (320). */
  readonly hopLengthSamples: number;
  /** Latent frames per second (75 at 24 kHz, 150 at 48 kHz). */
  readonly frameRateHz: number;
  /** Supported bandwidths, kbps. */
  readonly bandwidthsKbps: readonly number[];
  /** Quantizer layers of the model (the codebooks at the largest bandwidth). */
  readonly numQuantizers: number;
  /** Entries per codebook. */
  readonly codebookSize: number;
  /** Offline segment length in samples, or null (whole input as one segment). */
  readonly segmentLengthSamples: number | null;
  /** Offline segment stride in samples, or null. */
  readonly segmentStrideSamples: number | null;
  /** Numeric precision of the encoder and decoder graphs (see `EncodecModelOptions.precision`). */
  readonly precision: CodecPrecision;

  private readonly quantizers = new Map<number, Promise<OrtSession>>();
  private stats_: { built: number; fromCache: number; buildMs: number };
  private released = false;
  /** Opens one side's stateful streaming graphs (causal single-segment models only). */
  private openStreaming: ((side: "encoder" | "decoder") => Promise<StreamingCodec>) | null = null;
  private readonly streaming = new Map<"encoder" | "decoder", Promise<StreamingCodec>>();
  /** The offline encoder and decode sessions opened so far. */
  private openedSessions: Array<Promise<OrtSession>> = [];

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly openGraph: GraphOpener,
    private readonly encoderSession: () => Promise<OrtSession>,
    private readonly decoderSession: () => Promise<OrtSession>,
    config: EncodecConfig,
    stats: { built: number; fromCache: number; buildMs: number },
    precision: CodecPrecision,
  ) {
    this.config = config;
    this.precision = precision;
    this.sampleRateHz = config.sampleRateHz;
    this.channels = config.audioChannels;
    this.hopLengthSamples = hopLengthSamples(config);
    this.frameRateHz = frameRateHz(config);
    this.bandwidthsKbps = config.targetBandwidthsKbps;
    this.numQuantizers = numQuantizers(config);
    this.codebookSize = config.codebookSize;
    this.segmentLengthSamples = segmentLengthSamples(config);
    this.segmentStrideSamples = segmentStrideSamples(config);
    this.stats_ = stats;
  }

  /**
   * Check the weights against the config, build (or read from `graphCache`) the encoder and
   * decoder graphs and open their sessions.
   *
   * @throws CodecError `missing-tensor` / `shape-mismatch` / `unexpected-tensor` for weights that do not fit the config
   * @throws RangeError for a preload bandwidth the model does not support
   */
  static async create(options: EncodecModelOptions): Promise<EncodecModel> {
    const { config, runtime } = options;
    const sessionOptions = options.sessionOptions ?? {};
    const precision = checkPrecision(options.precision, "precision");
    for (const bw of options.preloadBandwidthsKbps ?? []) checkBandwidth(config, bw, "preloadBandwidthsKbps");
    if (options.modelKey !== undefined && !/^[0-9a-f]{32,}$/.test(options.modelKey)) {
      throw new RangeError(`modelKey must be at least 32 lowercase hex digits, got ${JSON.stringify(options.modelKey)}`);
    }
    const cache = options.graphCache;
    let load: () => Promise<PreparedWeights>;
    let modelHash: string | null = null;
    let retained: PreparedWeights | null = null;
    if (options.tensors) {
      retained = prepareWeights(config, options.tensors);
      const prepared = retained;
      load = async () => prepared;
      if (cache) modelHash = options.modelKey ?? (await hashModel(config, prepared.tensors));
    } else if (options.loadTensors) {
      const read = options.loadTensors;
      load = async () => prepareWeights(config, await read());
      if (cache && options.modelKey) modelHash = options.modelKey;
    } else {
      throw new TypeError("EncodecModel.create needs tensors or loadTensors");
    }
    // While creating, weights read once serve every graph built.
    let held: Promise<PreparedWeights> | null = null;
    let weights = () => (held ??= load());
    const stats = { built: 0, fromCache: 0, buildMs: 0 };
    const openGraph = createGraphOpener({ runtime, sessionOptions, cache, modelHash, stats });
    const lazy = options.openGraphs === "on-first-use";
    const opened: Array<Promise<OrtSession>> = [];
    const once = (name: string, build: () => Promise<Uint8Array>): (() => Promise<OrtSession>) => {
      let session: Promise<OrtSession> | null = null;
      return () => {
        if (session === null) {
          const opening = openGraph(name, build);
          session = opening;
          opened.push(opening);
          opening.catch(() => (session = null));
        }
        return session;
      };
    };
    const suffix = precisionSuffix(precision);
    const encoder = once(`encoder${suffix}`, async () => buildEncoderGraph(await weights(), precision));
    const decoder = once(`decode${suffix}`, async () => buildDecodeGraph(await weights(), precision));
    if (!lazy) {
      const first = await encoder();
      try {
        await decoder();
      } catch (e) {
        await first.release();
        throw e;
      }
    }
    const model = new EncodecModel(runtime, openGraph, encoder, decoder, config, stats, precision);
    model.openedSessions = opened;
    model.buildQuantizer = async (nq) => buildQuantizerEncodeGraph(await weights(), nq);
    if (config.useCausalConv && segmentLengthSamples(config) === null) {
      // Long inputs are coded block by block with the streaming graph of one side (built from
      // the weights on first use): one session, whose graph runs the first block and the later ones.
      const tensors = options.tensors;
      const loadTensors = options.loadTensors;
      model.openStreaming = (side) => {
        const source = tensors ? { tensors } : { loadTensors: loadTensors!, ...(options.modelKey ? { modelKey: options.modelKey } : {}) };
        return StreamingCodec.create({ config, ...source, runtime, sessionOptions, precision, sides: [side], ...(cache ? { graphCache: cache } : {}) });
      };
    }
    try {
      for (const bw of options.preloadBandwidthsKbps ?? []) await model.quantizerFor(numQuantizersForBandwidth(config, bw));
    } catch (e) {
      await model.release();
      throw e;
    }
    if (retained && lazy) {
      const all = retained;
      weights = async () => all; // the encoder and decode graphs may still be built
    } else if (retained) {
      // Keep only the codebooks for quantizer graphs not built yet.
      const codebooks: PreparedWeights = { architecture: retained.architecture, tensors: new Map([...retained.tensors].filter(([n]) => n.startsWith("quantizer."))) };
      weights = async () => codebooks;
    } else {
      weights = load;
    }
    return model;
  }

  private buildQuantizer: (numQuantizers: number) => Promise<Uint8Array> = () => {
    throw new Error("EncodecModel: not initialized");
  };

  /** How the graphs were obtained so far (built vs read from the cache). */
  get graphStats(): GraphStats {
    return { ...this.stats_ };
  }

  /** Quantizers used at `bandwidthKbps`. @throws RangeError for a bandwidth the model does not support */
  numQuantizersForBandwidth(bandwidthKbps: number): number {
    checkBandwidth(this.config, bandwidthKbps, "bandwidthKbps");
    return numQuantizersForBandwidth(this.config, bandwidthKbps);
  }

  private quantizerFor(nq: number): Promise<OrtSession> {
    let s = this.quantizers.get(nq);
    if (!s) {
      s = this.openGraph(`quantizer-encode-${nq}`, () => this.buildQuantizer(nq));
      s.catch(() => this.quantizers.delete(nq));
      this.quantizers.set(nq, s);
    }
    return s;
  }

  private checkAudio(audio: readonly Float32Array[], name: string, maxSamples: number): number {
    if (!Array.isArray(audio) || !audio.every((ch) => ch instanceof Float32Array)) {
      throw new TypeError(`${name} must be an array of Float32Array (one per channel)`);
    }
    if (audio.length !== this.channels) {
      throw new RangeError(`${name} must have ${this.channels} channel(s) for this ${this.sampleRateHz} Hz model (supported: ${this.channels}), got ${audio.length}`);
    }
    const n = audio[0]!.length;
    if (!audio.every((ch) => ch.length === n)) throw new RangeError(`${name} channels must have equal lengths, got ${audio.map((c) => c.length).join(", ")}`);
    if (n === 0) throw new RangeError(`${name} must hold at least one sample per channel`);
    if (n > maxSamples) throw new RangeError(`${name} must hold at most ${maxSamples} samples per channel here, got ${n}`);
    return n;
  }

  private assertLive(): void {
    if (this.released) throw new Error("EncodecModel: released");
  }

  /**
   * Run the encoder on one segment (normalized first when the model normalizes).
   * @throws RangeError / TypeError for audio of the wrong shape
   */
  async embed(audio: readonly Float32Array[]): Promise<SegmentEmbeddings> {
    this.assertLive();
    const n = this.checkAudio(audio, "audio", this.segmentLengthSamples ?? MAX_SEGMENT_SAMPLES);
    const { tensor, scales } = await this.runEncoder([audio], n);
    const [, d, f] = tensor.dims as [number, number, number];
    return { embeddings: tensor.data as Float32Array, hiddenSize: d, numFrames: f, scale: scales[0]! };
  }

  /** Encoder on B segments of `n` samples each, as one batch `[B, C, n]`. */
  private async runEncoder(segments: ReadonlyArray<readonly Float32Array[]>, n: number) {
    const scales = segments.map((seg) => (this.config.normalize ? segmentScale(seg) : null));
    const one = this.channels * n;
    const data = new Float32Array(segments.length * one);
    segments.forEach((seg, b) => data.set(interleavePlanar(seg, n, scales[b]!), b * one));
    const input = new this.runtime.Tensor("float32", data, [segments.length, this.channels, n]);
    const out = await (await this.encoderSession()).run({ [GRAPH_IO.audio]: input });
    return { tensor: out[GRAPH_IO.embeddings] as Tensor, scales };
  }

  /** Encode B equally long segments in one batch. */
  private async encodeBatch(segments: ReadonlyArray<readonly Float32Array[]>, n: number, nq: number): Promise<EncodedFrame[]> {
    const quantizer = this.quantizerFor(nq);
    const { tensor, scales } = await this.runEncoder(segments, n);
    const out = await (await quantizer).run({ [GRAPH_IO.embeddings]: tensor });
    const codesTensor = out[GRAPH_IO.codes]!;
    const [b, k, f] = codesTensor.dims as [number, number, number];
    const src = codesTensor.data as BigInt64Array;
    return Array.from({ length: b }, (_, i) => {
      const codes = new Uint16Array(k * f);
      for (let j = 0; j < codes.length; j++) codes[j] = Number(src[i * k * f + j]);
      return { codes, numCodebooks: k, numFrames: f, scale: scales[i]! };
    });
  }

  /**
   * Encode one segment: normalization (when the model normalizes), encoder, residual vector
   * quantization with the bandwidth's number of codebooks. For a segmenting model the segment
   * must not exceed `segmentLengthSamples`.
   *
   * @param audio planar channels at the model's rate; not retained
   * @throws RangeError for an unsupported bandwidth or channel count, or a segment too long
   */
  async encodeSegment(audio: readonly Float32Array[], options: EncodeOptions): Promise<EncodedFrame> {
    this.assertLive();
    const nq = this.numQuantizersForBandwidth(options?.bandwidthKbps);
    const n = this.checkAudio(audio, "audio", this.segmentLengthSamples ?? MAX_SEGMENT_SAMPLES);
    return (await this.encodeBatch([audio], n, nq))[0]!;
  }

  private checkFrame(frame: EncodedFrame, name: string, lengthSamples?: number): void {
    const { codes, numCodebooks: k, numFrames: f } = frame ?? ({} as EncodedFrame);
    if (!(codes instanceof Uint16Array)) throw new TypeError(`${name}.codes must be a Uint16Array`);
    if (!Number.isInteger(k) || k < 1 || k > this.numQuantizers) {
      throw new RangeError(`${name}.numCodebooks must be an integer in [1, ${this.numQuantizers}], got ${k}`);
    }
    const maxSamples = lengthSamples !== undefined && usesBlocks(this.engine(), lengthSamples) ? lengthSamples + this.hopLengthSamples : MAX_SEGMENT_SAMPLES;
    if (!Number.isInteger(f) || f < 1 || f * this.hopLengthSamples > maxSamples) {
      throw new RangeError(`${name}.numFrames must be a positive integer up to ${Math.floor(maxSamples / this.hopLengthSamples)}, got ${f}`);
    }
    if (codes.length !== k * f) throw new RangeError(`${name}.codes must hold numCodebooks × numFrames = ${k * f} codes, got ${codes.length}`);
    if (frame.scale !== null && !(typeof frame.scale === "number" && Number.isFinite(frame.scale))) {
      throw new TypeError(`${name}.scale must be a finite number or null, got ${String(frame.scale)}`);
    }
    checkFrameCodebooks(`${name}.frameCodebooks`, frame.frameCodebooks, k, f);
    const bad = findBadCode(codes, k, f, frame.frameCodebooks, this.codebookSize);
    if (bad >= 0) throw new CodecError("corrupt", `${name}: code ${codes[bad]} at index ${bad} is not below the codebook size ${this.codebookSize}`);
  }

  /** Decode B checked frames of equal shape in one batch; each output scaled by its frame's scale. */
  private async decodeBatch(frames: ReadonlyArray<Omit<EncodedFrame, "codes"> & { readonly codes: Uint16Array }>): Promise<Float32Array[][]> {
    const { numCodebooks: k, numFrames: f } = frames[0]!;
    const ids = new BigInt64Array(frames.length * k * f);
    frames.forEach((fr, b) => writeCodeIds(ids, b * k * f, fr.codes, k, f, fr.frameCodebooks, this.codebookSize));
    const out = await (await this.decoderSession()).run({ [GRAPH_IO.codes]: new this.runtime.Tensor("int64", ids, [frames.length, k, f]) });
    const audio = out[GRAPH_IO.audio]!;
    const data = audio.data as Float32Array;
    const t = (audio.dims as number[])[2]!;
    return frames.map((fr, b) =>
      Array.from({ length: this.channels }, (_, c) => {
        const start = (b * this.channels + c) * t;
        const ch = data.slice(start, start + t);
        if (fr.scale !== null) for (let i = 0; i < t; i++) ch[i] = ch[i]! * fr.scale;
        return ch;
      }),
    );
  }

  /**
   * Decode one segment's codes to audio: `numFrames · hop` samples per channel (not trimmed),
   * multiplied by the frame's scale when it has one.
   *
   * @returns planar audio, owned by the caller
   * @throws TypeError / RangeError for a malformed frame (sizes); CodecError `corrupt` for a code ≥ codebookSize
   */
  async decodeSegment(frame: EncodedFrame): Promise<Float32Array[]> {
    this.assertLive();
    this.checkFrame(frame, "frame");
    return (await this.decodeBatch([frame]))[0]!;
  }

  /**
   * Encode audio offline as the reference `EncodecModel.encode` does: one segment for models
   * without `chunk_length_s` (24 kHz), else segments of `segmentLengthSamples` every
   * `segmentStrideSamples` (48 kHz: 1 s every 0.99 s), each normalized with its own scale.
   * Equally long segments run as one batch (up to {@link MAX_BATCH_SEGMENTS}). The single
   * segment of a causal model longer than `OFFLINE_BLOCK_FRAMES` frames (10 s at 24 kHz) is
   * computed block by block with the stateful streaming graphs, so any length fits in bounded
   * memory; this is the same computation as {@link createOfflineEncoder}, so both give the
   * same codes bit for bit.
   *
   * @param audio planar channels at the model's sample rate, values nominally in [-1, 1]; not retained
   * @throws RangeError listing the supported bandwidths / channel count on misuse
   */
  async encode(audio: readonly Float32Array[], options: EncodeOptions): Promise<EncodedAudio> {
    this.assertLive();
    this.numQuantizersForBandwidth(options?.bandwidthKbps);
    const n = this.checkAudio(audio, "audio", Number.MAX_SAFE_INTEGER);
    const encoder = this.createOfflineEncoder({ bandwidthKbps: options.bandwidthKbps, lengthSamples: n });
    const blocks = [...(await encoder.push(audio)), ...(await encoder.end())];
    const frames: EncodedFrame[] = [];
    for (const block of blocks) {
      const last = frames[frames.length - 1];
      if (last !== undefined && frames.length - 1 === block.segment) frames[frames.length - 1] = appendFrames(last, block);
      else frames.push({ codes: block.codes, numCodebooks: block.numCodebooks, numFrames: block.numFrames, scale: block.scale });
    }
    return { frames, lengthSamples: n, bandwidthKbps: options.bandwidthKbps, sampleRateHz: this.sampleRateHz, channels: this.channels };
  }

  /**
   * Decode an offline encoding as the reference `decode` + trim: each segment decoded and scaled,
   * segments joined by the reference's linear overlap-add, trimmed to `lengthSamples`. A causal
   * model's single segment longer than `OFFLINE_BLOCK_FRAMES` frames is decoded block by block
   * with the stateful graphs (as {@link createOfflineDecoder} does, with the same result).
   *
   * @returns planar audio of `encoded.lengthSamples` samples per channel, owned by the caller
   * @throws CodecError `corrupt` when the number of frames does not match `lengthSamples`, or for a code ≥ codebookSize
   */
  async decode(encoded: EncodedAudio): Promise<Float32Array[]> {
    this.assertLive();
    const { frames, lengthSamples } = encoded ?? ({} as EncodedAudio);
    if (!Array.isArray(frames)) throw new TypeError("encoded.frames must be an array");
    if (!Number.isSafeInteger(lengthSamples) || lengthSamples < 1) throw new RangeError(`encoded.lengthSamples must be a positive integer, got ${lengthSamples}`);
    const expected = segmentOffsets(lengthSamples, this.segmentStrideSamples).length;
    if (frames.length !== expected) {
      throw new CodecError("corrupt", `encoded audio of ${lengthSamples} samples needs ${expected} segment(s), got ${frames.length}`);
    }
    frames.forEach((fr, i) => this.checkFrame(fr, `encoded.frames[${i}]`, lengthSamples));
    const decoder = this.createOfflineDecoder({ numCodebooks: frames[0]!.numCodebooks, lengthSamples });
    const parts: Float32Array[][] = [];
    for (const [segment, fr] of frames.entries()) parts.push(await decoder.push({ segment, ...fr }));
    parts.push(await decoder.end());
    const out = Array.from({ length: this.channels }, () => new Float32Array(lengthSamples));
    let at = 0;
    for (const p of parts) {
      out.forEach((ch, c) => ch.set(p[c]!, at));
      at += p[0]!.length;
    }
    if (at !== lengthSamples) throw new CodecError("corrupt", `decoded ${at} samples, the encoded length is ${lengthSamples}`);
    return out;
  }

  /**
   * An encoder of one input of `lengthSamples` samples fed in pieces of any size, holding only a
   * block or a few segments (see {@link OfflineEncoder}); its codes equal {@link encode}'s.
   *
   * @throws RangeError for an unsupported bandwidth or a `lengthSamples` that is not a positive integer
   *   (or over `MAX_SEGMENT_SAMPLES` for a model that can only code its one segment at once)
   */
  createOfflineEncoder(options: EncodeOptions & { readonly lengthSamples: number }): OfflineEncoder {
    this.assertLive();
    const nq = this.numQuantizersForBandwidth(options?.bandwidthKbps);
    const n = this.checkLength(options.lengthSamples);
    return new OfflineEncoder(this.engine(), options.bandwidthKbps, nq, n, usesBlocks(this.engine(), n));
  }

  /**
   * A decoder of one encoding of `lengthSamples` samples fed block by block (see
   * {@link OfflineDecoder}); its audio equals {@link decode}'s.
   *
   * @throws RangeError for a codebook count or length out of range
   */
  createOfflineDecoder(options: { readonly numCodebooks: number; readonly lengthSamples: number }): OfflineDecoder {
    this.assertLive();
    const k = options?.numCodebooks;
    if (!Number.isInteger(k) || k < 1 || k > this.numQuantizers) throw new RangeError(`numCodebooks must be an integer in [1, ${this.numQuantizers}], got ${k}`);
    const n = this.checkLength(options.lengthSamples);
    return new OfflineDecoder(this.engine(), k, n, usesBlocks(this.engine(), n), (block, name) =>
      this.checkFrame({ codes: block.codes, numCodebooks: block.numCodebooks, numFrames: block.numFrames, scale: block.scale }, name, n),
    );
  }

  private checkLength(lengthSamples: number): number {
    if (!Number.isSafeInteger(lengthSamples) || lengthSamples < 1) throw new RangeError(`lengthSamples must be a positive integer, got ${lengthSamples}`);
    const oneSegment = this.segmentLengthSamples === null && !usesBlocks(this.engine(), lengthSamples);
    if (oneSegment && lengthSamples > MAX_SEGMENT_SAMPLES) {
      throw new RangeError(`lengthSamples must be at most ${MAX_SEGMENT_SAMPLES} for this model (one segment, not causal), got ${lengthSamples}`);
    }
    return lengthSamples;
  }

  private engine_: OfflineEngine | null = null;

  private engine(): OfflineEngine {
    this.engine_ ??= {
      channels: this.channels,
      hopSamples: this.hopLengthSamples,
      segmentSamples: this.segmentLengthSamples,
      strideSamples: this.segmentStrideSamples,
      maxBatch: MAX_BATCH_SEGMENTS,
      blockable: this.openStreaming !== null,
      encodeBatch: (segments, n, nq) => this.encodeBatch(segments, n, nq),
      decodeBatch: (frames) => this.decodeBatch(frames),
      streamingCodec: (side) => {
        this.assertLive();
        let codec = this.streaming.get(side);
        if (codec === undefined) {
          codec = this.openStreaming!(side);
          codec.catch(() => this.streaming.delete(side));
          this.streaming.set(side, codec);
        }
        return codec;
      },
    };
    return this.engine_;
  }

  /** Release the inference sessions (native memory). The model cannot be used afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const sessions: OrtSession[] = [];
    for (const s of [...this.openedSessions, ...this.quantizers.values()]) sessions.push(await s.catch(() => null as never));
    await Promise.all(sessions.filter(Boolean).map((s) => s.release()));
    for (const codec of this.streaming.values()) await (await codec.catch(() => null))?.release();
  }
}

/** `frame` followed by the frames of `block` (codebook-major codes joined frame-wise). */
function appendFrames(frame: EncodedFrame, block: OfflineCodeBlock): EncodedFrame {
  const k = frame.numCodebooks;
  const f = frame.numFrames + block.numFrames;
  const codes = new Uint16Array(k * f);
  for (let q = 0; q < k; q++) {
    codes.set(frame.codes.subarray(q * frame.numFrames, (q + 1) * frame.numFrames), q * f);
    codes.set(block.codes.subarray(q * block.numFrames, (q + 1) * block.numFrames), q * f + frame.numFrames);
  }
  return { codes, numCodebooks: k, numFrames: f, scale: frame.scale };
}
