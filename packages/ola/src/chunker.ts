import { assertOverlapRatio, assertChunkSamples, checkAudio } from "./internal/validate.js";
import { computeOverlapSamples } from "./overlap-ratio.js";

/** One chunk of audio cut by a {@link Chunker} or {@link splitIntoChunks}. */
export interface Chunk {
  /** 0-based position of the chunk in the stream. */
  readonly index: number;
  /** Position of `samples[c][0]` in the input stream, in samples per channel. */
  readonly startSample: number;
  /**
   * True when the chunk begins with `overlapSamples` samples it shares with the previous chunk
   * (every chunk but the first). Goes on the wire as `has_overlap`.
   */
  readonly hasOverlap: boolean;
  /**
   * Planar audio, one array per channel, `chunkSamples` long except possibly the last chunk,
   * which is shorter but always longer than the overlap. Fresh copies owned by the caller.
   */
  readonly samples: Float32Array[];
}

/** Options of {@link Chunker} and {@link splitIntoChunks}. */
export interface ChunkerOptions {
  /** Length of every chunk but possibly the last, in samples per channel; an integer in [2, 2^24]. */
  chunkSamples: number;
  /**
   * Fraction of a chunk shared with the next one, in [0.01, 0.5]; see `computeOverlapSamples`
   * for how it becomes a sample count. Convert the CLI's percent with `percentToOverlapRatio`.
   * @default 0.01
   */
  overlapRatio?: number;
}

/**
 * Streaming chunker for a live sender: push planar audio of any size, get every chunk as soon as
 * it is complete, and call {@link Chunker.end} for the last, possibly shorter, chunk.
 *
 * Chunk `k` covers input samples `[k × hop, k × hop + chunkSamples)` where
 * `hop = chunkSamples - overlapSamples`; consecutive chunks share `overlapSamples` samples. A final
 * chunk is only cut when the input goes beyond what the previous chunk covered, so every chunk
 * carries new audio. The channel count is fixed by the first push. Memory: one chunk of buffer
 * per channel; every chunk returned is a fresh copy (the pushed arrays are not kept).
 */
export class Chunker {
  /** Length of a full chunk, in samples per channel. */
  readonly chunkSamples: number;
  /** Samples shared by consecutive chunks, per channel. */
  readonly overlapSamples: number;
  /** Distance between chunk starts, `chunkSamples - overlapSamples`, in samples per channel. */
  readonly hopSamples: number;

  #buffer: Float32Array[] = [];
  #buffered = 0;
  #index = 0;
  #channels: number | undefined;

  /**
   * @throws RangeError naming `chunkSamples` or `overlapRatio` when out of range.
   * @throws TypeError when `options` is not an object.
   */
  constructor(options: ChunkerOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object with chunkSamples");
    }
    const overlapRatio = options.overlapRatio ?? 0.01;
    assertChunkSamples(options.chunkSamples);
    assertOverlapRatio(overlapRatio);
    this.chunkSamples = options.chunkSamples;
    this.overlapSamples = computeOverlapSamples(options.chunkSamples, overlapRatio);
    this.hopSamples = this.chunkSamples - this.overlapSamples;
  }

  /** Number of chunks returned so far in this stream (the next chunk's index). */
  get chunkCount(): number {
    return this.#index;
  }

  /** Samples per channel waiting in the buffer (including the overlap kept for the next chunk). */
  get bufferedSamples(): number {
    return this.#buffered;
  }

  /**
   * Appends audio and returns the chunks it completed, in order (often none, possibly several).
   * The pushed arrays are copied, not kept; the caller may reuse them.
   *
   * @param audio Planar audio, one `Float32Array` per channel, any length (0 too).
   * @throws TypeError when `audio` is not a non-empty array of `Float32Array`.
   * @throws OlaError `"channel-mismatch"` when the channel count differs from the first push,
   *   `"ragged-channels"` when the channels differ in length; nothing is consumed then.
   */
  push(audio: readonly Float32Array[]): Chunk[] {
    const length = checkAudio(audio, "audio", this.#channels);
    if (this.#channels === undefined) {
      this.#channels = audio.length;
      this.#buffer = audio.map(() => new Float32Array(this.chunkSamples));
    }
    const chunks: Chunk[] = [];
    let read = 0;
    while (read < length) {
      const take = Math.min(this.chunkSamples - this.#buffered, length - read);
      for (let c = 0; c < audio.length; c++) {
        (this.#buffer[c] as Float32Array).set(
          (audio[c] as Float32Array).subarray(read, read + take),
          this.#buffered,
        );
      }
      this.#buffered += take;
      read += take;
      if (this.#buffered === this.chunkSamples) {
        chunks.push(this.#cut(this.chunkSamples));
        // Keep the tail: it is the start (overlap) of the next chunk.
        for (const channel of this.#buffer) {
          channel.copyWithin(0, this.hopSamples, this.chunkSamples);
        }
        this.#buffered = this.overlapSamples;
      }
    }
    return chunks;
  }

  /**
   * Ends the stream: returns the last, shorter chunk when the buffer holds audio that no chunk
   * has carried yet (an empty array otherwise), then resets the chunker so that the next push
   * starts a new stream at index 0 (and may change the channel count).
   */
  end(): Chunk[] {
    const covered = this.#index === 0 ? 0 : this.overlapSamples;
    const chunks = this.#buffered > covered ? [this.#cut(this.#buffered)] : [];
    this.#buffer = [];
    this.#buffered = 0;
    this.#index = 0;
    this.#channels = undefined;
    return chunks;
  }

  #cut(length: number): Chunk {
    const index = this.#index++;
    return {
      index,
      startSample: index * this.hopSamples,
      hasOverlap: index > 0,
      samples: this.#buffer.map((channel) => channel.slice(0, length)),
    };
  }
}

/**
 * Cuts a whole signal into overlapping chunks, as a {@link Chunker} would when given all of it at
 * once and ended. Every chunk's `samples` are fresh copies (not views of `audio`). An empty
 * signal gives no chunks; a signal no longer than `chunkSamples` gives one.
 *
 * @param audio Planar audio, one `Float32Array` per channel, all the same length.
 * @param options Chunk length and overlap ratio.
 * @throws RangeError naming `chunkSamples` or `overlapRatio` when out of range
 *   (e.g. `"overlapRatio must be in [0.01, 0.5], got 0.7"`).
 * @throws TypeError when `audio` is not a non-empty array of `Float32Array`.
 * @throws OlaError `"ragged-channels"` when the channels differ in length.
 */
export function splitIntoChunks(audio: readonly Float32Array[], options: ChunkerOptions): Chunk[] {
  const chunker = new Chunker(options);
  const chunks = chunker.push(audio);
  chunks.push(...chunker.end());
  return chunks;
}
