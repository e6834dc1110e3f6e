import type { StreamDecoderLike } from "../streaming/codec-interfaces.js";
import { MAX_MISSING_FRAMES_PER_CALL } from "../streaming/constants.js";
import { checkCodeBlock } from "../streaming/internal/checks.js";
import type { CodeBlock, StreamStart } from "../streaming/stream-types.js";
import { disposeOnCollect, type WorkerClient } from "./worker-client.js";
import type { StreamHandle, WorkerReady } from "./worker-protocol.js";

/**
 * A frame-by-frame stream decoder whose model runs in a worker thread: the same interface and
 * the same audio, bit for bit, as `StreamDecoder` (same graphs, same calls), while the calling
 * thread stays free for the network and the playout clock. Blocks are checked here before they
 * are sent (the same errors as `StreamDecoder.push`); codes go over in a copy, audio comes back
 * transferred. Calls run in order. Made by `WorkerStreamingCodec.createStreamDecoder` or
 * `createWorkerStreamDecoder`.
 */
export class WorkerStreamDecoder implements StreamDecoderLike {
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Frames gathered before the first output. */
  readonly startupFrames: number;
  /** Audio channels of the model. */
  readonly channels: number;
  /** Delay of the output behind the input beyond the frame itself, samples: 0 (as `StreamDecoder`). */
  readonly delaySamples = 0;
  private k: number | null = null;
  private framesIn = 0;
  private closed = false;

  /** @internal made by `WorkerStreamingCodec.createStreamDecoder` */
  constructor(
    private readonly client: WorkerClient,
    private readonly handle: StreamHandle,
    private readonly ready: WorkerReady,
    readonly start: StreamStart,
    readonly concealFadeFrames: number,
    private readonly onClose: (() => Promise<void>) | null,
  ) {
    this.hopSamples = ready.hopSamples;
    this.startupFrames = handle.startupFrames;
    this.channels = ready.channels;
    disposeOnCollect.register(this, { client, target: handle.target }, this);
  }

  /** Codebooks per frame of the last block pushed, or null before the first. */
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
    const frames = checkCodeBlock(block, { numQuantizers, codebookSize, hopSamples });
    this.k = block.numCodebooks;
    this.framesIn += frames;
    const codes = block.codes.slice();
    const frameCodebooks = block.frameCodebooks ? block.frameCodebooks.slice() : null;
    const { numCodebooks, numFrames, lengthSamples } = block;
    return this.client.call<Float32Array[]>({ op: "decoder-push", target: this.handle.target, codes, numCodebooks, numFrames, lengthSamples, frameCodebooks }, [codes.buffer]);
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
    return this.client.call<Float32Array[]>({ op: "decoder-missing", target: this.handle.target, count });
  }

  /** End the stream, as `StreamDecoder.end`: the remaining audio, then a fresh stream. */
  end(): Promise<Float32Array[]> {
    const done = this.client.call<Float32Array[]>({ op: "decoder-end", target: this.handle.target });
    this.clear();
    return done;
  }

  /** Forget the stream (here and, after the calls in flight, in the worker). Call it between streams. */
  reset(): void {
    this.clear();
    this.client.call({ op: "reset", target: this.handle.target }).catch(() => undefined); // a dead worker rejects the next push
  }

  /**
   * Free the decoder in its worker (from `createWorkerStreamDecoder`: end the worker too, after
   * the calls in flight). Later calls reject.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    disposeOnCollect.unregister(this);
    if (this.onClose !== null) return this.onClose();
    await this.client.call({ op: "dispose", target: this.handle.target }).catch(() => undefined);
  }

  private clear(): void {
    this.k = null;
    this.framesIn = 0;
  }
}
