import {
  DEFAULT_COMPLETED_HISTORY,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_PENDING_PER_SOURCE,
  DEFAULT_NEAR_SEQ_WINDOW,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PENDING_MESSAGES,
  HEADER_BYTES,
  MAX_UINT32,
} from "./constants.js";
import type { PacketErrorCode } from "./errors.js";
import { checkInteger } from "./internal/check-integer.js";
import { expectedFragmentBytes, strideOf } from "./internal/fragment-stride.js";
import { RecentKeys } from "./internal/recent-ids.js";
import { isProblem, parseHeader } from "./internal/wire-header.js";

/** Options of {@link Reassembler}. */
export interface ReassemblerOptions {
  /**
   * Largest message (`total_length`) accepted, in bytes; a datagram claiming more is dropped as
   * malformed (`"too-large"`). Also bounds `total_frags`, since every fragment carries ≥ 1 byte.
   * @default 65536 (`DEFAULT_MAX_MESSAGE_BYTES`)
   */
  readonly maxMessageBytes?: number;
  /**
   * Most incomplete messages held at once; starting one more evicts the oldest (counted as
   * expired). Memory held is at most `maxPendingMessages × 2 × maxMessageBytes` bytes.
   * @default 32 (`DEFAULT_MAX_PENDING_MESSAGES`)
   */
  readonly maxPendingMessages?: number;
  /**
   * Age in milliseconds, from its first fragment, at which an incomplete message is dropped
   * (counted as expired). `Infinity` turns ageing off.
   * @default 2000 (`DEFAULT_MAX_AGE_MS`)
   */
  readonly maxAgeMs?: number;
  /**
   * How many recently completed `frag_id`s are remembered, so that a late copy of a fragment of
   * an already-delivered message counts as a duplicate instead of starting a new message. A
   * sender must not reuse a `frag_id` within this many messages. 0 remembers none.
   * @default 256 (`DEFAULT_COMPLETED_HISTORY`)
   */
  readonly completedHistory?: number;
  /**
   * Most incomplete messages one source (the `source` given to `push`) may hold; starting one
   * more evicts that source's own least wanted message, never another source's. Pushes that
   * name no source are not budgeted (only `maxPendingMessages` bounds them).
   * @default 16 (`DEFAULT_MAX_PENDING_PER_SOURCE`), at most `maxPendingMessages`
   */
  readonly maxPendingPerSource?: number;
  /**
   * Half-width, in sequence numbers, of the window around the expected sequence number (see
   * {@link Reassembler.expectSeq}) whose messages are kept over others when room is short.
   * @default 256 (`DEFAULT_NEAR_SEQ_WINDOW`)
   */
  readonly nearSeqWindow?: number;
  /**
   * The clock, in milliseconds, used when `push`/`expire` get no `nowMs`; non-decreasing.
   * @default () => performance.now()
   */
  readonly clock?: () => number;
}

/** A whole message, delivered once. */
export interface ReassembledMessage {
  /** `seq_num` of the frame, uint32. */
  readonly seq: number;
  /** `has_overlap` of the frame. */
  readonly hasOverlap: boolean;
  /** `frag_id` of the message, uint32. */
  readonly fragId: number;
  /** The frame, exactly `total_length` bytes, in a buffer owned by the caller. */
  readonly payload: Uint8Array;
}

/**
 * What {@link Reassembler.push} did with a datagram:
 * - `"complete"`: it completed a message, given in `message`;
 * - `"accepted"`: a new fragment of a message still incomplete was stored;
 * - `"duplicate"`: a fragment already stored, or of a recently completed message; ignored;
 * - `"refused"`: the first fragment of a new message, not stored: no room for a message this
 *   little wanted (see `expectSeq` and `maxPendingPerSource`);
 * - `"malformed"`: dropped, for the {@link PacketErrorCode} in `reason`.
 */
export type PushResult =
  | { readonly status: "complete"; readonly message: ReassembledMessage }
  | { readonly status: "accepted" }
  | { readonly status: "duplicate" }
  | { readonly status: "refused" }
  | { readonly status: "malformed"; readonly reason: PacketErrorCode };

/** Counters since the Reassembler was made. */
export interface ReassemblerStats {
  /** Datagrams pushed. */
  readonly received: number;
  /** Messages delivered. */
  readonly completed: number;
  /** Datagrams ignored as duplicates. */
  readonly duplicate: number;
  /** Datagrams dropped as malformed. */
  readonly malformed: number;
  /** Incomplete messages dropped, by age or evicted to make room. */
  readonly expired: number;
  /**
   * New messages not started because every slot held a message more wanted (nearer the
   * expected sequence, or of a source within its budget).
   */
  readonly refused: number;
}

interface PendingMessage {
  /** The `source` given to `push`, or undefined. */
  readonly source: string | undefined;
  readonly seq: number;
  readonly hasOverlap: boolean;
  readonly totalLength: number;
  readonly totalFrags: number;
  /** Payload bytes of every fragment but the last; fragment i sits at byte i·stride. */
  readonly stride: number;
  readonly buffer: Uint8Array;
  /** 1 where the fragment has arrived. */
  readonly have: Uint8Array;
  received: number;
  readonly firstSeenMs: number;
}

const ACCEPTED: PushResult = Object.freeze({ status: "accepted" });
const DUPLICATE: PushResult = Object.freeze({ status: "duplicate" });
const REFUSED: PushResult = Object.freeze({ status: "refused" });
const MALFORMED: Readonly<Record<Exclude<PacketErrorCode, "bad-key">, PushResult>> = Object.freeze({
  truncated: Object.freeze({ status: "malformed", reason: "truncated" }),
  "bad-field": Object.freeze({ status: "malformed", reason: "bad-field" }),
  "bad-length": Object.freeze({ status: "malformed", reason: "bad-length" }),
  "too-large": Object.freeze({ status: "malformed", reason: "too-large" }),
  inconsistent: Object.freeze({ status: "malformed", reason: "inconsistent" }),
});

/**
 * Joins the fragments of each message (by `frag_id`) back into whole frames, in any arrival
 * order, each delivered once. Built for datagrams from the network: `push` never throws on bad
 * bytes; it drops and counts them. Memory is bounded by `maxPendingMessages` and
 * `maxMessageBytes` whatever arrives.
 *
 * Fragment sizes must follow the shape {@link splitIntoFragments} produces (every fragment but
 * the last the same size, the last 1..that size; see `internal/fragment-stride.ts`).
 */
export class Reassembler {
  readonly #maxMessageBytes: number;
  readonly #maxPendingMessages: number;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;
  readonly #maxPerSource: number;
  readonly #nearSeqWindow: number;
  /** By message key: the frag_id, or source + frag_id when a source is named. */
  readonly #pending = new Map<MessageKey, PendingMessage>();
  /** Incomplete messages held per named source. */
  readonly #perSource = new Map<string, number>();
  readonly #completedIds: RecentKeys<MessageKey>;
  #expectedSeq: number | undefined;
  #refused = 0;
  #heldBytes = 0;
  #received = 0;
  #completed = 0;
  #duplicate = 0;
  #malformed = 0;
  #expired = 0;

  /** @throws RangeError naming the option that is out of range; TypeError for a bad `clock`. */
  constructor(options: ReassemblerOptions = {}) {
    const {
      maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
      maxPendingMessages = DEFAULT_MAX_PENDING_MESSAGES,
      maxAgeMs = DEFAULT_MAX_AGE_MS,
      completedHistory = DEFAULT_COMPLETED_HISTORY,
      maxPendingPerSource = Math.min(DEFAULT_MAX_PENDING_PER_SOURCE, options.maxPendingMessages ?? DEFAULT_MAX_PENDING_MESSAGES),
      nearSeqWindow = DEFAULT_NEAR_SEQ_WINDOW,
      clock = () => performance.now(),
    } = options;
    checkInteger("maxMessageBytes", maxMessageBytes, 1, MAX_UINT32);
    checkInteger("maxPendingMessages", maxPendingMessages, 1, 1_000_000);
    checkInteger("completedHistory", completedHistory, 0, 1_000_000);
    checkInteger("maxPendingPerSource", maxPendingPerSource, 1, maxPendingMessages);
    checkInteger("nearSeqWindow", nearSeqWindow, 0, 0x7fff_ffff);
    if (typeof maxAgeMs !== "number" || !(maxAgeMs > 0)) {
      throw new RangeError(`maxAgeMs must be a number above 0, got ${String(maxAgeMs)}`);
    }
    if (typeof clock !== "function") throw new TypeError("clock must be a function");
    this.#maxMessageBytes = maxMessageBytes;
    this.#maxPendingMessages = maxPendingMessages;
    this.#maxAgeMs = maxAgeMs;
    this.#clock = clock;
    this.#maxPerSource = maxPendingPerSource;
    this.#nearSeqWindow = nearSeqWindow;
    this.#completedIds = new RecentKeys<MessageKey>(completedHistory);
  }

  /**
   * Tells the reassembler which sequence number the caller expects next (its playout
   * position), or `undefined` for none. When every slot is taken, messages within
   * `nearSeqWindow` of it are kept over messages farther away, so partial messages with
   * made-up sequence numbers cannot push out the real ones.
   *
   * @throws RangeError if `seq` is neither undefined nor a uint32.
   */
  expectSeq(seq: number | undefined): void {
    if (seq !== undefined) checkInteger("seq", seq, 0, MAX_UINT32);
    this.#expectedSeq = seq;
  }

  /**
   * Takes one datagram (whole, header included). Expires aged messages first. The datagram is
   * read during the call and not kept (its bytes are copied), so the caller may reuse it.
   *
   * @param nowMs the time in milliseconds; defaults to the clock option.
   * @param source where the datagram came from (an address and port, say). Messages are then
   *   joined only from fragments of the same source and budgeted per source
   *   (`maxPendingPerSource`), so no source can evict or complete another's messages.
   * @returns what happened; a completed message's payload is the caller's.
   * @throws TypeError if `datagram` is not a Uint8Array or `source` not a string (never for
   *   bad contents).
   */
  push(datagram: Uint8Array, nowMs: number = this.#clock(), source?: string): PushResult {
    if (!(datagram instanceof Uint8Array)) throw new TypeError("datagram must be a Uint8Array");
    if (source !== undefined && typeof source !== "string") throw new TypeError("source must be a string");
    this.#received++;
    this.expire(nowMs);

    const header = parseHeader(datagram);
    if (isProblem(header)) return this.#drop(header[0]);
    const { fragId, totalLength, totalFrags, fragIndex } = header;
    if (totalLength > this.#maxMessageBytes) return this.#drop("too-large");
    const key: MessageKey = source === undefined ? fragId : `${source}\u0000${fragId}`;
    if (this.#completedIds.has(key)) {
      this.#duplicate++;
      return DUPLICATE;
    }
    const payloadBytes = datagram.length - HEADER_BYTES;
    let entry = this.#pending.get(key);
    if (entry !== undefined) {
      if (
        entry.totalLength !== totalLength ||
        entry.totalFrags !== totalFrags ||
        entry.seq !== header.seqNum ||
        entry.hasOverlap !== header.hasOverlap
      ) {
        return this.#drop("inconsistent");
      }
      if (payloadBytes !== expectedFragmentBytes(totalLength, totalFrags, fragIndex, entry.stride)) {
        return this.#drop("bad-length");
      }
      if (entry.have[fragIndex] === 1) {
        this.#duplicate++;
        return DUPLICATE;
      }
    } else if (totalFrags === 1) {
      // Per-datagram rules already hold the payload to exactly totalLength bytes.
      return this.#complete(key, fragId, header.seqNum, header.hasOverlap, datagram.slice(HEADER_BYTES));
    } else {
      const stride = strideOf(totalLength, totalFrags, fragIndex, payloadBytes);
      if (stride === 0) return this.#drop("bad-length");
      if (!this.#makeRoom(source, header.seqNum)) {
        this.#refused++;
        return REFUSED;
      }
      entry = {
        source,
        seq: header.seqNum,
        hasOverlap: header.hasOverlap,
        totalLength,
        totalFrags,
        stride,
        buffer: new Uint8Array(totalLength),
        have: new Uint8Array(totalFrags),
        received: 0,
        firstSeenMs: nowMs,
      };
      this.#pending.set(key, entry);
      if (source !== undefined) this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
      this.#heldBytes += totalLength + totalFrags;
    }

    entry.buffer.set(datagram.subarray(HEADER_BYTES), fragIndex * entry.stride);
    entry.have[fragIndex] = 1;
    entry.received++;
    if (entry.received < totalFrags) return ACCEPTED;
    this.#forget(key, entry);
    return this.#complete(key, fragId, entry.seq, entry.hasOverlap, entry.buffer);
  }

  /**
   * Drops incomplete messages whose first fragment is at least `maxAgeMs` old at `nowMs`.
   * `push` calls it; call it yourself to free memory while no datagrams arrive.
   *
   * @returns how many messages it dropped (added to `stats.expired`).
   */
  expire(nowMs: number = this.#clock()): number {
    if (this.#pending.size === 0) return 0;
    let dropped = 0;
    // Insertion order is arrival order, so the oldest come first.
    for (const [key, entry] of this.#pending) {
      if (nowMs - entry.firstSeenMs < this.#maxAgeMs) break;
      this.#forget(key, entry);
      dropped++;
    }
    this.#expired += dropped;
    return dropped;
  }

  /** Incomplete messages held now (at most `maxPendingMessages`). */
  get heldMessages(): number {
    return this.#pending.size;
  }

  /**
   * Bytes held now for incomplete messages: each one's `total_length` buffer plus one byte per
   * fragment of bookkeeping. Never above `maxPendingMessages × 2 × maxMessageBytes`.
   */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** A snapshot of the counters. */
  get stats(): ReassemblerStats {
    return {
      received: this.#received,
      completed: this.#completed,
      duplicate: this.#duplicate,
      malformed: this.#malformed,
      expired: this.#expired,
      refused: this.#refused,
    };
  }

  #drop(reason: Exclude<PacketErrorCode, "bad-key">): PushResult {
    this.#malformed++;
    return MALFORMED[reason];
  }

  #complete(key: MessageKey, fragId: number, seq: number, hasOverlap: boolean, payload: Uint8Array): PushResult {
    this.#completedIds.add(key);
    this.#completed++;
    return { status: "complete", message: { seq, hasOverlap, fragId, payload } };
  }

  /**
   * Frees a slot for a new message of `source` at `seq`, evicting the least wanted message
   * (counted as expired); false when the newcomer is itself the least wanted (refused).
   *
   * A source over its budget competes only with its own messages, so it can never evict
   * another's. Otherwise the least wanted message is the oldest of those outside the window
   * around the expected sequence (when one is set), else the oldest of all; a newcomer outside
   * that window is refused when every message held is inside it.
   */
  #makeRoom(source: string | undefined, seq: number): boolean {
    const overBudget = source !== undefined && (this.#perSource.get(source) ?? 0) >= this.#maxPerSource;
    if (!overBudget && this.#pending.size < this.#maxPendingMessages) return true;
    let victimKey: MessageKey | undefined;
    let victim: PendingMessage | undefined;
    // Insertion order is age order: the first match of the worst kind is the oldest of it.
    for (const [key, entry] of this.#pending) {
      if (overBudget && entry.source !== source) continue;
      if (this.#isFar(entry.seq)) {
        victimKey = key;
        victim = entry;
        break;
      }
      if (victim === undefined) {
        victimKey = key;
        victim = entry;
      }
    }
    if (victim === undefined || victimKey === undefined) return false;
    if (!overBudget && this.#isFar(seq) && !this.#isFar(victim.seq)) return false;
    this.#forget(victimKey, victim);
    this.#expired++;
    return true;
  }

  /** Whether `seq` lies outside the window around the expected sequence (false when none is set). */
  #isFar(seq: number): boolean {
    const expected = this.#expectedSeq;
    return expected !== undefined && Math.abs((seq - expected) | 0) > this.#nearSeqWindow;
  }

  #forget(key: MessageKey, entry: PendingMessage): void {
    this.#pending.delete(key);
    if (entry.source !== undefined) {
      const left = (this.#perSource.get(entry.source) ?? 1) - 1;
      if (left === 0) this.#perSource.delete(entry.source);
      else this.#perSource.set(entry.source, left);
    }
    this.#heldBytes -= entry.totalLength + entry.totalFrags;
  }
}

/** A message's identity: its frag_id, or source + NUL + frag_id when the source is named. */
type MessageKey = number | string;
