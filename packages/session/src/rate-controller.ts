/*
 * The sender's congestion controller for `--bandwidth auto[:MIN-MAX]`, in the spirit of WebRTC's
 * Google Congestion Control (draft-ietf-rmcat-gcc-02): a delay-based detector and a loss-based
 * rule each bound the target rate, the smaller wins. It is driven by receiver reports (a few a
 * second) and controls the wire rate: datagram bytes, the 24-byte packet header included.
 *
 * Rules, applied on every report (dt = seconds since the previous report, at most 1):
 * 1. Round-trip time: rtt = now − send time of the echoed unit − the receiver's hold time. The
 *    queuing delay is rtt − the smallest rtt of the last 10 s.
 * 2. Delay: "overuse" when the queuing delay is above 50 ms and not falling (above the previous
 *    report's minus 5 ms) on two reports in a row (one late report, a scheduling hiccup, is not
 *    a queue). On overuse the target drops to 0.85 × the receive rate the report
 *    states (bytes × 8 / interval; 0.85 × the target when unknown; nothing changes when the target
 *    is already below that: the queue is draining), the rate reached is
 *    remembered as the last decrease, and the target holds (no increase) for 5 s, so the queue
 *    drains and a capped path is probed again only every 5 s or so (each probe costs a little
 *    queueing: the rates of K are far apart).
 * 3. Loss (the report's loss fraction since the previous one): above 10 % the target is
 *    multiplied by (1 − 0.5 × loss), as GCC, and holds for 5 s as in rule 2; 2–10 % holds it;
 *    below 2 % it may grow.
 * 4. Growth, without overuse, with loss below 2 % and outside a hold: near the last decrease
 *    (below 1.1 × it, within 6 s of it) additively, +1 kbps per second; otherwise
 *    multiplicatively, +50 % per second. So a capped path is probed gently, and a freed one is
 *    climbed fast (from 4 to 20 kbps in about 4 s once the hold is over).
 * 5. A path that lets no whole unit through says neither loss nor delay (no unit completes, so
 *    the highest sequence number stands still): a report of nothing received halves the target,
 *    and a receive rate below 0.6 × the rate sent over the same span (one RTT earlier) counts as
 *    overuse (rule 2).
 * 6. Within 5 s of a decrease the target does not exceed 1.5 × the receive rate (what the
 *    path let through); it never leaves [min, max].
 */

/** Options of {@link RateController}. */
export interface RateControllerOptions {
  /** Lowest target, kbps (wire rate, headers included). */
  readonly minKbps: number;
  /** Highest target, kbps; also the start. */
  readonly maxKbps: number;
}

/** What the delay detector concluded from the last report. */
export type DelayState = "normal" | "overuse";

/** One report's figures, as the controller takes them. */
export interface RateSample {
  /** When the report arrived, ms (`performance.now()`). */
  readonly nowMs: number;
  /** Round-trip time measured from the report, ms, or undefined when it could not be (no echo). */
  readonly rttMs: number | undefined;
  /** Loss fraction since the previous report, 0–1. */
  readonly lossFraction: number;
  /** Receive rate over the report's interval, kbps, or undefined. */
  readonly receiveKbps: number | undefined;
  /** What was sent over the span the receive rate covers, kbps, or undefined. @default undefined */
  readonly sendKbps?: number | undefined;
}

/** Queuing delay above which the path is taken as overused, ms. */
export const OVERUSE_QUEUING_MS = 50;
/** Window of the smallest-RTT baseline, ms. */
export const MIN_RTT_WINDOW_MS = 10_000;
/** How long the target holds (no increase) after a decrease, ms. */
export const HOLD_AFTER_DECREASE_MS = 5_000;
/** Loss fraction above which the target decreases. */
export const LOSS_DECREASE_THRESHOLD = 0.1;
/** Loss fraction below which the target may increase. */
export const LOSS_INCREASE_THRESHOLD = 0.02;

/**
 * Target wire rate from receiver reports (rules at the top of this file). Starts at the top of
 * the range.
 */
export class RateController {
  readonly minKbps: number;
  readonly maxKbps: number;
  #target: number;
  #rtts: { atMs: number; rttMs: number }[] = [];
  #lastQueuingMs: number | undefined;
  #lastMs: number | undefined;
  #holdUntilMs = Number.NEGATIVE_INFINITY;
  #lastDecrease: { kbps: number; atMs: number } | undefined;
  #state: DelayState = "normal";
  #rttMs: number | undefined;
  #queuingMs = 0;
  #loss = 0;
  #highDelayReports = 0;

  /** @throws RangeError unless 0 < minKbps ≤ maxKbps (finite) */
  constructor(options: RateControllerOptions) {
    const { minKbps, maxKbps } = options;
    if (!(Number.isFinite(minKbps) && Number.isFinite(maxKbps) && minKbps > 0 && minKbps <= maxKbps)) {
      throw new RangeError(`minKbps and maxKbps must be finite with 0 < minKbps ≤ maxKbps, got ${minKbps} and ${maxKbps}`);
    }
    this.minKbps = minKbps;
    this.maxKbps = maxKbps;
    this.#target = maxKbps;
  }

  /** The target wire rate, kbps. */
  get targetKbps(): number {
    return this.#target;
  }

  /** The detector's state after the last report. */
  get delayState(): DelayState {
    return this.#state;
  }

  /** Last round-trip time measured, ms. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Last queuing delay estimate (rtt − the window's smallest), ms. */
  get queuingMs(): number {
    return this.#queuingMs;
  }

  /** Last loss fraction reported. */
  get lossFraction(): number {
    return this.#loss;
  }

  /** Take one report; returns the new target, kbps. */
  update(sample: RateSample): number {
    const now = sample.nowMs;
    const dt = this.#lastMs === undefined ? 0.25 : Math.min(1, Math.max(0, (now - this.#lastMs) / 1000));
    this.#lastMs = now;
    this.#loss = sample.lossFraction;
    // 1. delay
    let overuse = false;
    if (sample.rttMs !== undefined && Number.isFinite(sample.rttMs) && sample.rttMs >= 0) {
      this.#rttMs = sample.rttMs;
      this.#rtts.push({ atMs: now, rttMs: sample.rttMs });
      while (this.#rtts.length > 0 && now - this.#rtts[0]!.atMs > MIN_RTT_WINDOW_MS) this.#rtts.shift();
      const minRtt = this.#rtts.reduce((m, r) => Math.min(m, r.rttMs), Number.POSITIVE_INFINITY);
      const queuing = sample.rttMs - minRtt;
      const high = queuing > OVERUSE_QUEUING_MS && (this.#lastQueuingMs === undefined || queuing > this.#lastQueuingMs - 5);
      this.#highDelayReports = high ? this.#highDelayReports + 1 : 0;
      overuse = this.#highDelayReports >= 2;
      this.#lastQueuingMs = queuing;
      this.#queuingMs = queuing;
    }
    const receive = sample.receiveKbps !== undefined && Number.isFinite(sample.receiveKbps) && sample.receiveKbps > 0 ? sample.receiveKbps : undefined;
    const starved = sample.receiveKbps === 0;
    if (receive !== undefined && sample.sendKbps !== undefined && sample.sendKbps > 0 && receive < 0.6 * sample.sendKbps) overuse = true;
    this.#state = overuse ? "overuse" : "normal";
    let target = this.#target;
    // 2. overuse: back to below what gets through, and hold while the queue drains
    // (a target already below what gets through is draining the queue: no new decrease, no new hold)
    // (nor at the floor: a decrease that cannot lower the target does not hold it either)
    const drainTo = Math.max(this.minKbps, 0.85 * (receive ?? target));
    if (overuse && target > drainTo) {
      target = drainTo;
      this.#lastDecrease = { kbps: target, atMs: now };
      this.#holdUntilMs = now + HOLD_AFTER_DECREASE_MS;
    }
    // 3. loss (5. nothing received counts as all lost)
    const loss = starved ? 1 : sample.lossFraction;
    if (loss > LOSS_DECREASE_THRESHOLD) {
      const lowered = Math.max(this.minKbps, target * (1 - 0.5 * loss));
      if (lowered < target) {
        target = lowered;
        this.#lastDecrease = { kbps: target, atMs: now };
        this.#holdUntilMs = now + HOLD_AFTER_DECREASE_MS;
      }
    } else if (loss < LOSS_INCREASE_THRESHOLD && !overuse && now >= this.#holdUntilMs) {
      // 4. growth
      const near = this.#lastDecrease !== undefined && now - this.#lastDecrease.atMs < 6_000 && target < 1.1 * this.#lastDecrease.kbps;
      target = near ? target + 1 * dt : target * 1.5 ** dt;
    }
    // 6. bounds
    const recent = this.#lastDecrease !== undefined && now - this.#lastDecrease.atMs < HOLD_AFTER_DECREASE_MS;
    if (receive !== undefined && recent) target = Math.min(target, Math.max(1.5 * receive, this.minKbps));
    this.#target = Math.min(this.maxKbps, Math.max(this.minKbps, target));
    return this.#target;
  }
}

/** One way of sending: codebooks per frame and frames per message, with its wire rate. */
export interface RateOption {
  readonly numCodebooks: number;
  readonly framesPerPacket: number;
  /** Wire rate of this choice, kbps, datagram headers included. */
  readonly wireKbps: number;
}

/**
 * The best choice under a target: the most codebooks whose wire rate fits, and among equals the
 * fewest frames per message (the least delay); the cheapest option when none fits.
 */
export function chooseRateOption(options: readonly RateOption[], targetKbps: number): RateOption {
  if (options.length === 0) throw new RangeError("options must not be empty");
  let best: RateOption | undefined;
  for (const o of options) {
    if (o.wireKbps > targetKbps) continue;
    if (best === undefined || o.numCodebooks > best.numCodebooks || (o.numCodebooks === best.numCodebooks && o.framesPerPacket < best.framesPerPacket)) best = o;
  }
  return best ?? options.reduce((a, b) => (b.wireKbps < a.wireKbps ? b : a));
}
