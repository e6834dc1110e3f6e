import type { StreamEncoderLike } from "../streaming/codec-interfaces.js";
import { checkStreamAudio } from "../streaming/internal/checks.js";
import type { StreamFrame, StreamStart } from "../streaming/stream-types.js";
import { disposeOnCollect, type WorkerClient } from "./worker-client.js";
import { buffersOf, ownedCopies, type PackedFrames, type StreamHandle, type WorkerReady } from "./worker-protocol.js";

/**
 * A frame-by-frame stream encoder whose model runs in a worker thread, so the calling thread
 * never waits for inference: the same interface and the same codes as `StreamEncoder` (same
 * graphs, same calls). Audio goes to the worker in buffers of its own (transferred; the caller's
 * arrays stay untouched); codes come back transferred. Calls run in order. Made by
 * `WorkerStreamingCodec.createStreamEncoder` or `createWorkerStreamEncoder`.
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
  private frames = 0;
  private buffered = 0;
  /** Bumped by every reset, so replies of an earlier stream do not count in this one. */
  private epoch = 0;
  private closed = false;

  /** @internal made by `WorkerStreamingCodec.createStreamEncoder` */
  constructor(
    private readonly client: WorkerClient,
    private readonly handle: StreamHandle,
    ready: WorkerReady,
    readonly bandwidthKbps: number,
    readonly start: StreamStart,
    private readonly onClose: (() => Promise<void>) | null,
  ) {
    this.numCodebooks = handle.numCodebooks;
    this.hopSamples = ready.hopSamples;
    this.startupFrames = handle.startupFrames;
    this.channels = ready.channels;
    disposeOnCollect.register(this, { client, target: handle.target }, this);
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
   * Append audio and encode every whole frame that is ready (all of them in one ONNX Runtime
   * call, up to `maxFramesPerCall`), as `StreamEncoder.push`.
   *
   * @param audio planar channels at the model's rate; copied, not retained
   * @throws TypeError / RangeError for audio of the wrong shape (nothing is sent then)
   * @throws (rejects) RangeError when `maxQueuedCalls` calls are in flight; CodecError `worker-failed` when the worker is gone
   */
  push(audio: readonly Float32Array[]): Promise<StreamFrame[]> {
    const n = checkStreamAudio(audio, this.channels);
    const copies = ownedCopies(audio);
    const epoch = this.epoch;
    const sent = this.client.call<PackedFrames>({ op: "encoder-push", target: this.handle.target, audio: copies }, buffersOf(copies)).then((p) => this.unpack(p, epoch));
    this.buffered += n;
    return sent;
  }

  /** End the stream (as `StreamEncoder.end`): the remaining frames, then a fresh stream. */
  end(): Promise<StreamFrame[]> {
    const epoch = this.epoch;
    return this.client.call<PackedFrames>({ op: "encoder-end", target: this.handle.target }).then((p) => {
      const frames = this.unpack(p, epoch);
      if (epoch === this.epoch) this.clear();
      return frames;
    });
  }

  /** Forget the stream (here and, in order after the calls in flight, in the worker). Call it between streams. */
  reset(): void {
    this.clear();
    this.client.call({ op: "reset", target: this.handle.target }).catch(() => undefined); // a dead worker rejects the next push
  }

  /**
   * Free the encoder in its worker (from `createWorkerStreamEncoder`: end the worker too, after
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
