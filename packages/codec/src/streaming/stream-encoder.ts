import type { Tensor } from "onnxruntime-common";
import { STREAM_GRAPH_IO } from "../onnx/streaming-graphs.js";
import type { StreamEncoderLike } from "./codec-interfaces.js";
import { codecInternals, SerialQueue, zeroState, type CodecInternals } from "./internal/codec-internals.js";
import { checkStreamAudio } from "./internal/checks.js";
import { checkMaxFramesPerCall, checkStart } from "./internal/options.js";
import type { StreamingCodec } from "./streaming-codec.js";
import type { StreamFrame, StreamStart } from "./stream-types.js";

/** Options of {@link createStreamEncoder}. */
export interface StreamEncoderOptions {
  /** Target bandwidth in kbps, one of the codec's `bandwidthsKbps` (1.5, 3, 6, 12, 24). */
  readonly bandwidthKbps: number;
  /** How the stream begins (see {@link StreamStart}). @default "exact" */
  readonly start?: StreamStart;
  /** Most frames per ONNX Runtime call when more whole frames are buffered. @default 150 */
  readonly maxFramesPerCall?: number;
}

/**
 * Frame-by-frame EnCodec encoder of one audio stream. Push audio in pieces of any size; every
 * whole 320-sample frame is encoded as soon as it is complete (several per ONNX Runtime call when
 * several are buffered), carrying each convolution's left context and the LSTM state between
 * calls. The codes equal the offline `encode` of the whole stream (see the README's Streaming
 * section for the measured agreement). Calls are queued: each runs after the previous finished.
 */
export class StreamEncoder implements StreamEncoderLike {
  /** Codebooks per frame at this bandwidth. */
  readonly numCodebooks: number;
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Whole frames buffered before the first output ("exact": the codec's `encoderStartupFrames`; "zero-state": 1). */
  readonly startupFrames: number;

  private readonly queue = new SerialQueue();
  private buffer: Float32Array[];
  /** Buffered audio is `buffer[c][head, head + buffered)`. */
  private head = 0;
  private buffered = 0;
  private state: Tensor | null = null;
  private framesOut = 0;

  /** @internal use {@link createStreamEncoder} */
  constructor(
    private readonly codec: StreamingCodec,
    private readonly internals: CodecInternals,
    readonly bandwidthKbps: number,
    readonly start: StreamStart,
    private readonly maxFramesPerCall: number,
  ) {
    this.numCodebooks = codec.numQuantizersForBandwidth(bandwidthKbps);
    this.hopSamples = codec.hopLengthSamples;
    this.startupFrames = start === "exact" ? codec.encoderStartupFrames : 1;
    this.buffer = Array.from({ length: codec.channels }, () => new Float32Array(this.hopSamples * 8));
    this.reset();
  }

  /** Frames emitted so far in this stream. */
  get frameCount(): number {
    return this.framesOut;
  }

  /** Samples per channel pushed but not yet encoded. */
  get bufferedSamples(): number {
    return this.buffered;
  }

  /**
   * Append audio and encode every whole frame that is ready.
   *
   * @param audio planar channels at the model's rate (one array per channel, equal lengths, any length including 0); copied, not retained
   * @returns the frames completed by this push, in order (none while the startup frames are gathered)
   * @throws TypeError / RangeError for audio of the wrong shape (nothing is appended then)
   */
  push(audio: readonly Float32Array[]): Promise<StreamFrame[]> {
    const n = this.checkAudio(audio);
    this.append(audio, n);
    return this.queue.run(() => this.drain(false));
  }

  /**
   * End the stream: encode what is buffered, the last frame possibly partial (its
   * `lengthSamples` < hop; the offline path pads it the same way), then reset for a new stream.
   * A stream shorter than the startup is encoded in one offline call.
   *
   * @returns the remaining frames
   */
  end(): Promise<StreamFrame[]> {
    return this.queue.run(async () => {
      try {
        return await this.drain(true);
      } finally {
        this.reset();
      }
    });
  }

  /** Forget the stream (buffered audio and state); the next push starts a new one. Not queued: call it between streams. */
  reset(): void {
    this.head = 0;
    this.buffered = 0;
    this.framesOut = 0;
    this.state = this.start === "zero-state" ? zeroState(this.internals.runtime, this.codec.encoderStates) : null;
  }

  private checkAudio(audio: readonly Float32Array[]): number {
    return checkStreamAudio(audio, this.codec.channels);
  }

  private append(audio: readonly Float32Array[], n: number): void {
    if (n === 0) return;
    const need = this.buffered + n;
    if (this.head + need > this.buffer[0]!.length) {
      // Move the unread samples to the front (an encode in flight has already copied its input), growing if needed.
      const size = need > this.buffer[0]!.length ? Math.max(need, 2 * this.buffer[0]!.length) : this.buffer[0]!.length;
      this.buffer = this.buffer.map((ch) => {
        if (size === ch.length) return ch.copyWithin(0, this.head, this.head + this.buffered);
        const grown = new Float32Array(size);
        grown.set(ch.subarray(this.head, this.head + this.buffered));
        return grown;
      });
      this.head = 0;
    }
    this.buffer.forEach((ch, c) => ch.set(audio[c]!, this.head + this.buffered));
    this.buffered = need;
  }

  private async drain(final: boolean): Promise<StreamFrame[]> {
    const out: StreamFrame[] = [];
    const hop = this.hopSamples;
    if (this.state === null) {
      const whole = Math.floor(this.buffered / hop);
      if (whole >= this.startupFrames) {
        await this.run("first", Math.max(this.startupFrames, Math.min(whole, this.maxFramesPerCall)) * hop, out);
      } else if (final && this.buffered > 0) {
        await this.run("first", this.buffered, out); // a whole stream shorter than the startup: the offline computation
        return out;
      } else {
        return out;
      }
    }
    while (this.buffered >= hop) await this.run("step", Math.min(Math.floor(this.buffered / hop), this.maxFramesPerCall) * hop, out);
    if (final && this.buffered > 0) await this.run("step", this.buffered, out);
    return out;
  }

  /** Encode the first `samples` buffered samples and drop them from the buffer. */
  private async run(phase: "first" | "step", samples: number, out: StreamFrame[]): Promise<void> {
    const { runtime } = this.internals;
    const pair = await this.internals.encoder(this.numCodebooks);
    const channels = this.codec.channels;
    const data = new Float32Array(channels * samples);
    this.buffer.forEach((ch, c) => data.set(ch.subarray(this.head, this.head + samples), c * samples));
    const feeds: Record<string, Tensor> = { [STREAM_GRAPH_IO.audio]: new runtime.Tensor("float32", data, [1, channels, samples]) };
    if (phase === "step") feeds[STREAM_GRAPH_IO.stateIn] = this.state!;
    const result = await (phase === "first" ? pair.runFirst(feeds) : pair.runStep(feeds));
    this.state = result[STREAM_GRAPH_IO.stateOut]!;
    const codes = result[STREAM_GRAPH_IO.codes]!;
    const [, k, f] = codes.dims as [number, number, number];
    const src = codes.data as BigInt64Array;
    for (let j = 0; j < f; j++) {
      const frame = new Uint16Array(k);
      for (let q = 0; q < k; q++) frame[q] = Number(src[q * f + j]);
      const lengthSamples = Math.min(this.hopSamples, samples - j * this.hopSamples);
      out.push({ index: this.framesOut++, codes: frame, numCodebooks: k, numFrames: 1, lengthSamples });
    }
    this.head += samples;
    this.buffered -= samples;
    if (this.buffered === 0) this.head = 0;
  }
}

/**
 * Make a frame-by-frame encoder for one stream (opens the bandwidth's encoder graphs on first use).
 *
 * @param codec a causal model's {@link StreamingCodec}
 * @throws RangeError for an unsupported bandwidth or an out-of-range option; TypeError when `codec` is not a StreamingCodec
 */
export async function createStreamEncoder(codec: StreamingCodec, options: StreamEncoderOptions): Promise<StreamEncoder> {
  const internals = codecInternals(codec, "codec");
  const start = checkStart(options?.start);
  const maxFrames = checkMaxFramesPerCall(options?.maxFramesPerCall);
  const encoder = new StreamEncoder(codec, internals, options?.bandwidthKbps, start, maxFrames);
  await internals.encoder(encoder.numCodebooks);
  return encoder;
}
