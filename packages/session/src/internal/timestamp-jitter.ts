/**
 * RFC 3550 §6.4.1 interarrival jitter over media timestamps, ms: a message's send time is its
 * timestamp (samples, modulo 2^32) over the sample rate, so messages of any length (frames per
 * message that change) are measured right. For each message after the first, in arrival order:
 * `D = (arrival_j − arrival_i) − (ts_j − ts_i) / rate`, `J += (|D| − J) / 16`.
 */
export class TimestampJitter {
  readonly #msPerSample: number;
  #jitterMs = 0;
  #previous: { timestamp: number; arrivalMs: number } | undefined;
  #hasEstimate = false;

  /** @param sampleRateHz the timestamps' clock rate */
  constructor(sampleRateHz: number) {
    this.#msPerSample = 1000 / sampleRateHz;
  }

  /** Takes one message: its timestamp (an unsigned 32-bit sample count) and arrival time, ms. */
  update(timestamp: number, arrivalMs: number): void {
    const previous = this.#previous;
    if (previous !== undefined) {
      const d = arrivalMs - previous.arrivalMs - ((timestamp - previous.timestamp) | 0) * this.#msPerSample;
      this.#jitterMs += (Math.abs(d) - this.#jitterMs) / 16;
      this.#hasEstimate = true;
    }
    this.#previous = { timestamp, arrivalMs };
  }

  /** Forgets the previous message (a restart) and keeps the estimate. */
  reseed(): void {
    this.#previous = undefined;
  }

  /** The estimate, ms, or undefined before two messages. */
  get jitterMs(): number | undefined {
    return this.#hasEstimate ? this.#jitterMs : undefined;
  }
}
