/**
 * A snapshot of a {@link JitterBuffer}'s counters, taken by its `stats` getter. Counters only
 * grow; `depthFrames`, `heldFrames` and `jitterMs` describe the moment of the snapshot.
 *
 * Two identities always hold:
 * `received = accepted + late + duplicate + tooFarAhead` and
 * `accepted = delivered + discarded + heldFrames`.
 */
export interface JitterStats {
  /** Pushes (every call to `push` with valid arguments). */
  readonly received: number;
  /** Pushes that stored a frame (results `"accepted"` and `"resync"`). */
  readonly accepted: number;
  /**
   * Pushes behind the playout point whose frame was never played (result `"late"`): it arrived
   * after its slot was played as missing or skipped, or it is too old to tell, or it is a far
   * packet behind the playout point.
   */
  readonly late: number;
  /** Pushes of a sequence number already held, played, or discarded (result `"duplicate"`). */
  readonly duplicate: number;
  /** Pushes refused as `"too-far-ahead"` (beyond the window while playing, or a far packet ahead). */
  readonly tooFarAhead: number;
  /** `{ kind: "frame" }` results returned by `pop`. */
  readonly delivered: number;
  /** `{ kind: "missing" }` results returned by `pop` (frames the caller had to conceal). */
  readonly missing: number;
  /**
   * Missing markers for sequence numbers never received: `missing` less those whose packet
   * arrived later (as `"late"`) while still remembered (about the last 256 + capacity played
   * frames). A packet refused as `"too-far-ahead"` is not remembered, so its slot counts here
   * when it is played as missing.
   */
  readonly lost: number;
  /**
   * Sequence numbers the playout point passed while prefilling without a frame or a missing
   * marker: gaps before the first frame after an underrun, and frames given up when the window
   * slid forward. Not counted in `lost`; frames held there count in `discarded`.
   */
  readonly skipped: number;
  /** Accepted frames thrown away without being delivered (window slid while prefilling, resync). */
  readonly discarded: number;
  /** Times playout ran dry: `pop` found nothing held while playing and went back to prefilling. */
  readonly underruns: number;
  /** Times the buffer reset itself to a new sequence (push result `"resync"`). */
  readonly resyncs: number;
  /** Frames from the playout point to the highest frame held, holes included; 0 when empty. */
  readonly depthFrames: number;
  /** Frames held now (`depthFrames` less the holes). */
  readonly heldFrames: number;
  /**
   * RFC 3550 interarrival jitter estimate in milliseconds; `undefined` without
   * `frameDurationMs` or before two pushes carried an `arrivalMs`.
   */
  readonly jitterMs: number | undefined;
}
