/** Reads a monotonic clock in milliseconds. */
export type ClockMs = () => number;

/** Waits about `ms` milliseconds; may return early (the pacer then sleeps again). */
export type SleepMs = (ms: number) => Promise<void>;

/**
 * A real-time schedule of frames: frame k is due at `start + d0 + … + d(k−1)`, where `start` is
 * the time of the first frame and `di` the durations given to {@link Pacer.advance}. Because
 * the due time is a sum from a fixed start, and not "now + duration", a late frame does not
 * push later ones back: a sender that falls behind sends without sleeping until it is on time
 * again, and timer rounding never accumulates into drift.
 */
export class Pacer {
  private startMs: number | undefined;
  private scheduledMs = 0;
  private cancelled = false;
  private wake: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param now the clock.
   * @param sleep how to wait; `undefined` uses `setTimeout`, which {@link Pacer.cancel} clears.
   *   An injected sleep must let `now` advance, or the wait never ends.
   */
  constructor(
    private readonly now: ClockMs,
    private readonly sleep: SleepMs | undefined,
  ) {}

  /**
   * Waits until the next frame is due (not at all when it is already late) and returns how
   * many milliseconds after its due time it is now (≥ 0), or -1 when {@link Pacer.cancel} was
   * called. The first call starts the schedule.
   */
  async waitForNextFrame(): Promise<number> {
    let nowMs = this.now();
    if (this.startMs === undefined) this.startMs = nowMs;
    const dueMs = this.startMs + this.scheduledMs;
    // Timers may fire a little early: sleep again until the clock says the frame is due.
    while (nowMs < dueMs) {
      if (this.cancelled) return -1;
      await this.sleepOnce(dueMs - nowMs);
      if (this.cancelled) return -1;
      nowMs = this.now();
    }
    return nowMs - dueMs;
  }

  /** Moves the schedule on by one frame of `durationMs`. */
  advance(durationMs: number): void {
    this.scheduledMs += durationMs;
  }

  /** Ends the current wait and every later one at once (they return -1). */
  cancel(): void {
    this.cancelled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
  }

  private sleepOnce(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.wake = resolve;
      if (this.sleep === undefined) {
        this.timer = setTimeout(resolve, ms);
      } else {
        this.sleep(ms).then(resolve, reject);
      }
    }).finally(() => {
      this.wake = undefined;
      this.timer = undefined;
    });
  }
}
