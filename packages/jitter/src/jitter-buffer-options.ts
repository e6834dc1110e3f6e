/** Options of a {@link JitterBuffer}. Every count is in frames (one sequence number = one frame). */
export interface JitterBufferOptions {
  /**
   * Frames held at most: the window of sequence numbers `[playout point, playout point +
   * capacity)` that a push may fill. While playing, a packet beyond it is `"too-far-ahead"`.
   * Integer in [1, 65536].
   * @default 16
   */
  capacity?: number;
  /**
   * Depth (frames from the playout point to the highest frame held, holes included) to reach
   * before playout starts, at the start and again after every underrun. This is the CLI's
   * `--buffer-size`: it sets the playout delay, `prefillFrames * frameDuration`. Keeping it below
   * `capacity` leaves room for bursts; a prefill equal to the capacity makes every early packet
   * `"too-far-ahead"`. Integer in [1, capacity].
   * @default Math.ceil(capacity / 2) (8 at the default capacity)
   */
  prefillFrames?: number;
  /**
   * Distance in frames from the playout point beyond which a packet is "far" (a sender restart,
   * a very long outage) rather than early or late. `resyncPackets` consecutive far packets that
   * agree with one another reset the buffer to the new sequence. Far packets never jump the
   * playout point on their own. Integer in [capacity, 2^30].
   * @default 4 * capacity (64 at the default capacity)
   */
  resyncThreshold?: number;
  /**
   * Consecutive far packets, each within `capacity` of the first of them, that trigger a resync;
   * the last of them is accepted with `"resync"`, the earlier ones were refused. 1 resyncs on the
   * first far packet. Integer in [1, 1024].
   * @default 3
   */
  resyncPackets?: number;
  /**
   * Duration of one frame in milliseconds, used only for the interarrival jitter estimate: frame
   * `seq` counts as sent at `seq * frameDurationMs`. Without it `stats.jitterMs` stays
   * `undefined`. Finite and > 0.
   * @default undefined (no jitter estimate)
   */
  frameDurationMs?: number;
}
