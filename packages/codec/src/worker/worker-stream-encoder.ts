import type { EncodecModelSpec, LoadEncodecOptions } from "../node/encodec-node.js";
import type { StreamEncoderLike } from "../streaming/codec-interfaces.js";
import { checkStreamAudio } from "../streaming/internal/checks.js";
import { checkMaxFramesPerCall, checkStart } from "../streaming/internal/options.js";
import type { StreamEncoderOptions } from "../streaming/stream-encoder.js";
import type { StreamFrame, StreamStart } from "../streaming/stream-types.js";
import { WorkerClient, type WorkerThreadOptions } from "./worker-client.js";
import { buffersOf, ownedCopies, type PackedFrames, type WorkerReady } from "./worker-protocol.js";

/** Options of {@link createWorkerStreamEncoder}: the stream encoder's, the node loader's and the worker's. */
export interface WorkerStreamEncoderOptions extends StreamEncoderOptions, LoadEncodecOptions, WorkerThreadOptions {}

/**
 * A frame-by-frame stream encoder whose model runs in a worker thread of its own, so the calling
 * thread never waits for inference: the same interface and the same codes as `StreamEncoder`
 * (same graphs, same calls). Audio goes to the worker in buffers of its own (transferred, the
 * caller's arrays stay untouched); codes come back transferred. Calls run in order; at most
 * `maxQueuedCalls` may be in flight. The thread does not keep the process alive while idle;
 * {@link close} releases it.
 */
export class WorkerStreamEncoder implements StreamEncoderLike {
  /** Codebooks per frame at this bandwidth. */
  readonly numCodebooks: number;
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Whole frames buffered before the first output. */
  readonly startupFrames: number;
  /** Audio channels the model takes. */
  readonly channels: number;
  /** Sample rate of the model, Hz. */
  readonly sampleRateHz: number;
  private frames = 0;
  private buffered = 0;
  /** Bumped by every reset, so replies of an earlier stream do not count in this one. */
  private epoch = 0;

  /** @internal use {@link createWorkerStreamEncoder} */
  constructor(
    private readonly client: WorkerClient,
    ready: WorkerReady,
    readonly bandwidthKbps: number,
    readonly start: StreamStart,
  ) {
    this.numCodebooks = ready.numCodebooks;
    this.hopSamples = ready.hopSamples;
    this.startupFrames = ready.startupFrames;
    this.channels = ready.channels;
    this.sampleRateHz = ready.sampleRateHz;
  }

  /** Frames emitted so far in this stream (counted as their replies arrive). */
  get frameCount(): number {
    return this.frames;
  }

  /** Samples per channel pushed but not yet returned as frames. */
  get bufferedSamples(): number {
    return this.buffered;
  }

  /**
   * Append audio and encode every whole frame that is ready, as `StreamEncoder.push`.
   *
   * @param audio planar channels at the model's rate; copied, not retained
   * @throws TypeError / RangeError for audio of the wrong shape (nothing is sent then)
   * @throws (rejects) RangeError when `maxQueuedCalls` calls are in flight; CodecError `worker-failed` when the worker is gone
   */
  push(audio: readonly Float32Array[]): Promise<StreamFrame[]> {
    const n = checkStreamAudio(audio, this.channels);
    const copies = ownedCopies(audio);
    const epoch = this.epoch;
    const sent = this.client.call<PackedFrames>({ op: "encoder-push", audio: copies }, buffersOf(copies)).then((p) => this.unpack(p, epoch));
    this.buffered += n;
    return sent;
  }

  /** End the stream (as `StreamEncoder.end`): the remaining frames, then a fresh stream. */
  end(): Promise<StreamFrame[]> {
    const epoch = this.epoch;
    return this.client.call<PackedFrames>({ op: "encoder-end" }).then((p) => {
      const frames = this.unpack(p, epoch);
      if (epoch === this.epoch) this.clear();
      return frames;
    });
  }

  /** Forget the stream (here and, in order after the calls in flight, in the worker). Call it between streams. */
  reset(): void {
    this.clear();
    this.client.call({ op: "reset" }).catch(() => undefined); // a dead worker rejects the next push
  }

  /** Release the worker's sessions and end its thread; later calls reject with CodecError `worker-failed`. */
  close(): Promise<void> {
    return this.client.close();
  }

  private clear(): void {
    this.epoch++;
    this.frames = 0;
    this.buffered = 0;
  }

  private unpack(packed: PackedFrames, epoch: number): StreamFrame[] {
    const { codes, indices, lengths, numCodebooks: k } = packed;
    const frames: StreamFrame[] = [];
    for (let j = 0; j < indices.length; j++) {
      frames.push({ index: indices[j]!, codes: codes.slice(j * k, (j + 1) * k), numCodebooks: k, numFrames: 1, lengthSamples: lengths[j]! });
    }
    if (epoch === this.epoch && frames.length > 0) {
      this.frames = frames[frames.length - 1]!.index + 1;
      this.buffered = Math.max(0, this.buffered - lengths.reduce((s, l) => s + l, 0));
    }
    return frames;
  }
}

/**
 * Start a worker thread that loads `spec` (a model path, or `{ config, tensors }`, cloned into
 * the worker) with the node loader's options (single-threaded, non-spinning sessions and the
 * on-disk graph cache by default) and runs one stream encoder; resolves once it is ready.
 *
 * @throws CodecError from loading the model (`bad-file`, `unsupported` for a non-causal model, ...) or `worker-failed`
 * @throws RangeError for an unsupported bandwidth or an out-of-range option
 */
export async function createWorkerStreamEncoder(spec: EncodecModelSpec, options: WorkerStreamEncoderOptions): Promise<WorkerStreamEncoder> {
  const start = checkStart(options?.start);
  const maxFramesPerCall = checkMaxFramesPerCall(options?.maxFramesPerCall);
  const client = new WorkerClient({ role: { kind: "stream-encoder", bandwidthKbps: options.bandwidthKbps, start, maxFramesPerCall }, spec, load: loaderOptions(options) }, options);
  try {
    return new WorkerStreamEncoder(client, await client.ready, options.bandwidthKbps, start);
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** The node loader's options out of a worker codec's (what crosses to the worker). */
export function loaderOptions(options: LoadEncodecOptions): LoadEncodecOptions {
  const keys = ["cacheDir", "cacheGraphs", "executionProviders", "intraOpNumThreads", "allowSpinning", "sessionOptions", "preloadBandwidthsKbps", "hints"] as const;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out as LoadEncodecOptions;
}
