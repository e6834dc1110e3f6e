/*
 * Receiver reports: what the receiver tells the sender a few times a second, sent back to the
 * address the stream comes from, over the same transport. In the spirit of RTCP receiver
 * reports (RFC 3550 §6.4.1), with the echoed timestamp RTT scheme of its LSR/DLSR fields.
 * One datagram of REPORT_BYTES, all integers big-endian:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 2 | magic 0x52 0x52 ("RR") |
 * | 2 | 1 | version = 1 |
 * | 3 | 1 | loss fraction since the previous report: lost / expected × 256, 0–255 (RFC 3550's 8-bit fixed point) |
 * | 4 | 2 | stream id reported on (the high 16 bits of the stream's frag_id) |
 * | 6 | 2 | report counter (wraps at 2^16) |
 * | 8 | 4 | cumulative units lost, int32 (negative when duplicates outnumber losses, as in RFC 3550) |
 * | 12 | 4 | highest sequence number received |
 * | 16 | 4 | interarrival jitter (RFC 3550 §6.4.1), microseconds |
 * | 20 | 4 | echoed media timestamp: the `timestampSamples` of the last unit received |
 * | 24 | 4 | microseconds between that unit's arrival and this report (DLSR) |
 * | 28 | 4 | datagram bytes received (headers included) since the previous report |
 * | 32 | 4 | microseconds since the previous report |
 *
 * The sender's round-trip time: now − (when it sent the unit with the echoed timestamp) − DLSR.
 * A datagram that is not exactly a report (wrong size, magic, version) is dropped and counted.
 */

/** Bytes of a receiver report. */
export const REPORT_BYTES = 36;

/** First two bytes of every report ("RR"). */
export const REPORT_MAGIC = 0x5252;

/** The report format version. */
export const REPORT_VERSION = 1;

/** Milliseconds between receiver reports (4 a second). */
export const REPORT_INTERVAL_MS = 250;

/** A receiver report. */
export interface ReceiverReport {
  /** Stream id reported on. */
  readonly streamId: number;
  /** Counter of the receiver's reports (wraps at 2^16). */
  readonly reportIndex: number;
  /** Units lost since the previous report over units expected, 0 to 255/256 (quantized to 1/256). */
  readonly lossFraction: number;
  /** Units lost since the stream began (int32). */
  readonly cumulativeLost: number;
  /** Highest sequence number received. */
  readonly highestSeq: number;
  /** Interarrival jitter, ms (microsecond resolution). */
  readonly jitterMs: number;
  /** The media timestamp of the last unit received (samples, mod 2^32). */
  readonly echoTimestamp: number;
  /** Time between that unit's arrival and the report, ms (microsecond resolution). */
  readonly echoDelayMs: number;
  /** Datagram bytes received since the previous report. */
  readonly bytesReceived: number;
  /** Time covered since the previous report, ms (microsecond resolution). */
  readonly intervalMs: number;
}

const clampU32 = (v: number) => Math.max(0, Math.min(0xffff_ffff, Math.round(v)));

/**
 * Write a report.
 * @throws RangeError for a field out of its range (stream id, counter, loss fraction)
 */
export function encodeReport(report: ReceiverReport): Uint8Array {
  const { streamId, reportIndex, lossFraction } = report;
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff) throw new RangeError(`streamId must be an integer in [0, 65535], got ${streamId}`);
  if (!Number.isInteger(reportIndex) || reportIndex < 0 || reportIndex > 0xffff) throw new RangeError(`reportIndex must be an integer in [0, 65535], got ${reportIndex}`);
  if (!(lossFraction >= 0 && lossFraction <= 1)) throw new RangeError(`lossFraction must be in [0, 1], got ${lossFraction}`);
  const out = new Uint8Array(REPORT_BYTES);
  const v = new DataView(out.buffer);
  v.setUint16(0, REPORT_MAGIC, false);
  out[2] = REPORT_VERSION;
  out[3] = Math.min(255, Math.floor(lossFraction * 256));
  v.setUint16(4, streamId, false);
  v.setUint16(6, reportIndex, false);
  v.setInt32(8, Math.max(-0x8000_0000, Math.min(0x7fff_ffff, Math.round(report.cumulativeLost))), false);
  v.setUint32(12, report.highestSeq >>> 0, false);
  v.setUint32(16, clampU32(report.jitterMs * 1000), false);
  v.setUint32(20, report.echoTimestamp >>> 0, false);
  v.setUint32(24, clampU32(report.echoDelayMs * 1000), false);
  v.setUint32(28, clampU32(report.bytesReceived), false);
  v.setUint32(32, clampU32(report.intervalMs * 1000), false);
  return out;
}

/**
 * Read a report, or null when the bytes are not one (wrong length, magic or version): from the
 * network, never an error.
 */
export function decodeReport(bytes: Uint8Array): ReceiverReport | null {
  if (!(bytes instanceof Uint8Array) || bytes.length !== REPORT_BYTES) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, false) !== REPORT_MAGIC || bytes[2] !== REPORT_VERSION) return null;
  return {
    lossFraction: bytes[3]! / 256,
    streamId: v.getUint16(4, false),
    reportIndex: v.getUint16(6, false),
    cumulativeLost: v.getInt32(8, false),
    highestSeq: v.getUint32(12, false),
    jitterMs: v.getUint32(16, false) / 1000,
    echoTimestamp: v.getUint32(20, false),
    echoDelayMs: v.getUint32(24, false) / 1000,
    bytesReceived: v.getUint32(28, false),
    intervalMs: v.getUint32(32, false) / 1000,
  };
}

/**
 * The receiver's side: counts the units of one stream as they arrive and makes a report when
 * asked. Loss is counted per unit (a message with any fragment missing is lost), from the highest
 * sequence number, as RFC 3550 does: expected = highest − first + 1, lost = expected − received.
 */
export class ReportBuilder {
  #first: number | undefined;
  #highest = 0;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #bytes = 0;
  #lastTimestamp = 0;
  #lastArrivalMs = 0;
  #lastReportMs: number;
  #index = 0;

  /** @param streamId the stream reported on; @param nowMs the start of the first interval (`performance.now()`) */
  constructor(readonly streamId: number, nowMs: number) {
    this.#lastReportMs = nowMs;
  }

  /** A datagram of the stream arrived (its bytes count toward the receive rate). */
  onDatagram(bytes: number): void {
    this.#bytes += bytes;
  }

  /** A whole unit arrived: its seq, its media timestamp (or null for a payload without one), and when. */
  onUnit(seq: number, timestampSamples: number | null, arrivalMs: number): void {
    if (this.#first === undefined) {
      this.#first = seq;
      this.#highest = seq;
    } else {
      const d = ((seq - this.#highest) | 0);
      if (d > 0) this.#highest = seq >>> 0;
    }
    this.#received++;
    if (timestampSamples !== null) {
      this.#lastTimestamp = timestampSamples;
      this.#lastArrivalMs = arrivalMs;
    }
  }

  /** Whether a unit has arrived (a report says nothing before). */
  get started(): boolean {
    return this.#first !== undefined;
  }

  /** The report for the interval since the previous one; starts the next interval. */
  take(nowMs: number, jitterMs: number | undefined): ReceiverReport {
    const expected = this.#first === undefined ? 0 : ((this.#highest - this.#first) >>> 0) + 1;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    const lostInterval = expectedInterval - receivedInterval;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const report: ReceiverReport = {
      streamId: this.streamId,
      reportIndex: this.#index,
      lossFraction: expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255 / 256, lostInterval / expectedInterval),
      cumulativeLost: expected - this.#received,
      highestSeq: this.#highest,
      jitterMs: jitterMs ?? 0,
      echoTimestamp: this.#lastTimestamp,
      echoDelayMs: Math.max(0, nowMs - this.#lastArrivalMs),
      bytesReceived: this.#bytes,
      intervalMs: Math.max(0, nowMs - this.#lastReportMs),
    };
    this.#index = (this.#index + 1) & 0xffff;
    this.#bytes = 0;
    this.#lastReportMs = nowMs;
    return report;
  }
}
