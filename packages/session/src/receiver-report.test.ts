import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeReport, encodeReport, REPORT_BYTES, ReportBuilder, type ReceiverReport } from "./receiver-report.js";

const REPORT = Uint8Array.of(
  0x52, 0x52, // magic "RR"
  0x01, // version 1
  0x19, // loss fraction 25/256 (≈ 9.8 %)
  0xbe, 0xef, // stream id 0xbeef
  0x00, 0x07, // report 7
  0x00, 0x00, 0x00, 0x0c, // 12 units lost in all
  0x00, 0x00, 0x01, 0x2c, // highest seq 300
  0x00, 0x00, 0x13, 0x88, // jitter 5000 µs
  0x00, 0x01, 0x77, 0x00, // echoed timestamp 96000 samples
  0x00, 0x00, 0x07, 0xd0, // held 2000 µs
  0x00, 0x00, 0x03, 0xe8, // 1000 bytes received
  0x00, 0x03, 0xd0, 0x90, // over 250000 µs
);

describe("receiver report wire format", () => {
  const report: ReceiverReport = {
    streamId: 0xbeef,
    reportIndex: 7,
    lossFraction: 25 / 256,
    cumulativeLost: 12,
    highestSeq: 300,
    jitterMs: 5,
    echoTimestamp: 96_000,
    echoDelayMs: 2,
    bytesReceived: 1000,
    intervalMs: 250,
  };

  test("byte layout both ways", () => {
    expect(REPORT.length).toBe(REPORT_BYTES);
    expect(encodeReport(report)).toEqual(REPORT);
    expect(decodeReport(REPORT)).toEqual(report);
  });

  test.each([
    ["too short", REPORT.subarray(0, 35)],
    ["too long", Uint8Array.of(...REPORT, 0)],
    ["bad magic", Uint8Array.of(0x52, 0x53, ...REPORT.subarray(2))],
    ["version 2", Uint8Array.of(0x52, 0x52, 0x02, ...REPORT.subarray(3))],
    ["empty", new Uint8Array(0)],
  ])("%s → not a report (null, never an error)", (_, bytes) => {
    expect(decodeReport(bytes)).toBeNull();
  });

  test("any 36 bytes decode to null or to a report that re-encodes to the same bytes (fast-check)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 36, maxLength: 36 }), fc.boolean(), (bytes, valid) => {
        if (valid) bytes.set([0x52, 0x52, 0x01]);
        const r = decodeReport(bytes);
        if (r === null) return;
        expect(encodeReport(r)).toEqual(bytes);
      }),
      { seed: 5, numRuns: 500 },
    );
  });

  test("misuse throws RangeError naming the field", () => {
    expect(() => encodeReport({ ...report, streamId: 70_000 })).toThrow(/^streamId/);
    expect(() => encodeReport({ ...report, lossFraction: 2 })).toThrow(/^lossFraction/);
  });
});

describe("ReportBuilder", () => {
  test("loss per interval and cumulative, highest seq, echo and receive bytes (RFC 3550 counting)", () => {
    const b = new ReportBuilder(9, 0);
    expect(b.started).toBe(false);
    for (const seq of [0, 1, 2, 4, 5]) b.onUnit(seq, seq * 320, 10 * seq);
    b.onDatagram(100);
    b.onDatagram(50);
    const r1 = b.take(60, 1.5);
    expect(r1).toMatchObject({ streamId: 9, reportIndex: 0, lossFraction: 1 / 6, cumulativeLost: 1, highestSeq: 5, jitterMs: 1.5, echoTimestamp: 1600, echoDelayMs: 10, bytesReceived: 150, intervalMs: 60 });
    b.onUnit(3, 960, 70); // late, but received: this interval expects 4 (6–9) and got 3 (3, 6, 9)
    for (const seq of [6, 9]) b.onUnit(seq, seq * 320, 80);
    const r2 = b.take(100, undefined);
    expect(r2).toMatchObject({ reportIndex: 1, cumulativeLost: 2, highestSeq: 9, lossFraction: 0.25, bytesReceived: 0, intervalMs: 40 });
    b.onUnit(7, 7 * 320, 110);
    b.onUnit(8, 8 * 320, 120); // both late: more received than expected this interval → 0, not negative
    const r3 = b.take(200, undefined);
    expect(r3).toMatchObject({ lossFraction: 0, cumulativeLost: 0, echoTimestamp: 8 * 320, echoDelayMs: 80 });
    expect(Math.round(decodeReport(encodeReport(r1))!.lossFraction * 256)).toBe(42);
  });

  test("sequence numbers wrap", () => {
    const b = new ReportBuilder(1, 0);
    for (const seq of [0xffff_fffe, 0xffff_ffff, 1]) b.onUnit(seq, null, 0);
    expect(b.take(1, undefined)).toMatchObject({ highestSeq: 1, cumulativeLost: 1 });
  });
});
