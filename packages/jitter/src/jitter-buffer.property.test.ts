import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { JitterBuffer, type PopResult, type PushResult } from "./jitter-buffer.js";

const NEAR_WRAP = 0xffff_fffb; // 2^32 - 5
const startArb = fc.oneof(
  fc.constant(NEAR_WRAP),
  fc.integer({ min: 0xffff_ff00, max: 0xffff_ffff }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);

interface Packet {
  readonly index: number; // position in the sent stream
  readonly copy: number; // 0 = original, 1 = duplicate
  readonly key: number; // arrival order key: index + delay
}

/**
 * A sent stream of `n` frames with drops (never the first, at most `maxDropRun` in a row),
 * duplicates, and bounded reordering: every copy arrives with a delay of at most `maxDelay`
 * positions, so a frame is never overtaken by one sent more than `maxDelay` after it.
 */
const MAX_DROP_RUN = 6;
const streamArb = fc
  .record({
    start: startArb,
    maxDelay: fc.integer({ min: 0, max: 4 }),
    frames: fc.array(
      fc.record({
        dropRoll: fc.integer({ min: 0, max: 99 }),
        dupRoll: fc.integer({ min: 0, max: 99 }),
        delay: fc.nat(),
        dupDelay: fc.nat(),
      }),
      { minLength: 1, maxLength: 300 },
    ),
  })
  .map(({ start, maxDelay, frames }) => {
    const dropped: boolean[] = [];
    const packets: Packet[] = [];
    let run = 0;
    frames.forEach((f, index) => {
      const drop = index > 0 && f.dropRoll < 12 && run < MAX_DROP_RUN;
      run = drop ? run + 1 : 0;
      dropped.push(drop);
      if (drop) return;
      // The first frame arrives first (it sets the start; prefill is 1 so playout begins at once).
      const delay = index === 0 ? 0 : f.delay % (maxDelay + 1);
      packets.push({ index, copy: 0, key: index + delay });
      if (f.dupRoll < 8) packets.push({ index, copy: 1, key: index + (f.dupDelay % (maxDelay + 1)) });
    });
    // Stable order by key; the first frame (key 0, copy 0) stays first.
    packets.sort((a, b) => a.key - b.key || a.copy - b.copy || a.index - b.index);
    return { start, maxDelay, dropped, packets };
  });

describe("JitterBuffer properties (seeded)", () => {
  test("bounded reordering with drops and duplicates: in order, exactly once, exact counts", () => {
    let reordered = 0;
    let duplicates = 0;
    let lost = 0;
    let wrapped = 0;
    fc.assert(
      fc.property(streamArb, ({ start, maxDelay, dropped, packets }) => {
        const buf = new JitterBuffer<{ seq: number; copy: number }>({ capacity: 16, prefillFrames: 1 });
        const out: PopResult<{ seq: number; copy: number }>[] = [];
        for (const p of packets) {
          const seq = (start + p.index) >>> 0;
          const r = buf.push(seq, { seq, copy: p.copy });
          expect(["accepted", "duplicate"]).toContain(r);
          // Play a frame only once every frame up to it has surely arrived (or was dropped).
          while (buf.stats.depthFrames > maxDelay + 1) out.push(buf.pop());
        }
        for (let r = buf.pop({ draining: true }); r.kind !== "empty"; r = buf.pop({ draining: true })) out.push(r);

        const lastReceived = dropped.lastIndexOf(false);
        expect(out.length).toBe(lastReceived + 1);
        out.forEach((r, i) => {
          const seq = (start + i) >>> 0;
          if (dropped[i]) {
            expect(r).toEqual({ kind: "missing", seq });
          } else {
            expect(r.kind).toBe("frame");
            expect(r.kind === "frame" && r.seq).toBe(seq);
            expect(r.kind === "frame" && r.frame.seq).toBe(seq);
          }
        });
        const droppedInRange = dropped.slice(0, lastReceived + 1).filter(Boolean).length;
        const unique = new Set(packets.map((p) => p.index)).size;
        expect(buf.stats).toMatchObject({
          received: packets.length,
          accepted: unique,
          delivered: unique,
          duplicate: packets.length - unique,
          missing: droppedInRange,
          lost: droppedInRange,
          late: 0,
          tooFarAhead: 0,
          skipped: 0,
          discarded: 0,
          underruns: 0,
          resyncs: 0,
          heldFrames: 0,
          depthFrames: 0,
        });
        reordered += packets.some((p, k) => k > 0 && p.index < (packets[k - 1] as Packet).index) ? 1 : 0;
        duplicates += packets.length - unique;
        lost += droppedInRange;
        wrapped += start + lastReceived > 0xffff_ffff ? 1 : 0;
      }),
      { seed: 20260101, numRuns: 300 },
    );
    expect(reordered).toBeGreaterThan(50);
    expect(duplicates).toBeGreaterThan(50);
    expect(lost).toBeGreaterThan(50);
    expect(wrapped).toBeGreaterThan(50);
  });

  type Op =
    | { kind: "push"; offset: number; copyOf: boolean }
    | { kind: "far"; offset: number }
    | { kind: "pop" }
    | { kind: "drain" };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("push" as const), offset: fc.integer({ min: -24, max: 40 }), copyOf: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("far" as const), offset: fc.integer({ min: -0x7fff_ffff, max: 0x7fff_ffff }) }) },
    { weight: 5, arbitrary: fc.constant({ kind: "pop" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "drain" as const }) },
  );
  const configArb = fc
    .record({ capacity: fc.integer({ min: 1, max: 24 }), prefillRoll: fc.nat(), thresholdExtra: fc.integer({ min: 0, max: 40 }), resyncPackets: fc.integer({ min: 1, max: 4 }) })
    .map(({ capacity, prefillRoll, thresholdExtra, resyncPackets }) => ({
      capacity,
      prefillFrames: 1 + (prefillRoll % capacity),
      resyncThreshold: capacity + thresholdExtra,
      resyncPackets,
    }));

  /**
   * Runs `ops` against a fresh buffer with every sequence number shifted by `base`; returns
   * what happened with sequence numbers shifted back, and checks invariants after every step.
   */
  function runChaos(config: ReturnType<typeof configArb.generate>["value"], ops: Op[], base: number) {
    type Frame = { seq: number; id: number };
    const buf = new JitterBuffer<Frame>(config);
    const pushed = new Set<number>();
    const deliveredIds = new Set<number>();
    const log: (string | number)[] = [];
    let cursor = 0; // stream position the sender is at, relative to base
    let lastOut: number | undefined; // last seq popped since the last resync
    let resyncs = 0;
    let id = 0;
    const push = (rel: number): PushResult => {
      const seq = (base + rel) >>> 0;
      const r = buf.push(seq, { seq, id: id++ });
      if (r === "duplicate") expect(pushed.has(seq)).toBe(true);
      if (r === "resync") {
        resyncs++;
        lastOut = undefined;
      }
      pushed.add(seq);
      return r;
    };
    for (const op of ops) {
      if (op.kind === "push") {
        cursor += op.copyOf ? 0 : 1;
        log.push(push(cursor + op.offset));
      } else if (op.kind === "far") {
        cursor += op.offset;
        log.push(push(cursor));
      } else {
        const before = buf.stats;
        const stateBefore = buf.state;
        const r = buf.pop({ draining: op.kind === "drain" });
        const after = buf.stats;
        if (r.kind === "empty") {
          log.push("-");
          // An underrun is an empty pop while playing; waiting during prefill or draining is not.
          const underrun = op.kind === "pop" && stateBefore === "playing";
          expect(after.underruns - before.underruns).toBe(underrun ? 1 : 0);
          if (underrun) expect(before.heldFrames).toBe(0);
        } else {
          const rel = (r.seq - base) | 0;
          log.push(r.kind === "frame" ? rel : `m${rel}`);
          if (lastOut !== undefined) expect((r.seq - lastOut) | 0).toBeGreaterThan(0);
          lastOut = r.seq;
          if (r.kind === "frame") {
            expect(r.frame.seq).toBe(r.seq);
            expect(deliveredIds.has(r.frame.id)).toBe(false);
            deliveredIds.add(r.frame.id);
            expect(after.delivered).toBe(before.delivered + 1);
          } else {
            expect(after.missing).toBe(before.missing + 1);
          }
          expect(after.underruns).toBe(before.underruns);
        }
      }
      const s = buf.stats;
      expect(s.received).toBe(s.accepted + s.late + s.duplicate + s.tooFarAhead);
      expect(s.accepted).toBe(s.delivered + s.discarded + s.heldFrames);
      expect(s.heldFrames).toBeLessThanOrEqual(s.depthFrames);
      expect(s.depthFrames).toBeLessThanOrEqual(config.capacity);
      expect(s.depthFrames === 0).toBe(s.heldFrames === 0);
      expect(s.lost).toBeGreaterThanOrEqual(0);
      expect(s.lost).toBeLessThanOrEqual(s.missing);
      expect(s.resyncs).toBe(resyncs);
    }
    while (buf.pop({ draining: true }).kind !== "empty") {
      // drain to the end
    }
    const s = buf.stats;
    expect(s.heldFrames).toBe(0);
    expect(s.accepted).toBe(s.delivered + s.discarded);
    return { log, stats: s };
  }

  test("any sequence of pushes, far jumps, pops and drains keeps the invariants", () => {
    const seen = { late: 0, duplicate: 0, tooFarAhead: 0, lost: 0, skipped: 0, discarded: 0, underruns: 0, resyncs: 0 };
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 300 }), startArb, (config, ops, base) => {
        const { stats } = runChaos(config, ops, base);
        for (const key of Object.keys(seen) as (keyof typeof seen)[]) seen[key] += stats[key];
      }),
      { seed: 424242, numRuns: 250 },
    );
    // The generated runs reach every path the counters stand for.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
  });

  test("behaviour does not depend on where the sequence numbers sit (wrap included)", () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 200 }), startArb, (config, ops, base) => {
        const a = runChaos(config, ops, 0);
        const b = runChaos(config, ops, base);
        expect(b.log).toEqual(a.log);
        expect(b.stats).toEqual(a.stats);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
