import { checkBandwidth, numQuantizersForBandwidth, type EncodecConfig } from "../config.js";
import type { EncodecModelSpec } from "../node/encodec-node.js";
import type { LoadStreamingCodecOptions } from "../streaming/node/load-streaming-codec.js";
import { DEFAULT_CONCEAL_FADE_FRAMES } from "../streaming/constants.js";
import { checkMaxFramesPerCall, checkStart } from "../streaming/internal/options.js";
import type { StreamDecoderOptions } from "../streaming/stream-decoder.js";
import type { StreamEncoderOptions } from "../streaming/stream-encoder.js";
import { loaderOptions, WorkerClient, type WorkerThreadOptions } from "./worker-client.js";
import type { StreamHandle, WorkerReady } from "./worker-protocol.js";
import { WorkerStreamDecoder } from "./worker-stream-decoder.js";
import { WorkerStreamEncoder } from "./worker-stream-encoder.js";

/**
 * Options of {@link WorkerStreamingCodec.create}: `loadStreamingCodec`'s (`sides`: `["encoder"]`
 * for a sender's codec, `["decoder"]` for a receiver's, so the thread opens only what its side
 * needs) and the worker's.
 */
export interface WorkerStreamingCodecOptions extends LoadStreamingCodecOptions, WorkerThreadOptions {}

/**
 * A causal model's streaming codec (`loadStreamingCodec`) in a worker thread of its own: stream
 * encoders and decoders made from it keep their state in that thread and run there, in call
 * order, so the calling thread never waits for a model call. Give a sender's encoders and a
 * receiver's decoders a codec each, so each side has its own thread. The thread does not keep
 * the process alive while no call is in flight; {@link release} ends it.
 */
export class WorkerStreamingCodec {
  /** The model's config. */
  readonly config: EncodecConfig;
  /** Sample rate, Hz. */
  readonly sampleRateHz: number;
  /** Audio channels. */
  readonly channels: number;
  /** Samples per frame (320). */
  readonly hopLengthSamples: number;
  /** Supported bandwidths, kbps. */
  readonly bandwidthsKbps: readonly number[];
  /** Quantizer layers of the model. */
  readonly numQuantizers: number;
  /** Entries per codebook. */
  readonly codebookSize: number;
  /** Frames an "exact" stream encoder gathers before its first output. */
  readonly encoderStartupFrames: number;
  /** Frames an "exact" stream decoder gathers before its first output. */
  readonly decoderStartupFrames: number;

  private constructor(
    private readonly client: WorkerClient,
    private readonly ready: WorkerReady,
  ) {
    this.config = ready.config;
    this.sampleRateHz = ready.sampleRateHz;
    this.channels = ready.channels;
    this.hopLengthSamples = ready.hopSamples;
    this.bandwidthsKbps = ready.bandwidthsKbps;
    this.numQuantizers = ready.numQuantizers;
    this.codebookSize = ready.codebookSize;
    this.encoderStartupFrames = ready.encoderStartupFrames;
    this.decoderStartupFrames = ready.decoderStartupFrames;
  }

  /**
   * Start a worker thread that loads `spec` (a model path, or `{ config, tensors }`, cloned into
   * it) as `loadStreamingCodec` does (single-threaded, non-spinning sessions and the on-disk graph
   * cache by default); resolves once it is ready.
   *
   * @throws CodecError from loading (`bad-file`, `unsupported` for a non-causal model, ...) or `worker-failed`
   * @throws RangeError / TypeError for bad options
   */
  static async create(spec: EncodecModelSpec, options: WorkerStreamingCodecOptions = {}): Promise<WorkerStreamingCodec> {
    const client = new WorkerClient({ role: "streaming", spec, load: loaderOptions(options) }, options);
    try {
      return new WorkerStreamingCodec(client, await client.ready);
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** Quantizers (codebooks) used at `bandwidthKbps`. @throws RangeError for a bandwidth the model does not support */
  numQuantizersForBandwidth(bandwidthKbps: number): number {
    checkBandwidth(this.config, bandwidthKbps, "bandwidthKbps");
    return numQuantizersForBandwidth(this.config, bandwidthKbps);
  }

  /**
   * A stream encoder in this codec's thread (opens the bandwidth's encoder graphs on first use), as `createStreamEncoder`.
   * @throws RangeError for an unsupported bandwidth or an out-of-range option; CodecError `worker-failed` once released
   */
  createStreamEncoder(options: StreamEncoderOptions): Promise<WorkerStreamEncoder> {
    return this.makeEncoder(options, null);
  }

  /**
   * A stream decoder in this codec's thread, as `createStreamDecoder`.
   * @throws RangeError for an out-of-range option; CodecError `worker-failed` once released
   */
  createStreamDecoder(options: StreamDecoderOptions = {}): Promise<WorkerStreamDecoder> {
    return this.makeDecoder(options, null);
  }

  /** Let the calls in flight finish, release the sessions and end the thread. Encoders and decoders made from it fail afterwards. */
  release(): Promise<void> {
    return this.client.close();
  }

  /** @internal */
  async makeEncoder(options: StreamEncoderOptions, onClose: (() => Promise<void>) | null): Promise<WorkerStreamEncoder> {
    const start = checkStart(options?.start);
    const maxFramesPerCall = checkMaxFramesPerCall(options?.maxFramesPerCall);
    this.numQuantizersForBandwidth(options?.bandwidthKbps);
    const handle = await this.client.call<StreamHandle>({ op: "create-encoder", bandwidthKbps: options.bandwidthKbps, start, maxFramesPerCall });
    return new WorkerStreamEncoder(this.client, handle, this.ready, options.bandwidthKbps, start, onClose);
  }

  /** @internal */
  async makeDecoder(options: StreamDecoderOptions, onClose: (() => Promise<void>) | null): Promise<WorkerStreamDecoder> {
    const start = checkStart(options.start);
    const maxFramesPerCall = checkMaxFramesPerCall(options.maxFramesPerCall);
    const fade = options.concealFadeFrames ?? DEFAULT_CONCEAL_FADE_FRAMES;
    if (!Number.isInteger(fade) || fade < 1 || fade > 1000) throw new RangeError(`concealFadeFrames must be an integer in [1, 1000], got ${fade}`);
    const handle = await this.client.call<StreamHandle>({ op: "create-decoder", start, maxFramesPerCall, concealFadeFrames: fade });
    return new WorkerStreamDecoder(this.client, handle, this.ready, start, fade, onClose);
  }
}

/** Options of {@link createWorkerStreamEncoder}: the stream encoder's, the loader's and the worker's. */
export interface WorkerStreamEncoderOptions extends StreamEncoderOptions, WorkerStreamingCodecOptions {}

/** Options of {@link createWorkerStreamDecoder}: the stream decoder's, the loader's and the worker's. */
export interface WorkerStreamDecoderOptions extends StreamDecoderOptions, WorkerStreamingCodecOptions {}

/**
 * One stream encoder in a worker thread of its own (a {@link WorkerStreamingCodec} made for it,
 * opening only the encoder side unless `sides` says otherwise; the encoder's `close()` ends the thread).
 *
 * @throws CodecError from loading the model, or `worker-failed`; RangeError for an unsupported bandwidth or option
 */
export async function createWorkerStreamEncoder(spec: EncodecModelSpec, options: WorkerStreamEncoderOptions): Promise<WorkerStreamEncoder> {
  checkStart(options?.start);
  checkMaxFramesPerCall(options?.maxFramesPerCall);
  const codec = await WorkerStreamingCodec.create(spec, { sides: ["encoder"], ...options });
  try {
    return await codec.makeEncoder(options, () => codec.release());
  } catch (error) {
    await codec.release();
    throw error;
  }
}

/**
 * One stream decoder in a worker thread of its own (a {@link WorkerStreamingCodec} made for it,
 * opening only the decoder side unless `sides` says otherwise; the decoder's `close()` ends the thread).
 *
 * @throws CodecError from loading the model, or `worker-failed`; RangeError for an out-of-range option
 */
export async function createWorkerStreamDecoder(spec: EncodecModelSpec, options: WorkerStreamDecoderOptions = {}): Promise<WorkerStreamDecoder> {
  checkStart(options.start);
  checkMaxFramesPerCall(options.maxFramesPerCall);
  const codec = await WorkerStreamingCodec.create(spec, { sides: ["decoder"], ...options });
  try {
    return await codec.makeDecoder(options, () => codec.release());
  } catch (error) {
    await codec.release();
    throw error;
  }
}
