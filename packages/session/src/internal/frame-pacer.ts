/**
 * The sender's real-time schedule of units: unit k is due at `start + d0 + … + d(k−1)`, where
 * `start` is when the first one went out and `di` the durations given to {@link FramePacer.advance}.
 * The due time is a sum from a fixed start, not "now + duration": a late unit does not push later
 * ones back (a sender that fell behind sends without sleeping until it is on time again), and
 * timer rounding never accumulates into drift.
 */
export class FramePacer {
  #startMs: number | undefined;
  #scheduledMs = 0;

  /**
   * Waits until the next unit is due (not at all when it is late) and returns how many ms after
   * its due time it is now (≥ 0). The first call starts the schedule.
   */
  async waitForNext(): Promise<number> {
    let nowMs = performance.now();
    this.#startMs ??= nowMs;
    const dueMs = this.#startMs + this.#scheduledMs;
    // Timers may fire a little early: sleep again until the clock says the unit is due.
    while (nowMs < dueMs) {
      await new Promise<void>((resolve) => setTimeout(resolve, dueMs - nowMs));
      nowMs = performance.now();
    }
    return nowMs - dueMs;
  }

  /** Moves the schedule on by one unit of `durationMs`. */
  advance(durationMs: number): void {
    this.#scheduledMs += durationMs;
  }
}
