import { MAX_GAP_SAMPLES } from "./constants.js";
import { OlaError } from "./errors.js";
import { assertChannels, checkAudio } from "./internal/validate.js";
import { computeOverlapSamples } from "./overlap-ratio.js";
import { triangularWindow } from "./triangular-window.js";

/** Options of {@link OverlapAdd}; use the sender's chunk length and overlap ratio. */
export interface OverlapAddOptions {
  /** Number of channels of every chunk, an integer in [1, 32]. */
  channels: number;
  /** The sender's full chunk length, in samples per channel; an integer in [2, 2^24]. */
  chunkSamples: number;
  /**
   * The sender's overlap as a fraction of the chunk, in [0.01, 0.5]; the overlap in samples is
   * `computeOverlapSamples(chunkSamples, overlapRatio)`, exactly as the chunker computes it.
   * @default 0.01
   */
  overlapRatio?: number;
}

/**
 * Size of a gap for {@link OverlapAdd.pushMissing}: a number of lost chunks (each counted as a
 * full `chunkSamples` chunk), or the number of samples per channel of new audio lost (the amount
 * the output grows by).
 */
export type MissingGap = { readonly chunks: number } | { readonly samples: number };

/**
 * Receiver-side join of decoded chunks with a triangular crossfade over each overlap.
 *
 * Feed chunks in stream order with {@link OverlapAdd.push}; each call returns the samples that
 * are finished, i.e. that no later chunk will touch. The last `overlapSamples` samples of the
 * joined signal are held back, because the next chunk may begin by overlapping them, and are
 * returned by {@link OverlapAdd.flush} at the end.
 *
 * Crossfade: a chunk pushed with `hasOverlap` lines up its first `n = overlapSamples` samples
 * with the `n` held samples and replaces them with
 * `y[i] = held[i] × fadeOut[i] + chunk[i] × fadeIn[i]`, where `fadeIn[i] = (i + 1) / (n + 1)`
 * and `fadeOut[i] = 1 - fadeIn[i]` (see `triangularWindow`), so the weights sum to 1 at every
 * sample. A chunk pushed without `hasOverlap` is appended after the held samples unchanged.
 * When fewer than `n` samples are held (at the start of a stream, after `flush`, or when the
 * stream so far is shorter than the overlap), the missing part counts as silence: the chunk
 * fades in and none of its samples are dropped.
 *
 * Lost chunks: {@link OverlapAdd.pushMissing} joins silence of the lost length as if it were a
 * decoded chunk. See its documentation for what that produces; the output length stays exact.
 *
 * Output arrays are fresh and owned by the caller; pushed arrays are read during the call only.
 * A call that throws leaves the state as it was.
 */
export class OverlapAdd {
  /** Number of channels. */
  readonly channels: number;
  /** The sender's full chunk length, in samples per channel. */
  readonly chunkSamples: number;
  /** Samples shared by consecutive chunks, per channel (the crossfade length). */
  readonly overlapSamples: number;
  /** Distance between chunk starts, `chunkSamples - overlapSamples`, in samples per channel. */
  readonly hopSamples: number;

  readonly #fadeIn: Float64Array;
  readonly #fadeOut: Float64Array;
  #held: Float32Array[];
  #spare: Float32Array[];
  #heldLength = 0;
  #started = false;

  /**
   * @throws RangeError naming `channels`, `chunkSamples` or `overlapRatio` when out of range.
   * @throws TypeError when `options` is not an object.
   */
  constructor(options: OverlapAddOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object with channels and chunkSamples");
    }
    assertChannels(options.channels);
    this.channels = options.channels;
    this.chunkSamples = options.chunkSamples;
    this.overlapSamples = computeOverlapSamples(options.chunkSamples, options.overlapRatio ?? 0.01);
    this.hopSamples = this.chunkSamples - this.overlapSamples;
    const { fadeIn, fadeOut } = triangularWindow(this.overlapSamples);
    this.#fadeIn = fadeIn;
    this.#fadeOut = fadeOut;
    this.#held = this.#allocate();
    this.#spare = this.#allocate();
  }

  /** Samples per channel held back for the next crossfade (at most `overlapSamples`). */
  get heldSamples(): number {
    return this.#heldLength;
  }

  /**
   * Joins the next decoded chunk and returns the samples now finished.
   *
   * Returns `channels` fresh arrays of equal length: `heldSamples + length - overlapSamples` for a
   * chunk without overlap (at least 0) and `length - overlapSamples` for one with overlap.
   *
   * @param samples The decoded chunk, one `Float32Array` per channel.
   * @param info `hasOverlap`: whether the chunk begins with the overlap region (the wire flag).
   * @throws TypeError when `samples` is not a non-empty array of `Float32Array`.
   * @throws OlaError `"channel-mismatch"`, `"ragged-channels"`, or `"chunk-too-short"` when a
   *   chunk with overlap is shorter than `overlapSamples`; the state is unchanged.
   */
  push(samples: readonly Float32Array[], info: { readonly hasOverlap: boolean }): Float32Array[] {
    const length = checkAudio(samples, "samples", this.channels);
    if (typeof info !== "object" || info === null || typeof info.hasOverlap !== "boolean") {
      throw new TypeError("info must be an object with a boolean hasOverlap");
    }
    if (info.hasOverlap && length < this.overlapSamples) {
      throw new OlaError(
        "chunk-too-short",
        `samples has ${length} samples per channel, fewer than the ${this.overlapSamples}-sample overlap it begins with`,
      );
    }
    return this.#join(samples, length, info.hasOverlap);
  }

  /**
   * Accounts for lost chunks by joining silence in their place, so the output keeps its length
   * and timing. Returns the samples now finished, like {@link OverlapAdd.push}.
   *
   * Behaviour, with `n = overlapSamples`: the gap is joined as a chunk of zeros with overlap
   * (without overlap when nothing was pushed since the start or `flush`). Hence
   * 1. the held tail of the previous chunk fades out to silence over the `n` samples the lost
   *    chunk would have overlapped (`held[i] × fadeOut[i]`);
   * 2. then come exactly-zero samples;
   * 3. the next chunk pushed with `hasOverlap` crossfades with held zeros, so it fades in from
   *    silence over its own overlap (`chunk[i] × fadeIn[i]`).
   * The output grows by exactly the lost chunks' new audio: `chunks × hopSamples` (plus
   * `overlapSamples` when the stream's first chunk is among them, as a first chunk has no
   * overlap), or `samples`. So for a lost chunk `k ≥ 1` of full length, its span
   * `[k × hop, k × hop + chunkSamples)` of the output holds `n` faded-out samples, then
   * `chunkSamples - 2n` zeros, then the next chunk's `n` faded-in samples.
   *
   * @param gap `{ chunks }`, a number of lost full chunks (integer ≥ 1), or `{ samples }`, the lost
   *   new audio in samples per channel (integer ≥ 0); the lost length must be at most 2^24
   *   samples. Defaults to one chunk.
   * @throws RangeError naming `gap` when it is neither form or out of range.
   */
  pushMissing(gap: MissingGap = { chunks: 1 }): Float32Array[] {
    let samples: number;
    if (typeof gap === "object" && gap !== null && "chunks" in gap) {
      const { chunks } = gap;
      if (!Number.isSafeInteger(chunks) || chunks < 1) {
        throw new RangeError(`gap.chunks must be an integer ≥ 1, got ${String(chunks)}`);
      }
      samples = chunks * this.hopSamples + (this.#started ? 0 : this.overlapSamples);
    } else if (typeof gap === "object" && gap !== null && "samples" in gap) {
      samples = gap.samples;
      if (!Number.isSafeInteger(samples) || samples < 0) {
        throw new RangeError(`gap.samples must be an integer ≥ 0, got ${String(samples)}`);
      }
    } else {
      throw new RangeError("gap must be { chunks } or { samples }");
    }
    if (samples > MAX_GAP_SAMPLES) {
      throw new RangeError(`gap must be at most ${MAX_GAP_SAMPLES} samples, got ${samples}`);
    }
    return this.#started
      ? this.#join(null, samples + this.overlapSamples, true)
      : this.#join(null, samples, false);
  }

  /**
   * Ends the stream: returns the held samples unchanged (the last chunk's tail, no fade) and
   * resets, so the next push starts a new stream.
   */
  flush(): Float32Array[] {
    const out = this.#held.map((channel) => channel.slice(0, this.#heldLength));
    this.#heldLength = 0;
    this.#started = false;
    return out;
  }

  #allocate(): Float32Array[] {
    return Array.from({ length: this.channels }, () => new Float32Array(this.overlapSamples));
  }

  /**
   * Joins `length` samples per channel of `source` (null: silence). The joined signal is the held
   * samples followed by the chunk, or, with overlap, the chunk's first `n` samples crossfaded with
   * the held samples (silence-padded at the front to `n`) followed by the rest. Everything but its
   * last `min(n, joined length)` samples is returned; those are held.
   */
  #join(source: readonly Float32Array[] | null, length: number, hasOverlap: boolean): Float32Array[] {
    const n = this.overlapSamples;
    const heldLength = this.#heldLength;
    const fadeIn = this.#fadeIn;
    const fadeOut = this.#fadeOut;
    // Joined positions: the chunk's x[0] sits at `start`; from `own` on, positions hold plain
    // chunk samples (before it: crossfade, or held samples). Positions below `emit` are output.
    const start = hasOverlap ? 0 : heldLength;
    const own = hasOverlap ? n : heldLength;
    const joined = start + length;
    const keep = Math.min(n, joined);
    const emit = joined - keep;
    const split = Math.max(own, emit);
    const out: Float32Array[] = [];
    for (let c = 0; c < this.channels; c++) {
      const held = this.#held[c] as Float32Array;
      const next = this.#spare[c] as Float32Array;
      const x = source === null ? null : (source[c] as Float32Array);
      const y = new Float32Array(emit);
      out.push(y);
      if (hasOverlap) {
        const pad = n - heldLength;
        const inOut = Math.min(n, emit);
        for (let i = 0; i < inOut; i++) {
          const previous = i < pad ? 0 : (held[i - pad] as number);
          const current = x === null ? 0 : (x[i] as number);
          y[i] = previous * (fadeOut[i] as number) + current * (fadeIn[i] as number);
        }
        for (let i = inOut; i < n; i++) {
          const previous = i < pad ? 0 : (held[i - pad] as number);
          const current = x === null ? 0 : (x[i] as number);
          next[i - emit] = previous * (fadeOut[i] as number) + current * (fadeIn[i] as number);
        }
      } else {
        y.set(held.subarray(0, Math.min(heldLength, emit)));
        if (heldLength > emit) next.set(held.subarray(emit, heldLength));
      }
      // Plain chunk samples: joined positions [own, joined) hold x[p - start].
      if (x !== null) {
        if (emit > own) y.set(x.subarray(own - start, emit - start), own);
        if (joined > split) next.set(x.subarray(split - start, joined - start), split - emit);
      } else if (joined > split) {
        next.fill(0, split - emit, joined - emit);
      }
    }
    const previous = this.#held;
    this.#held = this.#spare;
    this.#spare = previous;
    this.#heldLength = keep;
    this.#started = true;
    return out;
  }
}
