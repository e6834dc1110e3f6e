import type { AudioSource } from "../sender-session.js";

/** Cuts a source's pieces into pieces of the lengths asked for. */
export class PieceReader {
  readonly #source: AudioSource;
  #queue: Float32Array[][] = [];
  #queued = 0;
  #done = false;

  constructor(source: AudioSource) {
    this.#source = source;
  }

  async #fill(samples: number): Promise<void> {
    while (this.#queued < samples && !this.#done) {
      const piece = await this.#source.read();
      if (piece === null) {
        this.#done = true;
      } else if ((piece[0]?.length ?? 0) > 0) {
        this.#queue.push(piece);
        this.#queued += piece[0]!.length;
      }
    }
  }

  /** Samples per channel read from the source and not yet taken. */
  get queuedSamples(): number {
    return this.#queued;
  }

  /** True when nothing is left (reads ahead to know). */
  async atEnd(): Promise<boolean> {
    await this.#fill(1);
    return this.#queued === 0;
  }

  /** Up to `samples` samples per channel (fewer only at the end), or null when nothing is left. */
  async take(samples: number): Promise<Float32Array[] | null> {
    await this.#fill(samples);
    if (this.#queued === 0) return null;
    const n = Math.min(samples, this.#queued);
    const channels = this.#queue[0]!.length;
    const out = Array.from({ length: channels }, () => new Float32Array(n));
    let at = 0;
    while (at < n) {
      const head = this.#queue[0]!;
      const take = Math.min(n - at, head[0]!.length);
      head.forEach((channel, c) => out[c]!.set(channel.subarray(0, take), at));
      if (take === head[0]!.length) this.#queue.shift();
      else this.#queue[0] = head.map((channel) => channel.subarray(take));
      at += take;
    }
    this.#queued -= n;
    return out;
  }
}
