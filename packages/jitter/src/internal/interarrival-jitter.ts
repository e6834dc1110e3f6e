import { JITTER_GAIN_DIVISOR } from "../constants.js";

/**
 * RFC 3550 §6.4.1 interarrival jitter, in milliseconds.
 *
 * A frame's send time is `seq * frameDurationMs` (only differences matter, so the sequence
 * number's wrap is handled by taking the wrapped difference); its arrival time is what the caller
 * passed. For each frame after the first, in arrival order:
 *
 *   D = (arrival_j - arrival_i) - (seq_j - seq_i) * frameDurationMs
 *   J = J + (|D| - J) / 16
 *
 * where i is the previous sample. J starts at 0 and is reported once one D has been taken.
 */
export class InterarrivalJitter {
  readonly #frameDurationMs: number;
  #jitterMs = 0;
  #hasPrevious = false;
  #hasEstimate = false;
  #previousSeq = 0;
  #previousArrivalMs = 0;

  constructor(frameDurationMs: number) {
    this.#frameDurationMs = frameDurationMs;
  }

  /** Takes one sample; `seq` must be within 2^31 of the previous sample's. */
  update(seq: number, arrivalMs: number): void {
    if (this.#hasPrevious) {
      const sendSpacingMs = ((seq - this.#previousSeq) | 0) * this.#frameDurationMs;
      const d = arrivalMs - this.#previousArrivalMs - sendSpacingMs;
      this.#jitterMs += (Math.abs(d) - this.#jitterMs) / JITTER_GAIN_DIVISOR;
      this.#hasEstimate = true;
    }
    this.#hasPrevious = true;
    this.#previousSeq = seq;
    this.#previousArrivalMs = arrivalMs;
  }

  /** Forgets the previous sample (after a resync) but keeps the estimate. */
  reseed(): void {
    this.#hasPrevious = false;
  }

  /** The estimate in milliseconds, or `undefined` before the second sample. */
  get jitterMs(): number | undefined {
    return this.#hasEstimate ? this.#jitterMs : undefined;
  }
}
