import type { Tensor } from "onnxruntime-common";
import { STREAM_GRAPH_IO } from "../onnx/streaming-graphs.js";
import type { StreamDecoderLike } from "./codec-interfaces.js";
import { DEFAULT_CONCEAL_FADE_FRAMES, MAX_MISSING_FRAMES_PER_CALL } from "./constants.js";
import { codecInternals, SerialQueue, zeroState, type CodecInternals } from "./internal/codec-internals.js";
import { checkCodeBlock } from "./internal/checks.js";
import { checkMaxFramesPerCall, checkStart } from "./internal/options.js";
import type { StreamingCodec } from "./streaming-codec.js";
import type { CodeBlock, StreamStart } from "./stream-types.js";

/** Options of {@link createStreamDecoder}. */
export interface StreamDecoderOptions {
  /** How the stream begins (see {@link StreamStart}); independent of the encoder's. @default "exact" */
  readonly start?: StreamStart;
  /** Most frames per ONNX Runtime call when more are pending. @default 150 */
  readonly maxFramesPerCall?: number;
  /** Concealed frames over which the output fades to silence during a loss. @default 4 */
  readonly concealFadeFrames?: number;
}

/** A frame waiting to be decoded. */
interface PendingFrame {
  /** The frame's own K codes (K may differ from frame to frame), or null for "zero embedding" (a loss before any frame was received, or a long loss). */
  readonly codes: Uint16Array | null;
  /** Output gain ramp over the frame (linear, from → to). */
  readonly fadeFrom: number;
  readonly fadeTo: number;
  /** Samples of the frame's audio to output (the hop, fewer at a trimmed end). */
  readonly keep: number;
}

/**
 * Frame-by-frame EnCodec decoder of one stream. Each pushed frame's audio is returned as soon as
 * it is final: after the startup, one hop (320 samples) per frame with no further delay, equal to
 * the offline `decode` of the same codes. Missing frames are concealed ({@link pushMissing}) so
 * the output keeps exactly one hop per frame. Calls are queued: each runs after the previous one.
 */
export class StreamDecoder implements StreamDecoderLike {
  /** Samples per frame (320). */
  readonly hopSamples: number;
  /** Frames gathered before the first output ("exact": the codec's `decoderStartupFrames`; "zero-state": 1). */
  readonly startupFrames: number;
  /**
   * Delay of the output behind the input beyond the frame itself, in samples: 0. A frame's
   * audio is returned by the call that pushes it (after the startup frames).
   */
  readonly delaySamples = 0;

  private readonly queue = new SerialQueue();
  private pending: PendingFrame[] = [];
  private state: Tensor | null = null;
  private numCodebooks_: number | null = null;
  private lastCodes: Uint16Array | null = null;
  private level = 1;
  private missRun = 0;
  private framesIn = 0;

  /** @internal use {@link createStreamDecoder} */
  constructor(
    private readonly codec: StreamingCodec,
    private readonly internals: CodecInternals,
    readonly start: StreamStart,
    private readonly maxFramesPerCall: number,
    readonly concealFadeFrames: number,
  ) {
    this.hopSamples = codec.hopLengthSamples;
    this.startupFrames = start === "exact" ? codec.decoderStartupFrames : 1;
    this.reset();
  }

  /** Codebooks per frame of the last block pushed (the most of its frames), or null before the first. */
  get numCodebooks(): number | null {
    return this.numCodebooks_;
  }

  /** Frames pushed so far in this stream, concealed ones included. */
  get frameCount(): number {
    return this.framesIn;
  }

  /** Frames pushed but not decoded yet (only while the startup frames are gathered). */
  get pendingFrames(): number {
    return this.pending.length;
  }

  /**
   * Decode a block of codes (one frame or more).
   *
   * @param block codes of consecutive frames; `lengthSamples` below `numFrames × hop` trims the
   *   block's end (the last frames of a stream). K may change from block to block and, with
   *   `frameCodebooks`, from frame to frame: each frame is decoded from exactly its own codebooks.
   * @returns planar audio made final by this block: `lengthSamples` samples per channel once the
   *   stream has started, more when it releases the startup frames, none while gathering them. Owned by the caller.
   * @throws CodecError `corrupt` for a code not below the codebook size
   * @throws TypeError / RangeError for a malformed block
   */
  push(block: CodeBlock): Promise<Float32Array[]> {
    const frames = this.checkBlock(block);
    this.numCodebooks_ = block.numCodebooks;
    const { codes, numCodebooks: k, numFrames: f } = block;
    const hop = this.hopSamples;
    const length = block.lengthSamples ?? f * hop;
    const table = block.frameCodebooks ?? null;
    for (let j = 0; j < frames; j++) {
      const c = new Uint16Array(table ? table[j]! : k);
      for (let q = 0; q < c.length; q++) c[q] = codes[q * f + j]!;
      this.pending.push({ codes: c, fadeFrom: this.level, fadeTo: 1, keep: Math.max(0, Math.min(hop, length - j * hop)) });
      this.level = 1;
      this.lastCodes = c;
    }
    this.missRun = 0;
    this.framesIn += frames;
    return this.queue.run(() => this.drain(false));
  }

  /**
   * Conceal `count` lost frames: the decoder runs on a substitute (the last received frame's
   * codes; a zero embedding once the fade has reached silence, or before any frame arrived)
   * so that its state keeps moving, and the output fades linearly to silence over
   * `concealFadeFrames` frames. The next received frame fades back in over its own hop. The
   * output keeps exactly one hop per frame, so the stream stays in time.
   *
   * @returns the audio made final, as {@link push}
   * @throws RangeError for a count that is not an integer in [1, 4500]
   */
  pushMissing(count = 1): Promise<Float32Array[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_MISSING_FRAMES_PER_CALL) {
      throw new RangeError(`count must be an integer in [1, ${MAX_MISSING_FRAMES_PER_CALL}], got ${count}`);
    }
    for (let j = 0; j < count; j++) {
      this.missRun++;
      const from = this.level;
      this.level = Math.max(0, 1 - this.missRun / this.concealFadeFrames);
      const codes = this.missRun <= this.concealFadeFrames ? this.lastCodes : null;
      this.pending.push({ codes, fadeFrom: from, fadeTo: this.level, keep: this.hopSamples });
    }
    this.framesIn += count;
    return this.queue.run(() => this.drain(false));
  }

  /**
   * End the stream: decode frames still gathered for the startup (a stream shorter than the
   * startup is decoded in one offline call), then reset for a new stream.
   *
   * @returns the remaining audio (empty when the stream had started)
   */
  end(): Promise<Float32Array[]> {
    return this.queue.run(async () => {
      try {
        return await this.drain(true);
      } finally {
        this.reset();
      }
    });
  }

  /** Forget the stream (pending frames, state, concealment); the next push starts a new one. Not queued: call it between streams. */
  reset(): void {
    this.pending = [];
    this.numCodebooks_ = null;
    this.lastCodes = null;
    this.level = 1;
    this.missRun = 0;
    this.framesIn = 0;
    this.state = this.start === "zero-state" ? zeroState(this.internals.runtime, this.codec.decoderStates) : null;
  }

  private checkBlock(block: CodeBlock): number {
    const { numQuantizers, codebookSize } = this.codec;
    return checkCodeBlock(block, { numQuantizers, codebookSize, hopSamples: this.hopSamples, });
  }

  private async drain(final: boolean): Promise<Float32Array[]> {
    const parts: Float32Array[][] = [];
    if (this.state === null) {
      const n = this.pending.length;
      if (n >= this.startupFrames) parts.push(await this.run("first", Math.max(this.startupFrames, Math.min(n, this.maxFramesPerCall))));
      else if (final && n > 0) parts.push(await this.run("first", n));
      else return this.concat(parts);
    }
    while (this.pending.length > 0) parts.push(await this.run("step", Math.min(this.pending.length, this.maxFramesPerCall)));
    return this.concat(parts);
  }

  private concat(parts: Float32Array[][]): Float32Array[] {
    const channels = this.codec.channels;
    if (parts.length === 1) return parts[0]!;
    const total = parts.reduce((s, p) => s + p[0]!.length, 0);
    return Array.from({ length: channels }, (_, c) => {
      const out = new Float32Array(total);
      let o = 0;
      for (const p of parts) {
        out.set(p[c]!, o);
        o += p[c]!.length;
      }
      return out;
    });
  }

  /** Decode the first `n` pending frames and drop them. */
  private async run(phase: "first" | "step", n: number): Promise<Float32Array[]> {
    const { runtime } = this.internals;
    const frames = this.pending.slice(0, n);
    // K of the call: the most any of its frames has; a frame with fewer codebooks gets the
    // absent-codebook sentinel (the codebook size) in the other rows, which the graph's RVQ
    // decode maps to a zero vector, so every frame sums exactly its own codewords
    const k = frames.reduce((m, fr) => Math.max(m, fr.codes?.length ?? 1), 1);
    const absent = BigInt(this.codec.codebookSize);
    const ids = new BigInt64Array(k * n);
    const gain = new Float32Array(n);
    frames.forEach((fr, j) => {
      if (fr.codes === null) return;
      gain[j] = 1;
      for (let q = 0; q < k; q++) ids[q * n + j] = q < fr.codes.length ? BigInt(fr.codes[q]!) : absent;
    });
    const feeds: Record<string, Tensor> = {
      [STREAM_GRAPH_IO.codes]: new runtime.Tensor("int64", ids, [1, k, n]),
      [STREAM_GRAPH_IO.gain]: new runtime.Tensor("float32", gain, [1, 1, n]),
    };
    if (phase === "step") feeds[STREAM_GRAPH_IO.stateIn] = this.state!;
    const pair = this.internals.decoder();
    const result = await (phase === "first" ? pair.runFirst(feeds) : pair.runStep(feeds));
    this.state = result[STREAM_GRAPH_IO.stateOut]!;
    this.pending.splice(0, n);
    const audio = result[STREAM_GRAPH_IO.audio]!;
    const data = audio.data as Float32Array;
    const t = (audio.dims as number[])[2]!;
    const hop = this.hopSamples;
    const total = frames.reduce((s, fr) => s + fr.keep, 0);
    return Array.from({ length: this.codec.channels }, (_, c) => {
      const out = new Float32Array(total);
      let o = 0;
      frames.forEach((fr, j) => {
        const src = c * t + j * hop;
        if (fr.fadeFrom === 1 && fr.fadeTo === 1) {
          out.set(data.subarray(src, src + fr.keep), o);
        } else {
          const step = (fr.fadeTo - fr.fadeFrom) / hop;
          for (let i = 0; i < fr.keep; i++) out[o + i] = data[src + i]! * (fr.fadeFrom + step * (i + 1));
        }
        o += fr.keep;
      });
      return out;
    });
  }
}

/**
 * Make a frame-by-frame decoder for one stream.
 *
 * @param codec a causal model's {@link StreamingCodec}
 * @throws RangeError for an out-of-range option; TypeError when `codec` is not a StreamingCodec
 */
export function createStreamDecoder(codec: StreamingCodec, options: StreamDecoderOptions = {}): StreamDecoder {
  const internals = codecInternals(codec, "codec");
  const start = checkStart(options.start);
  const maxFrames = checkMaxFramesPerCall(options.maxFramesPerCall);
  const fade = options.concealFadeFrames ?? DEFAULT_CONCEAL_FADE_FRAMES;
  if (!Number.isInteger(fade) || fade < 1 || fade > 1000) throw new RangeError(`concealFadeFrames must be an integer in [1, 1000], got ${fade}`);
  internals.decoder();
  return new StreamDecoder(codec, internals, start, maxFrames, fade);
}
