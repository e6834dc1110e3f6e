/**
 * A planar audio ring buffer for the playout worklet: the writer appends blocks, the audio
 * thread reads fixed quanta. Single-threaded (both sides run on the worklet's thread, the writes
 * arriving as messages), so no atomics. Writes past the capacity drop the excess (counted).
 */
export class RingBuffer {
  readonly channels: number;
  readonly capacity: number;
  readonly #data: Float32Array[];
  #read = 0;
  #level = 0;
  /** Samples per channel dropped because the ring was full. */
  overflowSamples = 0;

  constructor(channels: number, capacitySamples: number) {
    if (!Number.isInteger(channels) || channels < 1 || channels > 8) throw new RangeError(`channels must be an integer in [1, 8], got ${channels}`);
    if (!Number.isInteger(capacitySamples) || capacitySamples < 128) throw new RangeError(`capacitySamples must be an integer ≥ 128, got ${capacitySamples}`);
    this.channels = channels;
    this.capacity = capacitySamples;
    this.#data = Array.from({ length: channels }, () => new Float32Array(capacitySamples));
  }

  /** Samples per channel waiting. */
  get level(): number {
    return this.#level;
  }

  /** Appends planar audio (missing channels are taken from channel 0); returns samples kept. */
  write(audio: readonly Float32Array[]): number {
    const n = audio[0]?.length ?? 0;
    const kept = Math.min(n, this.capacity - this.#level);
    this.overflowSamples += n - kept;
    let at = (this.#read + this.#level) % this.capacity;
    for (let i = 0; i < kept; ) {
      const run = Math.min(kept - i, this.capacity - at);
      for (let c = 0; c < this.channels; c++) {
        const src = audio[c] ?? audio[0]!;
        this.#data[c]!.set(src.subarray(i, i + run), at);
      }
      i += run;
      at = (at + run) % this.capacity;
    }
    this.#level += kept;
    return kept;
  }

  /** Moves up to `count` samples per channel into `out` at `offset`; returns how many. */
  read(out: readonly Float32Array[], offset: number, count: number): number {
    const n = Math.min(count, this.#level);
    for (let i = 0; i < n; ) {
      const run = Math.min(n - i, this.capacity - this.#read);
      for (let c = 0; c < out.length; c++) {
        const src = this.#data[Math.min(c, this.channels - 1)]!;
        out[c]!.set(src.subarray(this.#read, this.#read + run), offset + i);
      }
      i += run;
      this.#read = (this.#read + run) % this.capacity;
    }
    this.#level -= n;
    return n;
  }

  /** Drops one sample per channel (drift correction); returns whether there was one. */
  skip(): boolean {
    if (this.#level === 0) return false;
    this.#read = (this.#read + 1) % this.capacity;
    this.#level--;
    return true;
  }

  /** Empties the ring. */
  clear(): void {
    this.#read = 0;
    this.#level = 0;
  }
}
