import type { EncodecModelSpec, LoadEncodecOptions } from "../node/encodec-node.js";
import type { StreamDecoderLike } from "../streaming/codec-interfaces.js";
import { DEFAULT_CONCEAL_FADE_FRAMES, MAX_MISSING_FRAMES_PER_CALL } from "../streaming/constants.js";
import { checkCodeBlock } from "../streaming/internal/checks.js";
import { checkMaxFramesPerCall, checkStart } from "../streaming/internal/options.js";
import type { StreamDecoderOptions } from "../streaming/stream-decoder.js";
import type { CodeBlock, StreamStart } from "../streaming/stream-types.js";
import { WorkerClient, type WorkerThreadOptions } from "./worker-client.js";
import type { WorkerReady } from "./worker-protocol.js";
import { loaderOptions } from "./worker-stream-encoder.js";

/** Options of {@link createWorkerStreamDecoder}: the stream decoder's, the node loader's and the worker's. */
export interface WorkerStreamDecoderOptions extends StreamDecoderOptions, LoadEncodecOptions, WorkerThreadOptions {}

/**
 * A frame-by-frame stream decoder whose model runs in a worker thread of its own: the same
 * interface and the same audio, bit for bit, as `StreamDecoder` (same graphs, same calls), while
 * the calling thread stays free for the network and the playout clock. Blocks are checked here
 * before they are sent (the same errors as `StreamDecoder.push`); codes go over in a copy,
 * audio comes back transferred. Calls run in order; at most `maxQueuedCalls` may be in flight.
 * The thread does not keep the process alive while idle; {@link close} releases it.
 */
export class WorkerStreamDecoder implements StreamDecoderLike {
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Frames gathered before the first output. */
  readonly startupFrames: number;
  /** Audio channels of the model. */
  readonly channels: number;
  /** Sample rate of the model, Hz. */
  readonly sampleRateHz: number;
  /** Delay of the output behind the input beyond the frame itself, samples: 0 (as `StreamDecoder`). */
  readonly delaySamples = 0;
  private k: number | null = null;
  private framesIn = 0;

  /** @internal use {@link createWorkerStreamDecoder} */
  constructor(
    private readonly client: WorkerClient,
    private readonly ready: WorkerReady,
    readonly start: StreamStart,
    readonly concealFadeFrames: number,
  ) {
    this.hopSamples = ready.hopSamples;
    this.startupFrames = ready.startupFrames;
    this.channels = ready.channels;
    this.sampleRateHz = ready.sampleRateHz;
  }

  /** Codebooks per frame of the current stream, or null before its first block. */
  get numCodebooks(): number | null {
    return this.k;
  }

  /** Frames pushed so far in this stream, concealed ones included. */
  get frameCount(): number {
    return this.framesIn;
  }

  /**
   * Decode a block of codes, as `StreamDecoder.push`.
   *
   * @returns (resolves to) the audio the block made final, planar, owned by the caller
   * @throws CodecError `corrupt` for a code not below the codebook size; TypeError / RangeError for a malformed block
   * @throws (rejects) RangeError when `maxQueuedCalls` calls are in flight; CodecError `worker-failed` when the worker is gone
   */
  push(block: CodeBlock): Promise<Float32Array[]> {
    const { numQuantizers, codebookSize, hopSamples } = this.ready;
    const frames = checkCodeBlock(block, { numQuantizers, codebookSize, hopSamples, streamCodebooks: this.k });
    this.k = block.numCodebooks;
    this.framesIn += frames;
    const codes = block.codes.slice();
    const { numCodebooks, numFrames, lengthSamples } = block;
    return this.client.call<Float32Array[]>({ op: "decoder-push", codes, numCodebooks, numFrames, lengthSamples }, [codes.buffer]);
  }

  /**
   * Conceal `count` lost frames, as `StreamDecoder.pushMissing`.
   * @throws RangeError for a count that is not an integer in [1, 4500]
   */
  pushMissing(count = 1): Promise<Float32Array[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_MISSING_FRAMES_PER_CALL) {
      throw new RangeError(`count must be an integer in [1, ${MAX_MISSING_FRAMES_PER_CALL}], got ${count}`);
    }
    this.framesIn += count;
    return this.client.call<Float32Array[]>({ op: "decoder-missing", count });
  }

  /** End the stream, as `StreamDecoder.end`: the remaining audio, then a fresh stream. */
  end(): Promise<Float32Array[]> {
    const done = this.client.call<Float32Array[]>({ op: "decoder-end" });
    this.clear();
    return done;
  }

  /** Forget the stream (here and, after the calls in flight, in the worker). Call it between streams. */
  reset(): void {
    this.clear();
    this.client.call({ op: "reset" }).catch(() => undefined); // a dead worker rejects the next push
  }

  /** Release the worker's sessions and end its thread; later calls reject with CodecError `worker-failed`. */
  close(): Promise<void> {
    return this.client.close();
  }

  private clear(): void {
    this.k = null;
    this.framesIn = 0;
  }
}

/**
 * Start a worker thread that loads `spec` (a model path, or `{ config, tensors }`, cloned into
 * the worker) with the node loader's options and runs one stream decoder; resolves once ready.
 *
 * @throws CodecError from loading the model (`bad-file`, `unsupported` for a non-causal model, ...) or `worker-failed`
 * @throws RangeError for an out-of-range option
 */
export async function createWorkerStreamDecoder(spec: EncodecModelSpec, options: WorkerStreamDecoderOptions = {}): Promise<WorkerStreamDecoder> {
  const start = checkStart(options.start);
  const maxFramesPerCall = checkMaxFramesPerCall(options.maxFramesPerCall);
  const fade = options.concealFadeFrames ?? DEFAULT_CONCEAL_FADE_FRAMES;
  if (!Number.isInteger(fade) || fade < 1 || fade > 1000) throw new RangeError(`concealFadeFrames must be an integer in [1, 1000], got ${fade}`);
  const client = new WorkerClient({ role: { kind: "stream-decoder", start, maxFramesPerCall, concealFadeFrames: fade }, spec, load: loaderOptions(options) }, options);
  try {
    return new WorkerStreamDecoder(client, await client.ready, start, fade);
  } catch (error) {
    await client.close();
    throw error;
  }
}
