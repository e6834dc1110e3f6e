import { describe, expect, test } from "vitest";
import { JitterBuffer, type PopResult } from "./jitter-buffer.js";

/** Compact form of pop results: frame seq as a number, "m<seq>" for missing, "-" for empty. */
function show(r: PopResult<string>): number | string {
  if (r.kind === "frame") {
    expect(r.frame).toBe(`f${r.seq}`);
    return r.seq;
  }
  return r.kind === "missing" ? `m${r.seq}` : "-";
}

function pushAll(buf: JitterBuffer<string>, seqs: number[]): string[] {
  return seqs.map((s) => buf.push(s, `f${s}`));
}

function popN(buf: JitterBuffer<string>, n: number, draining = false): (number | string)[] {
  return Array.from({ length: n }, () => show(buf.pop({ draining })));
}

function expectIdentities(buf: JitterBuffer<unknown>): void {
  const s = buf.stats;
  expect(s.received).toBe(s.accepted + s.late + s.duplicate + s.tooFarAhead);
  expect(s.accepted).toBe(s.delivered + s.discarded + s.heldFrames);
  expect(s.lost).toBeLessThanOrEqual(s.missing);
}

describe("prefill and playout", () => {
  test("waits for prefillFrames of depth, then plays in order", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 3 });
    expect(buf.state).toBe("idle");
    expect(buf.playoutSeq).toBeUndefined();
    expect(buf.pop()).toEqual({ kind: "empty" });
    expect(pushAll(buf, [10, 11])).toEqual(["accepted", "accepted"]);
    expect(buf.state).toBe("prefilling");
    expect(popN(buf, 2)).toEqual(["-", "-"]); // waiting is not an underrun
    expect(buf.push(12, "f12")).toBe("accepted");
    expect(buf.state).toBe("playing");
    expect(buf.stats.depthFrames).toBe(3);
    expect(popN(buf, 3)).toEqual([10, 11, 12]);
    expect(buf.stats.underruns).toBe(0);
    expectIdentities(buf);
  });

  test("depth counts holes: a gap fills the prefill as time passes at the sender", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 4 });
    pushAll(buf, [0, 3]);
    expect(buf.stats).toMatchObject({ depthFrames: 4, heldFrames: 2 });
    expect(buf.state).toBe("playing");
    expect(popN(buf, 4)).toEqual([0, "m1", "m2", 3]);
  });

  test("the defaults: capacity 16, prefill 8", () => {
    const buf = new JitterBuffer<string>();
    pushAll(buf, [0, 1, 2, 3, 4, 5, 6]);
    expect(buf.state).toBe("prefilling");
    buf.push(7, "f7");
    expect(buf.state).toBe("playing");
    expect(buf.push(16, "f16")).toBe("too-far-ahead"); // window is [0, 16)
    expect(buf.push(15, "f15")).toBe("accepted");
  });

  test("pop hands back the very object that was pushed", () => {
    const buf = new JitterBuffer<Uint8Array>({ prefillFrames: 1 });
    const payload = new Uint8Array([1, 2, 3]);
    buf.push(9, payload);
    const r = buf.pop();
    expect(r.kind === "frame" && r.frame).toBe(payload);
  });
});

describe("reordering, duplicates, loss, lateness", () => {
  test("an earlier frame arriving during the first prefill moves the start back", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 3 });
    expect(pushAll(buf, [3, 1, 2])).toEqual(["accepted", "accepted", "accepted"]);
    expect(buf.playoutSeq).toBe(1);
    expect(popN(buf, 4)).toEqual([1, 2, 3, "-"]);
  });

  test("reordered frames inside the window come out in order", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 1 });
    buf.push(0, "f0");
    expect(pushAll(buf, [4, 2, 1, 3])).toEqual(["accepted", "accepted", "accepted", "accepted"]);
    expect(popN(buf, 6)).toEqual([0, 1, 2, 3, 4, "-"]);
  });

  test("duplicates are reported while held and after being played", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 2 });
    expect(pushAll(buf, [5, 5, 6])).toEqual(["accepted", "duplicate", "accepted"]);
    expect(popN(buf, 1)).toEqual([5]);
    expect(buf.push(5, "f5")).toBe("duplicate"); // played already: still a duplicate, not late
    expect(buf.stats).toMatchObject({ received: 4, accepted: 2, duplicate: 2, late: 0 });
    expectIdentities(buf);
  });

  test("a hole is played as missing; its packet arriving later is late and no longer lost", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 2 });
    pushAll(buf, [0, 1, 3, 4]);
    expect(popN(buf, 3)).toEqual([0, 1, "m2"]);
    expect(buf.stats).toMatchObject({ missing: 1, lost: 1 });
    expect(buf.push(2, "f2")).toBe("late");
    expect(buf.stats).toMatchObject({ missing: 1, lost: 0, late: 1 });
    expect(buf.push(2, "f2")).toBe("duplicate"); // a second copy of the late packet
    expect(popN(buf, 3)).toEqual([3, 4, "-"]);
    expectIdentities(buf);
  });

  test("peekHeld shows the next frame held past a hole without taking it", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 2 });
    expect(buf.peekHeld()).toBeUndefined();
    pushAll(buf, [0, 1, 4]);
    expect(buf.peekHeld()).toEqual({ seq: 0, frame: "f0" });
    expect(popN(buf, 3)).toEqual([0, 1, "m2"]);
    expect(buf.peekHeld()).toEqual({ seq: 4, frame: "f4" });
    expect(popN(buf, 2)).toEqual(["m3", 4]);
    expect(buf.peekHeld()).toBeUndefined();
    expect(buf.stats).toMatchObject({ delivered: 3, heldFrames: 0 });
    // across the wrap
    const wrap = new JitterBuffer<string>({ capacity: 8, prefillFrames: 1 });
    pushAll(wrap, [0xffff_fffe, 1]);
    expect(popN(wrap, 1)).toEqual([0xffff_fffe]);
    expect(wrap.peekHeld()).toEqual({ seq: 1, frame: "f1" });
    expectIdentities(buf);
  });

  test("too-far-ahead while playing, accepted once the window reaches it", () => {
    const buf = new JitterBuffer<string>({ capacity: 4, prefillFrames: 1 });
    buf.push(0, "f0");
    expect(buf.push(4, "f4")).toBe("too-far-ahead");
    expect(buf.push(3, "f3")).toBe("accepted");
    expect(popN(buf, 1)).toEqual([0]);
    expect(buf.push(4, "f4")).toBe("accepted");
    expect(popN(buf, 5)).toEqual(["m1", "m2", 3, 4, "-"]);
    expect(buf.stats).toMatchObject({ tooFarAhead: 1, lost: 2 });
    expectIdentities(buf);
  });
});

describe("wrap-around at 2^32", () => {
  test("a stream starting at 2^32 - 5 plays through 0 with a loss and a reorder", () => {
    const start = 0xffff_fffb;
    const buf = new JitterBuffer<string>({ capacity: 16, prefillFrames: 3 });
    // sent: fffffffb fffffffc fffffffd fffffffe ffffffff 0 1 2 3; lost: 0; reordered: 1 before ffffffff
    const arrivals = [start, start + 1, start + 2, start + 3, 1, 0xffff_ffff, 2, 3];
    expect(pushAll(buf, arrivals).every((r) => r === "accepted")).toBe(true);
    expect(popN(buf, 10, true)).toEqual([
      0xffff_fffb, 0xffff_fffc, 0xffff_fffd, 0xffff_fffe, 0xffff_ffff, "m0", 1, 2, 3, "-",
    ]);
    expect(buf.stats).toMatchObject({ delivered: 8, lost: 1 });
  });

  test("late and duplicate detection work across the wrap", () => {
    const buf = new JitterBuffer<string>({ capacity: 4, prefillFrames: 2 });
    pushAll(buf, [0xffff_ffff, 1]);
    expect(popN(buf, 2)).toEqual([0xffff_ffff, "m0"]);
    expect(buf.push(0xffff_ffff, "dup")).toBe("duplicate");
    expect(buf.push(0, "f0")).toBe("late");
    expect(buf.push(5, "f5")).toBe("too-far-ahead"); // the window is [1, 5)
    expect(buf.push(4, "f4")).toBe("accepted");
  });
});

describe("underrun", () => {
  test("an empty buffer while playing counts one underrun and prefills again", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 3 });
    pushAll(buf, [0, 1, 2]);
    expect(popN(buf, 5)).toEqual([0, 1, 2, "-", "-"]);
    expect(buf.stats.underruns).toBe(1); // the second empty pop is prefilling, not a new underrun
    expect(buf.state).toBe("prefilling");
    expect(buf.playoutSeq).toBe(3);
    // 3 is lost; 5 then 4 arrive, then 6 completes the prefill from 4
    expect(pushAll(buf, [5, 4])).toEqual(["accepted", "accepted"]);
    expect(buf.state).toBe("prefilling");
    expect(buf.push(6, "f6")).toBe("accepted");
    expect(buf.state).toBe("playing");
    expect(popN(buf, 3)).toEqual([4, 5, 6]);
    expect(buf.push(3, "f3")).toBe("late"); // passed while prefilling
    expect(buf.stats).toMatchObject({ skipped: 1, lost: 0, underruns: 1, late: 1 });
    expectIdentities(buf);
  });

  test("a gap shorter than resyncThreshold after an underrun is skipped, not played as missing", () => {
    const buf = new JitterBuffer<string>({ capacity: 4, prefillFrames: 2, resyncThreshold: 16 });
    pushAll(buf, [0, 1]);
    expect(buf.push(10, "f10")).toBe("too-far-ahead"); // playing, window [0, 4)
    expect(popN(buf, 3)).toEqual([0, 1, "-"]);
    expect(pushAll(buf, [10, 11])).toEqual(["accepted", "accepted"]);
    expect(popN(buf, 3)).toEqual([10, 11, "-"]);
    expect(buf.stats).toMatchObject({ skipped: 8, missing: 0, underruns: 2, resyncs: 0 });
    expectIdentities(buf);
  });
});

describe("window slide while prefilling", () => {
  test("a packet beyond the window moves it up; frames below are discarded", () => {
    const buf = new JitterBuffer<string>({ capacity: 4, prefillFrames: 4 });
    pushAll(buf, [0, 1]);
    expect(buf.push(6, "f6")).toBe("accepted"); // window becomes [3, 7): 0 and 1 are discarded
    expect(buf.stats).toMatchObject({ discarded: 2, skipped: 1, heldFrames: 1 });
    expect(buf.playoutSeq).toBe(6);
    expect(pushAll(buf, [5, 3])).toEqual(["accepted", "accepted"]);
    expect(buf.state).toBe("playing");
    expect(popN(buf, 5)).toEqual([3, "m4", 5, 6, "-"]);
    expect(buf.push(0, "f0")).toBe("duplicate"); // received before, discarded
    expect(buf.push(2, "f2")).toBe("late");
    expect(buf.push(1, "f1")).toBe("duplicate");
    expectIdentities(buf);
  });

  test("an earlier frame cannot stretch the prefill beyond the capacity", () => {
    const buf = new JitterBuffer<string>({ capacity: 4, prefillFrames: 4 });
    pushAll(buf, [10, 12]);
    expect(buf.push(9, "f9")).toBe("accepted");
    expect(buf.push(8, "f8")).toBe("late"); // 8..12 would span 5 > capacity
  });
});

describe("resync", () => {
  test("three far packets ahead reset the buffer to the new sequence", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 2, resyncThreshold: 32 });
    pushAll(buf, [0, 1, 2, 3]);
    expect(popN(buf, 1)).toEqual([0]);
    expect(pushAll(buf, [70_001, 70_000, 70_002])).toEqual(["too-far-ahead", "too-far-ahead", "resync"]);
    expect(buf.state).toBe("prefilling");
    expect(buf.playoutSeq).toBe(70_002);
    expect(buf.push(70_000, "f70000")).toBe("accepted"); // a fresh start may still move back
    expect(buf.push(70_003, "f70003")).toBe("accepted");
    expect(popN(buf, 5)).toEqual([70_000, "m70001", 70_002, 70_003, "-"]);
    expect(buf.stats).toMatchObject({ resyncs: 1, discarded: 3, tooFarAhead: 2 });
    expect(buf.push(2, "f2")).toBe("late"); // a straggler from the old stream is far now
    expectIdentities(buf);
  });

  test("a sender restarting at 0 (behind) resyncs too", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 1 });
    pushAll(buf, [5000, 5001]);
    expect(popN(buf, 2)).toEqual([5000, 5001]);
    expect(pushAll(buf, [0, 1, 2, 3])).toEqual(["late", "late", "resync", "accepted"]);
    expect(popN(buf, 3)).toEqual([2, 3, "-"]);
    expect(buf.stats).toMatchObject({ resyncs: 1, late: 2, discarded: 0 });
  });

  test("far packets that disagree with one another do not resync", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 1 });
    buf.push(0, "f0");
    expect(pushAll(buf, [1000, 90_000, 1001, 3_000_000, 1002])).toEqual(Array(5).fill("too-far-ahead"));
    expect(buf.stats.resyncs).toBe(0);
  });

  test("a packet within the threshold breaks the run", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 1 });
    buf.push(0, "f0");
    expect(pushAll(buf, [1000, 1001, 1, 1002, 1003])).toEqual([
      "too-far-ahead",
      "too-far-ahead",
      "accepted",
      "too-far-ahead",
      "too-far-ahead",
    ]);
    expect(buf.push(1004, "f1004")).toBe("resync");
  });

  test("resyncPackets: 1 resyncs on the first far packet", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 1, resyncPackets: 1 });
    buf.push(0, "f0");
    expect(buf.push(0x8000_0000, `f${0x8000_0000}`)).toBe("resync"); // exactly half the space away is far too
    expect(popN(buf, 1)).toEqual([0x8000_0000]);
  });
});

describe("draining at end of stream", () => {
  test("plays everything held, prefilled or not, then empty without an underrun", () => {
    const buf = new JitterBuffer<string>({ capacity: 8, prefillFrames: 6 });
    pushAll(buf, [0, 2, 3]);
    expect(buf.pop()).toEqual({ kind: "empty" });
    expect(popN(buf, 6, true)).toEqual([0, "m1", 2, 3, "-", "-"]);
    expect(buf.stats).toMatchObject({ underruns: 0, delivered: 3, missing: 1, heldFrames: 0 });
    expect(buf.state).toBe("prefilling");
    expectIdentities(buf);
  });
});

describe("jitter estimate through the buffer", () => {
  test("undefined without frameDurationMs", () => {
    const buf = new JitterBuffer<string>();
    buf.push(0, "a", 0);
    buf.push(1, "b", 50);
    expect(buf.stats.jitterMs).toBeUndefined();
  });

  test("matches the RFC 3550 recurrence on a synthetic arrival pattern", () => {
    const buf = new JitterBuffer<string>({ frameDurationMs: 20, capacity: 8, prefillFrames: 4 });
    // transit times in ms per arrival; seq 3 arrives after seq 4 (reordered)
    const arrivals: [seq: number, transitMs: number][] = [
      [0, 30],
      [1, 34],
      [2, 30],
      [4, 30],
      [3, 50],
      [5, 30],
    ];
    for (const [seq, transitMs] of arrivals) buf.push(seq, `f${seq}`, seq * 20 + transitMs);
    // D is the change in transit time between consecutive arrivals: |D| = 4, 4, 0, 20, 20.
    // J: 0.25, 0.484375, 0.4541015625, 1.67572021484375, 2.820987701416016
    expect(buf.stats.jitterMs).toBeCloseTo(2.820987701416016, 12);
  });

  test("far packets are not sampled and a resync reseeds", () => {
    const buf = new JitterBuffer<string>({ frameDurationMs: 10, capacity: 4, resyncPackets: 2 });
    buf.push(0, "a", 1000);
    buf.push(1, "b", 1010); // D = 0
    buf.push(9000, "c", 1011); // far: ignored
    buf.push(9001, "d", 1020); // resync: reseeded, no sample
    expect(buf.stats.jitterMs).toBe(0);
    buf.push(9002, "e", 1046); // D = 26 - 10 = 16 -> 1
    expect(buf.stats.jitterMs).toBe(1);
  });
});

describe("argument checks", () => {
  test.each([
    ["capacity", { capacity: 0 }, RangeError],
    ["capacity", { capacity: 1.5 }, RangeError],
    ["capacity", { capacity: 65_537 }, RangeError],
    ["capacity", { capacity: "16" }, TypeError],
    ["prefillFrames", { prefillFrames: 0 }, RangeError],
    ["prefillFrames", { prefillFrames: 17 }, RangeError],
    ["prefillFrames", { capacity: 4, prefillFrames: 5 }, RangeError],
    ["resyncThreshold", { capacity: 8, resyncThreshold: 7 }, RangeError],
    ["resyncThreshold", { resyncThreshold: 2 ** 31 }, RangeError],
    ["resyncPackets", { resyncPackets: 0 }, RangeError],
    ["frameDurationMs", { frameDurationMs: 0 }, RangeError],
    ["frameDurationMs", { frameDurationMs: Number.NaN }, RangeError],
    ["frameDurationMs", { frameDurationMs: "20" }, TypeError],
    ["options", null, TypeError],
  ])("option %s: %j", (name, options, errorClass) => {
    const make = () => new JitterBuffer(options as never);
    expect(make).toThrow(errorClass);
    expect(make).toThrow(new RegExp(`^${name} must`));
  });

  test.each([
    ["seq", () => new JitterBuffer().push(-1, 0), RangeError],
    ["seq", () => new JitterBuffer().push(2 ** 32, 0), RangeError],
    ["seq", () => new JitterBuffer().push(1.5, 0), RangeError],
    ["seq", () => new JitterBuffer().push("1" as never, 0), TypeError],
    ["arrivalMs", () => new JitterBuffer().push(1, 0, Number.POSITIVE_INFINITY), RangeError],
    ["arrivalMs", () => new JitterBuffer().push(1, 0, "5" as never), TypeError],
    ["options", () => new JitterBuffer().pop("draining" as never), TypeError],
  ])("%s", (name, call, errorClass) => {
    expect(call).toThrow(errorClass);
    expect(call).toThrow(new RegExp(`^${name} must`));
  });

  test("a rejected argument leaves the counters alone", () => {
    const buf = new JitterBuffer();
    expect(() => buf.push(-1, 0)).toThrow();
    expect(buf.stats.received).toBe(0);
  });
});
