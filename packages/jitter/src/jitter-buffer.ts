import { HISTORY_FRAMES, MAX_SEQ } from "./constants.js";
import { InterarrivalJitter } from "./internal/interarrival-jitter.js";
import { resolveOptions } from "./internal/resolve-options.js";
import type { JitterBufferOptions } from "./jitter-buffer-options.js";
import type { JitterStats } from "./jitter-stats.js";

/**
 * What `push` did with a packet:
 * - `"accepted"`: the frame is held until played.
 * - `"resync"`: the packet completed a run of far packets (see `resyncThreshold`); the buffer
 *   dropped what it held, restarted at this sequence and holds this frame. A decoder that keeps
 *   state across frames should reset it before the next frame.
 * - `"late"`: behind the playout point; its slot was already played (as missing) or skipped.
 * - `"duplicate"`: this sequence number is already held, or was played or discarded recently.
 * - `"too-far-ahead"`: beyond the window `[playout point, playout point + capacity)` while
 *   playing, or a far packet ahead that did not (yet) trigger a resync. The frame is dropped.
 */
export type PushResult = "accepted" | "resync" | "late" | "duplicate" | "too-far-ahead";

/**
 * What `pop` returns:
 * - `{ kind: "frame", seq, frame }`: the next frame in sequence order.
 * - `{ kind: "missing", seq }`: the frame for `seq` did not arrive in time; conceal it. The
 *   playout point moves past it.
 * - `{ kind: "empty" }`: nothing to play: still prefilling, or an underrun.
 */
export type PopResult<T> =
  | { readonly kind: "frame"; readonly seq: number; readonly frame: T }
  | { readonly kind: "missing"; readonly seq: number }
  | { readonly kind: "empty" };

/**
 * Where a buffer is: `"idle"` before the first push, `"prefilling"` while waiting for
 * `prefillFrames` of depth (at the start and after each underrun or drain), `"playing"` after.
 */
export type JitterBufferState = "idle" | "prefilling" | "playing";

/** Options of {@link JitterBuffer.pop}. */
export interface PopOptions {
  /**
   * End of stream: play out everything held, prefilled or not, frames and missing markers up to
   * the highest frame held; then return `{ kind: "empty" }` without counting an underrun.
   * @default false
   */
  draining?: boolean;
}

// Slot marks. A slot is tagged with the full sequence number it describes.
const EMPTY = 0;
const HELD = 1;
const DELIVERED = 2;
const MISSING = 3;
const MISSING_ARRIVED = 4;
const DISCARDED = 5;

const EMPTY_RESULT: PopResult<never> = Object.freeze({ kind: "empty" });

/**
 * Orders frames by 32-bit wrapping sequence number for playout at a steady pace.
 *
 * Call `push` as packets arrive and `pop` once per frame period. Playout starts once the buffer
 * spans `prefillFrames`; from then on each `pop` returns the next frame, or a missing marker for
 * a hole, until nothing is held (an underrun), which returns to prefilling. The buffer keeps a
 * reference to each frame until it is popped or discarded; it never copies or inspects frames.
 * Sequence numbers compare with RFC 1982 serial number arithmetic, so wrapping from 2^32 - 1 to 0
 * is seamless. Time-independent: the caller's `pop` calls are the playout clock.
 */
export class JitterBuffer<T> {
  readonly #capacity: number;
  readonly #prefillFrames: number;
  readonly #resyncThreshold: number;
  readonly #resyncPackets: number;
  readonly #mask: number;
  readonly #tags: Uint32Array;
  readonly #marks: Uint8Array;
  readonly #frames: (T | undefined)[];
  readonly #jitter: InterarrivalJitter | undefined;

  #state: JitterBufferState = "idle";
  /** Playing: next seq to play. Prefilling: lowest seq held, or the floor when nothing is held. */
  #next = 0;
  /** Highest seq held; meaningful while `#held > 0`. */
  #highest = 0;
  #held = 0;
  /** Prefilling only: lowest seq still eligible (those below were played or passed). */
  #floor = 0;
  #hasFloor = false;
  #runAnchor = 0;
  #runCount = 0;

  #received = 0;
  #accepted = 0;
  #late = 0;
  #duplicate = 0;
  #tooFarAhead = 0;
  #delivered = 0;
  #missing = 0;
  #lost = 0;
  #skipped = 0;
  #discarded = 0;
  #underruns = 0;
  #resyncs = 0;

  /**
   * @param options Window, prefill and resync settings; see {@link JitterBufferOptions}.
   * @throws {TypeError | RangeError} when an option has the wrong type or is out of range.
   */
  constructor(options?: JitterBufferOptions) {
    const resolved = resolveOptions(options);
    this.#capacity = resolved.capacity;
    this.#prefillFrames = resolved.prefillFrames;
    this.#resyncThreshold = resolved.resyncThreshold;
    this.#resyncPackets = resolved.resyncPackets;
    // One ring serves as the window (capacity slots ahead of the playout point) and as the
    // history of played slots behind it; a power of two so that `seq & mask` survives the wrap.
    let size = 1;
    while (size < resolved.capacity + HISTORY_FRAMES) size *= 2;
    this.#mask = size - 1;
    this.#tags = new Uint32Array(size);
    this.#marks = new Uint8Array(size);
    this.#frames = new Array<T | undefined>(size).fill(undefined);
    this.#jitter =
      resolved.frameDurationMs === undefined ? undefined : new InterarrivalJitter(resolved.frameDurationMs);
  }

  /** Where the buffer is in its cycle; see {@link JitterBufferState}. */
  get state(): JitterBufferState {
    return this.#state;
  }

  /**
   * The playout point: while playing, the sequence number the next frame or missing marker will
   * carry; while prefilling, where playout would start now (the lowest frame held, or the first
   * sequence number not yet played when nothing is held). `undefined` before the first push.
   */
  get playoutSeq(): number | undefined {
    return this.#state === "idle" ? undefined : this.#next;
  }

  /**
   * Offers one frame.
   * @param seq Its sequence number, an integer in [0, 2^32 - 1].
   * @param frame The payload; held by reference, returned as is by `pop`.
   * @param arrivalMs Arrival time in milliseconds on any monotonic clock, for the jitter estimate
   *   (used only with the `frameDurationMs` option; pushes without it are not sampled).
   * @returns What happened to it; only `"accepted"` and `"resync"` keep the frame.
   * @throws {TypeError | RangeError} when `seq` or `arrivalMs` is invalid (not for bad packets:
   *   those are return values).
   */
  push(seq: number, frame: T, arrivalMs?: number): PushResult {
    if (typeof seq !== "number") throw new TypeError(`seq must be a number, got ${typeof seq}`);
    if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
      throw new RangeError(`seq must be an integer in [0, 2^32 - 1], got ${seq}`);
    }
    if (arrivalMs !== undefined) {
      if (typeof arrivalMs !== "number") {
        throw new TypeError(`arrivalMs must be a number, got ${typeof arrivalMs}`);
      }
      if (!Number.isFinite(arrivalMs)) throw new RangeError(`arrivalMs must be finite, got ${arrivalMs}`);
    }
    this.#received++;
    if (this.#state === "idle") {
      this.#restart(seq, frame, arrivalMs);
      return "accepted";
    }
    const d = (seq - this.#next) | 0;
    if (d > this.#resyncThreshold || d < -this.#resyncThreshold) return this.#pushFar(seq, frame, arrivalMs, d);
    this.#runCount = 0;
    if (arrivalMs !== undefined) this.#jitter?.update(seq, arrivalMs);
    if (this.#state === "playing") {
      if (d < 0) return this.#classifyBehind(seq);
      if (d < this.#capacity) return this.#store(seq, frame);
      this.#tooFarAhead++;
      return "too-far-ahead";
    }
    // Prefilling: nothing was played since the floor, so the window may still move.
    if (this.#held === 0) {
      if (d < 0) return this.#classifyBehind(seq); // below the floor
      this.#next = seq;
      return this.#store(seq, frame);
    }
    if (d < 0) {
      const belowFloor = this.#hasFloor && ((seq - this.#floor) | 0) < 0;
      if (belowFloor || ((this.#highest - seq) | 0) >= this.#capacity) return this.#classifyBehind(seq);
      this.#next = seq; // an earlier frame arrived after a later one: start from it
      return this.#store(seq, frame);
    }
    if (d >= this.#capacity) this.#slide(seq);
    return this.#store(seq, frame);
  }

  /**
   * Takes the next frame to play; call once per frame period.
   * @returns The frame, a missing marker (conceal it), or empty (prefilling or an underrun; after
   *   an underrun the buffer waits for `prefillFrames` of depth again).
   * @throws {TypeError} when `options` is not an object.
   */
  pop(options?: PopOptions): PopResult<T> {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError(`options must be an object, got ${options === null ? "null" : typeof options}`);
    }
    const draining = options?.draining === true;
    if (this.#state !== "playing") {
      if (!draining || this.#held === 0) return EMPTY_RESULT;
      this.#startPlaying();
    }
    if (this.#held === 0) {
      this.#state = "prefilling";
      this.#floor = this.#next;
      this.#hasFloor = true;
      if (!draining) this.#underruns++;
      return EMPTY_RESULT;
    }
    const seq = this.#next;
    const i = seq & this.#mask;
    this.#next = (seq + 1) >>> 0;
    if (this.#marks[i] === HELD && this.#tags[i] === seq) {
      const frame = this.#frames[i] as T;
      this.#frames[i] = undefined;
      this.#marks[i] = DELIVERED;
      this.#held--;
      this.#delivered++;
      return { kind: "frame", seq, frame };
    }
    this.#tags[i] = seq;
    this.#marks[i] = MISSING;
    this.#missing++;
    this.#lost++;
    return { kind: "missing", seq };
  }

  /**
   * The first frame held at or after the playout point (the one a later `pop` returns after any
   * missing markers before it), without taking it; `undefined` when nothing is held. A receiver
   * that must know how long a hole lasts (its media timestamps) reads it from this frame.
   * Costs at most one step per slot between the playout point and the highest frame held.
   */
  peekHeld(): { readonly seq: number; readonly frame: T } | undefined {
    if (this.#held === 0 || this.#state === "idle") return undefined;
    const span = ((this.#highest - this.#next) | 0) + 1;
    for (let k = 0; k < span; k++) {
      const seq = (this.#next + k) >>> 0;
      const i = seq & this.#mask;
      if (this.#marks[i] === HELD && this.#tags[i] === seq) return { seq, frame: this.#frames[i] as T };
    }
    return undefined;
  }

  /** A snapshot of the counters and the current depth; see {@link JitterStats}. */
  get stats(): JitterStats {
    return {
      received: this.#received,
      accepted: this.#accepted,
      late: this.#late,
      duplicate: this.#duplicate,
      tooFarAhead: this.#tooFarAhead,
      delivered: this.#delivered,
      missing: this.#missing,
      lost: this.#lost,
      skipped: this.#skipped,
      discarded: this.#discarded,
      underruns: this.#underruns,
      resyncs: this.#resyncs,
      depthFrames: this.#held === 0 ? 0 : ((this.#highest - this.#next) | 0) + 1,
      heldFrames: this.#held,
      jitterMs: this.#jitter?.jitterMs,
    };
  }

  /** Stores a frame at `seq`, which lies in the window; or reports it as a duplicate. */
  #store(seq: number, frame: T): PushResult {
    const i = seq & this.#mask;
    if (this.#marks[i] === HELD && this.#tags[i] === seq) {
      this.#duplicate++;
      return "duplicate";
    }
    this.#tags[i] = seq;
    this.#marks[i] = HELD;
    this.#frames[i] = frame;
    if (this.#held === 0 || ((seq - this.#highest) | 0) > 0) this.#highest = seq;
    this.#held++;
    this.#accepted++;
    if (this.#state === "prefilling" && ((this.#highest - this.#next) | 0) + 1 >= this.#prefillFrames) {
      this.#startPlaying();
    }
    return "accepted";
  }

  #startPlaying(): void {
    if (this.#hasFloor) {
      this.#skipped += (this.#next - this.#floor) | 0;
      this.#hasFloor = false;
    }
    this.#state = "playing";
  }

  /** A packet behind the playout point: a duplicate if history knows its frame, else late. */
  #classifyBehind(seq: number): PushResult {
    const i = seq & this.#mask;
    if (this.#tags[i] === seq) {
      const mark = this.#marks[i];
      if (mark === DELIVERED || mark === DISCARDED || mark === MISSING_ARRIVED) {
        this.#duplicate++;
        return "duplicate";
      }
      if (mark === MISSING) {
        this.#marks[i] = MISSING_ARRIVED;
        this.#lost--;
      }
    }
    this.#late++;
    return "late";
  }

  /**
   * Prefilling, and `seq` lies beyond the window: move the window up so that `seq` is its last
   * slot, give up held frames that fall below it, and start from the lowest frame still held.
   */
  #slide(seq: number): void {
    const newFloor = (seq - this.#capacity + 1) >>> 0;
    const base = this.#hasFloor ? this.#floor : this.#next;
    const span = Math.min((newFloor - this.#next) | 0, this.#capacity);
    let dropped = 0;
    for (let k = 0; k < span && this.#held > 0; k++) {
      const s = (this.#next + k) >>> 0;
      const i = s & this.#mask;
      if (this.#marks[i] === HELD && this.#tags[i] === s) {
        this.#marks[i] = DISCARDED;
        this.#frames[i] = undefined;
        this.#held--;
        dropped++;
      }
    }
    this.#discarded += dropped;
    this.#skipped += ((newFloor - base) | 0) - dropped;
    this.#floor = newFloor;
    this.#hasFloor = true;
    this.#next = seq;
    if (this.#held > 0) {
      for (let k = 0; k < this.#capacity; k++) {
        const s = (newFloor + k) >>> 0;
        const i = s & this.#mask;
        if (this.#marks[i] === HELD && this.#tags[i] === s) {
          this.#next = s;
          break;
        }
      }
    }
  }

  /** A packet more than `resyncThreshold` from the playout point. */
  #pushFar(seq: number, frame: T, arrivalMs: number | undefined, d: number): PushResult {
    if (this.#runCount > 0 && Math.abs((seq - this.#runAnchor) | 0) < this.#capacity) {
      this.#runCount++;
    } else {
      this.#runAnchor = seq;
      this.#runCount = 1;
    }
    if (this.#runCount >= this.#resyncPackets) {
      this.#discarded += this.#held;
      this.#marks.fill(EMPTY);
      this.#frames.fill(undefined);
      this.#held = 0;
      this.#resyncs++;
      this.#jitter?.reseed();
      this.#restart(seq, frame, arrivalMs);
      return "resync";
    }
    if (d > 0) {
      this.#tooFarAhead++;
      return "too-far-ahead";
    }
    this.#late++;
    return "late";
  }

  /** Starts a new sequence at `seq` (first push, or resync) with nothing held. */
  #restart(seq: number, frame: T, arrivalMs: number | undefined): void {
    this.#state = "prefilling";
    this.#next = seq;
    this.#hasFloor = false;
    this.#runCount = 0;
    if (arrivalMs !== undefined) this.#jitter?.update(seq, arrivalMs);
    this.#store(seq, frame);
  }
}
