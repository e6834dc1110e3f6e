import { createSocket, type Socket } from "node:dgram";
import { seededRandom } from "../../helpers.js";
import { CliProcess, startReceiver } from "./cli-process.js";

/** What the relay does to the datagrams it forwards (all rates are per datagram, 0 to 1). */
export interface Impairments {
  /** Seed of the PRNG that decides every datagram's fate. */
  readonly seed: number;
  /** Probability that a datagram is dropped (independent random loss; ignored with `burst`). */
  readonly lossRate: number;
  /**
   * Bursty loss instead of `lossRate`: a two-state Gilbert–Elliott channel that loses every
   * datagram in its bad state and none in its good one; per datagram it moves good → bad with
   * probability `toBad` and bad → good with `toGood` (average loss toBad / (toBad + toGood),
   * bursts of 1 / toGood datagrams on average). @default undefined
   */
  readonly burst?: { readonly toBad: number; readonly toGood: number } | undefined;
  /** Probability that a forwarded datagram is held back by `reorderDelayMs` more (so later ones overtake it). */
  readonly reorderRate: number;
  /** Probability that a forwarded datagram is sent twice. */
  readonly duplicateRate: number;
  /** Every copy is delayed by a uniform random 0 to this many ms. */
  readonly maxJitterMs: number;
  /** Extra delay of a reordered datagram, ms. @default 25 */
  readonly reorderDelayMs?: number;
  /**
   * A bottleneck: forwarded datagrams (whole UDP payloads, the 24-byte header included) leave at
   * most at this rate, kbps, through a drop-tail queue of `capQueueMs` (a datagram that would
   * wait longer is dropped). Change it while running with `setCapKbps`. @default undefined (no cap)
   */
  readonly capKbps?: number;
  /** Longest wait in the bottleneck's queue, ms. @default 200 */
  readonly capQueueMs?: number;
  /** Keep a copy of every datagram that reaches the relay, dropped or not, in `datagrams`. @default false */
  readonly capture?: boolean;
}

/** One datagram offered to the bottleneck, for rate and loss figures over time. */
export interface CapRecord {
  /** When it reached the relay, `performance.now()` ms. */
  readonly atMs: number;
  /** Its bytes (the whole datagram). */
  readonly bytes: number;
  /** Whether the bottleneck dropped it (queue full). */
  readonly dropped: boolean;
  /** The cap in force, kbps, or undefined. */
  readonly capKbps: number | undefined;
  /** The payload's K (codebooks per frame) when this is the first fragment of a version 2 payload, else undefined. */
  readonly numCodebooks: number | undefined;
  /** The payload's frame count when this is the first fragment of a version 2 payload, else undefined. */
  readonly numFrames: number | undefined;
}


/**
 * What the sender offered the capped path in [fromMs, toMs): its rate in kbps (every datagram it
 * sent, dropped ones included), the share the relay dropped, the datagrams, and the frames per
 * message seen (sorted, each once).
 */
export function capWindow(records: readonly CapRecord[], fromMs: number, toMs: number): { kbps: number; lossFraction: number; datagrams: number; frames: number[] } {
  const inside = records.filter((r) => r.atMs >= fromMs && r.atMs < toMs);
  const bytes = inside.reduce((n, r) => n + r.bytes, 0);
  const dropped = inside.filter((r) => r.dropped).length;
  const frames = [...new Set(inside.flatMap((r) => (r.numFrames === undefined ? [] : [r.numFrames])))].sort((a, b) => a - b);
  return { kbps: (bytes * 8) / (toMs - fromMs), lossFraction: inside.length === 0 ? 0 : dropped / inside.length, datagrams: inside.length, frames };
}

/**
 * The phases of a capped run ({@link runUnderCap}) from the relay's records: when the cap held
 * (first and last datagram seen under it), and {@link capWindow} before it, from `settleMs` into
 * it to its end (the sender has adapted), and after its lift.
 */
export function capPhases(records: readonly CapRecord[], settleMs = 2_000) {
  const capStart = records.find((r) => r.capKbps !== undefined)!.atMs;
  const capEnd = [...records].reverse().find((r) => r.capKbps !== undefined)!.atMs;
  return {
    capStart,
    capEnd,
    before: capWindow(records, records[0]!.atMs, capStart),
    adapted: capWindow(records, capStart + settleMs, capEnd),
    after: capWindow(records, capEnd, Number.POSITIVE_INFINITY),
  };
}

/** One datagram that reached the relay, and what became of it. */
export interface RelayRecord {
  /** Header fields (the datagram was checked to have a 24-byte header). */
  readonly seq: number;
  readonly fragId: number;
  readonly fragIndex: number;
  readonly totalFrags: number;
  /** Copies forwarded: 0 (dropped), 1, or 2 (duplicated). */
  readonly copies: number;
  /** Whether it was held back to be overtaken. */
  readonly reordered: boolean;
}

/**
 * A UDP forwarder on loopback for the end-to-end tests: datagrams sent to `relay.port` go to the
 * target port, dropped, duplicated, delayed and reordered by a seeded PRNG, optionally through a
 * rate-capped bottleneck, and logged. Datagrams the target sends back (receiver reports) go to
 * whoever last sent to the relay, unimpaired.
 */
export class ImpairmentRelay {
  readonly records: RelayRecord[] = [];
  /** Every datagram that reached the relay, in order (with `capture`). */
  readonly datagrams: Uint8Array[] = [];
  /** Every datagram that passed the random loss, as offered to the bottleneck (capped or not). */
  readonly capRecords: CapRecord[] = [];
  /** Datagrams sent back from the target to the sender. */
  reverseForwarded = 0;
  /** Called with every datagram that reaches the relay, before its fate is drawn (an on-path observer, for attack tests). */
  tap: ((bytes: Buffer) => void) | undefined;
  /** Called with every copy forwarded to the target, once the socket has handed it to the kernel (it is then ahead of anything sent later). */
  onForwarded: ((bytes: Buffer) => void) | undefined;
  #capKbps: number | undefined;
  #capFreeAtMs = 0;
  #lastSender: { address: string; port: number } | undefined;
  readonly #socket: Socket;
  readonly #out: Socket;
  readonly #random: () => number;
  readonly #pending = new Set<NodeJS.Timeout>();
  #forwarded = 0;
  /** The Gilbert–Elliott channel's state (with `burst`). */
  #bad = false;

  private constructor(socket: Socket, out: Socket, readonly port: number, readonly targetPort: number, readonly impairments: Impairments) {
    this.#socket = socket;
    this.#out = out;
    this.#random = seededRandom(impairments.seed);
    this.#capKbps = impairments.capKbps;
    socket.on("message", (bytes, from) => {
      this.#lastSender = { address: from.address, port: from.port };
      this.tap?.(bytes);
      this.#onMessage(bytes);
    });
    out.on("message", (bytes) => {
      const to = this.#lastSender;
      if (to === undefined) return;
      this.reverseForwarded++;
      this.#socket.send(bytes, to.port, to.address);
    });
  }

  /** Sets (or, with undefined, lifts) the bottleneck's rate, kbps. */
  setCapKbps(kbps: number | undefined): void {
    this.#capKbps = kbps;
  }

  /** Extra wait of a datagram in the bottleneck (0 without a cap), or undefined when the queue drops it. */
  #bottleneck(datagram: Buffer): number | undefined {
    const cap = this.#capKbps;
    const now = performance.now();
    const bytes = datagram.length;
    const first = bytes > 27 && datagram.readUInt32BE(20) === 0 && datagram[24] === 2;
    const numCodebooks = first ? datagram[26] : undefined;
    const numFrames = first ? datagram.readUInt16BE(27) : undefined;
    if (cap === undefined) {
      this.capRecords.push({ atMs: now, bytes, dropped: false, capKbps: undefined, numCodebooks, numFrames });
      return 0;
    }
    const start = Math.max(now, this.#capFreeAtMs);
    const wait = start - now;
    const dropped = wait > (this.impairments.capQueueMs ?? 200);
    this.capRecords.push({ atMs: now, bytes, dropped, capKbps: cap, numCodebooks, numFrames });
    if (dropped) return undefined;
    this.#capFreeAtMs = start + (bytes * 8) / cap; // kbit/s = bit/ms
    return this.#capFreeAtMs - now;
  }

  /** Binds an ephemeral loopback port that forwards to `127.0.0.1:targetPort`. */
  static async start(targetPort: number, impairments: Impairments): Promise<ImpairmentRelay> {
    const socket = createSocket("udp4");
    const out = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => out.bind(0, "127.0.0.1", resolve));
    return new ImpairmentRelay(socket, out, socket.address().port, targetPort, impairments);
  }

  /** Copies sent on to the target so far. */
  get forwarded(): number {
    return this.#forwarded;
  }

  #onMessage(bytes: Buffer): void {
    const imp = this.impairments;
    const rnd = this.#random;
    if (imp.capture === true) this.datagrams.push(new Uint8Array(bytes));
    // Every decision draws the same number of values, so a fate depends only on the seed and the index.
    const [drop, reorder, dup, jitterA, jitterB] = [rnd(), rnd(), rnd(), rnd(), rnd()];
    const header = bytes.length >= 24 ? new DataView(bytes.buffer, bytes.byteOffset, 24) : undefined;
    let lost: boolean;
    if (imp.burst !== undefined) {
      this.#bad = this.#bad ? drop >= imp.burst.toGood : drop < imp.burst.toBad;
      lost = this.#bad;
    } else lost = drop < imp.lossRate;
    const queued = lost ? undefined : this.#bottleneck(bytes);
    const dropped = queued === undefined;
    const reordered = !dropped && reorder < imp.reorderRate;
    const copies = dropped ? 0 : dup < imp.duplicateRate ? 2 : 1;
    this.records.push({
      seq: header?.getUint32(0) ?? -1,
      fragId: header?.getUint32(12) ?? -1,
      fragIndex: header?.getUint32(20) ?? -1,
      totalFrags: header?.getUint32(16) ?? -1,
      copies,
      reordered,
    });
    const extra = (reordered ? (imp.reorderDelayMs ?? 25) : 0) + (queued ?? 0);
    const delays = [jitterA * imp.maxJitterMs + extra, jitterB * imp.maxJitterMs + extra].slice(0, copies);
    const copy = Buffer.from(bytes);
    for (const delay of delays) {
      const timer = setTimeout(() => {
        this.#pending.delete(timer);
        this.#forwarded++;
        this.#out.send(copy, this.targetPort, "127.0.0.1", (error) => {
          if (error === null) this.onForwarded?.(copy);
        });
      }, delay);
      this.#pending.add(timer);
    }
  }

  /** Stops forwarding (pending copies are dropped) and closes the sockets. */
  async close(): Promise<void> {
    for (const timer of this.#pending) clearTimeout(timer);
    await Promise.all([new Promise<void>((r) => this.#socket.close(() => r())), new Promise<void>((r) => this.#out.close(() => r()))]);
  }
}

/** What the relay log says the receiver must have seen, for one stream whose last seq is known. */
export interface RelayExpectation {
  /** Sequence numbers with at least one fragment never forwarded. */
  readonly lostSeqs: ReadonlySet<number>;
  /** Copies forwarded beyond the first of each distinct datagram (same frag_id and index). */
  readonly duplicates: number;
  /** Copies forwarded in all. */
  readonly forwarded: number;
  /** Datagrams the relay dropped, held back, duplicated. */
  readonly dropped: number;
  readonly reordered: number;
  readonly duplicated: number;
}

/** Derives what the receiver must report from the relay's log (units 0 to `lastSeq`). */
export function expectFromRelay(records: readonly RelayRecord[], lastSeq: number): RelayExpectation {
  const frags = new Map<number, { total: number; got: Set<number> }>();
  const copiesOf = new Map<string, number>();
  let forwarded = 0;
  for (const r of records) {
    const entry = frags.get(r.seq) ?? { total: r.totalFrags, got: new Set<number>() };
    frags.set(r.seq, entry);
    if (r.copies > 0) entry.got.add(r.fragIndex);
    const key = `${r.fragId}/${r.fragIndex}`;
    copiesOf.set(key, (copiesOf.get(key) ?? 0) + r.copies);
    forwarded += r.copies;
  }
  const lostSeqs = new Set<number>();
  for (let seq = 0; seq <= lastSeq; seq++) {
    const entry = frags.get(seq);
    if (entry === undefined || entry.got.size < entry.total) lostSeqs.add(seq);
  }
  let duplicates = 0;
  for (const n of copiesOf.values()) duplicates += Math.max(0, n - 1);
  return {
    lostSeqs,
    duplicates,
    forwarded,
    dropped: records.filter((r) => r.copies === 0).length,
    reordered: records.filter((r) => r.reordered).length,
    duplicated: records.filter((r) => r.copies === 2).length,
  };
}

/** A path capped for a while, for {@link runUnderCap}. */
export interface CapSchedule {
  /** The cap, kbps of whole datagrams (a 200 ms drop-tail queue behind it). */
  readonly capKbps: number;
  /** When the cap starts and lifts, ms after the first datagram. */
  readonly capAtMs: number;
  readonly liftAtMs: number;
}

/**
 * receive ← relay ← send, real processes, with no impairment but a cap on the path from
 * `capAtMs` to `liftAtMs` after the sender's first datagram (the receiver's reports go back
 * uncapped). `sendArgs` follow `send … --port <relay>`. Returns once both processes have exited
 * (waiting up to 60 s each), with their exit codes; the relay is closed, its records kept.
 */
export async function runUnderCap(receiveArgs: readonly string[], sendArgs: readonly string[], schedule: CapSchedule): Promise<{ relay: ImpairmentRelay; sender: CliProcess; receiver: CliProcess; sendCode: number | null; receiveCode: number | null }> {
  const { receiver, port } = await startReceiver([...receiveArgs]);
  const relay = await ImpairmentRelay.start(port, { seed: 1, lossRate: 0, reorderRate: 0, duplicateRate: 0, maxJitterMs: 0, capQueueMs: 200 });
  try {
    const sender = await CliProcess.start(["send", ...sendArgs, "--port", String(relay.port)]);
    // the clock starts with the first datagram
    while (relay.capRecords.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = relay.capRecords[0]!.atMs;
    const capTimer = setTimeout(() => relay.setCapKbps(schedule.capKbps), Math.max(0, t0 + schedule.capAtMs - performance.now()));
    const liftTimer = setTimeout(() => relay.setCapKbps(undefined), Math.max(0, t0 + schedule.liftAtMs - performance.now()));
    const [sendCode, receiveCode] = await Promise.all([sender.finish(60_000), receiver.finish(60_000)]);
    clearTimeout(capTimer);
    clearTimeout(liftTimer);
    return { relay, sender, receiver, sendCode, receiveCode };
  } finally {
    await relay.close();
  }
}
