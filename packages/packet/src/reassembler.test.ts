import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { HEADER_BYTES } from "./constants.js";
import type { PacketErrorCode } from "./errors.js";
import { splitIntoFragments } from "./fragmenter.js";
import { encodePacket, type PacketHeader } from "./packet-header.js";
import { Reassembler, type PushResult, type ReassembledMessage } from "./reassembler.js";

function frameOf(length: number, salt = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 13 + salt) & 0xff);
}

function completed(result: PushResult): ReassembledMessage {
  if (result.status !== "complete") throw new Error(`expected a complete message, got ${result.status}`);
  return result.message;
}

describe("Reassembler: delivery", () => {
  test("a single-fragment frame completes at once, in a copy the caller owns", () => {
    const reassembler = new Reassembler();
    const [datagram] = splitIntoFragments(frameOf(50), { seq: 3, fragId: 30, hasOverlap: true });
    const message = completed(reassembler.push(datagram!, 0));
    expect(message).toEqual({ seq: 3, hasOverlap: true, fragId: 30, payload: frameOf(50) });
    datagram!.fill(0);
    expect(message.payload).toEqual(frameOf(50));
    expect(reassembler.heldMessages).toBe(0);
  });

  test("a zero-length frame is delivered with an empty payload", () => {
    const reassembler = new Reassembler();
    const datagrams = splitIntoFragments(new Uint8Array(0), { seq: 9, fragId: 90 });
    expect(datagrams).toHaveLength(1);
    expect(completed(reassembler.push(datagrams[0]!, 0)).payload).toEqual(new Uint8Array(0));
  });

  test.each([
    ["in order", [0, 1, 2, 3]],
    ["reversed (the short last fragment first)", [3, 2, 1, 0]],
    ["interleaved", [2, 0, 3, 1]],
  ])("a 4-fragment frame %s: accepted, accepted, accepted, complete", (_name, order) => {
    const frame = frameOf(3 * 196 + 17, 5);
    const datagrams = splitIntoFragments(frame, { seq: 11, fragId: 110 });
    const reassembler = new Reassembler();
    const statuses = order.map((i) => reassembler.push(datagrams[i]!, 0).status);
    expect(statuses).toEqual(["accepted", "accepted", "accepted", "complete"]);
    expect(reassembler.stats).toEqual({ received: 4, completed: 1, duplicate: 0, malformed: 0, expired: 0, refused: 0 });
    expect(reassembler.heldBytes).toBe(0);
  });

  test("the payload is the frame, whatever the order", () => {
    const frame = frameOf(1_000, 1);
    const datagrams = splitIntoFragments(frame, { seq: 1, fragId: 1, mtuBytes: 100 });
    const reassembler = new Reassembler();
    const results = [...datagrams].reverse().map((d) => reassembler.push(d, 0));
    expect(completed(results.at(-1)!).payload).toEqual(frame);
  });

  test("messages interleave by frag_id", () => {
    const a = splitIntoFragments(frameOf(400, 1), { seq: 1, fragId: 100 });
    const b = splitIntoFragments(frameOf(300, 2), { seq: 2, fragId: 200 });
    const reassembler = new Reassembler();
    const seen = [a[0], b[1], a[2], b[0], a[1]].map((d) => reassembler.push(d!, 0));
    expect(seen.map((r) => r.status)).toEqual(["accepted", "accepted", "accepted", "complete", "complete"]);
    expect(completed(seen[3]!)).toMatchObject({ seq: 2, fragId: 200, payload: frameOf(300, 2) });
    expect(completed(seen[4]!)).toMatchObject({ seq: 1, fragId: 100, payload: frameOf(400, 1) });
  });

  test("the datagram may be reused by the caller right after push", () => {
    const datagrams = splitIntoFragments(frameOf(300), { seq: 1, fragId: 1 });
    const reassembler = new Reassembler();
    const scratch = new Uint8Array(220);
    scratch.set(datagrams[0]!);
    expect(reassembler.push(scratch.subarray(0, datagrams[0]!.length), 0).status).toBe("accepted");
    scratch.fill(0xff);
    const message = completed(reassembler.push(datagrams[1]!, 0));
    expect(message.payload).toEqual(frameOf(300));
  });
});

describe("Reassembler: duplicates", () => {
  test("a fragment seen twice is counted once and the message delivered once", () => {
    const datagrams = splitIntoFragments(frameOf(500), { seq: 1, fragId: 5 });
    const reassembler = new Reassembler();
    const statuses = [0, 0, 1, 1, 2, 2, 0].map((i) => reassembler.push(datagrams[i]!, 0).status);
    expect(statuses).toEqual(["accepted", "duplicate", "accepted", "duplicate", "complete", "duplicate", "duplicate"]);
    expect(reassembler.stats).toMatchObject({ received: 7, completed: 1, duplicate: 4 });
    expect(reassembler.heldMessages).toBe(0);
  });

  test("a repeated single-fragment datagram is a duplicate", () => {
    const [datagram] = splitIntoFragments(frameOf(10), { seq: 1, fragId: 5 });
    const reassembler = new Reassembler();
    expect(reassembler.push(datagram!, 0).status).toBe("complete");
    expect(reassembler.push(datagram!, 0).status).toBe("duplicate");
  });

  test("completed frag_ids are remembered only `completedHistory` messages back", () => {
    const reassembler = new Reassembler({ completedHistory: 2 });
    const one = (fragId: number) => splitIntoFragments(frameOf(300), { seq: fragId, fragId });
    const first = one(1);
    reassembler.push(first[0]!, 0);
    reassembler.push(first[1]!, 0);
    expect(reassembler.push(first[0]!, 0).status).toBe("duplicate");
    for (const fragId of [2, 3]) for (const d of one(fragId)) reassembler.push(d, 0);
    // frag_id 1 has been forgotten: its late copy starts a new message that never completes.
    expect(reassembler.push(first[0]!, 0).status).toBe("accepted");
    expect(reassembler.heldMessages).toBe(1);
  });

  test("completedHistory 0 remembers nothing", () => {
    const [datagram] = splitIntoFragments(frameOf(10), { seq: 1, fragId: 5 });
    const reassembler = new Reassembler({ completedHistory: 0 });
    expect(reassembler.push(datagram!, 0).status).toBe("complete");
    expect(reassembler.push(datagram!, 0).status).toBe("complete");
  });
});

/** A datagram built field by field, bypassing the fragmenter's own consistency. */
function datagram(fields: Partial<PacketHeader>, payloadBytes: number): Uint8Array {
  const header: PacketHeader = {
    seqNum: 1,
    totalLength: 400,
    hasOverlap: false,
    fragId: 77,
    totalFrags: 3,
    fragIndex: 0,
    ...fields,
  };
  return encodePacket(header, frameOf(payloadBytes));
}

describe("Reassembler: malformed datagrams are dropped and counted", () => {
  const truncated = datagram({}, 196).subarray(0, 20);
  const badOverlap = datagram({}, 196);
  badOverlap[11] = 2; // has_overlap = 2
  test.each<[string, PacketErrorCode, Uint8Array]>([
    ["20 bytes", "truncated", truncated],
    ["has_overlap = 2", "bad-field", badOverlap],
    ["total_length above maxMessageBytes (1000)", "too-large", datagram({ totalLength: 1001, totalFrags: 6 }, 196)],
    ["a non-final fragment too small to reach total_length", "bad-length", datagram({}, 100)],
    ["a non-final fragment so large the last would be empty", "bad-length", datagram({}, 200)],
    ["a final fragment leaving a fractional stride", "bad-length", datagram({ fragIndex: 2 }, 7)],
    ["a final fragment larger than the stride it implies", "bad-length", datagram({ fragIndex: 2 }, 200)],
  ])("%s is dropped as %s", (_name, reason, bytes) => {
    const reassembler = new Reassembler({ maxMessageBytes: 1_000 });
    expect(reassembler.push(bytes, 0)).toEqual({ status: "malformed", reason });
    expect(reassembler.stats).toEqual({ received: 1, completed: 0, duplicate: 0, malformed: 1, expired: 0, refused: 0 });
    expect(reassembler.heldBytes).toBe(0);
  });

  test.each<[string, Partial<PacketHeader>, number, PacketErrorCode]>([
    ["another seq_num", { seqNum: 2, fragIndex: 1 }, 196, "inconsistent"],
    ["another has_overlap", { hasOverlap: true, fragIndex: 1 }, 196, "inconsistent"],
    ["another total_length", { totalLength: 401, fragIndex: 1 }, 196, "inconsistent"],
    ["another total_frags", { totalFrags: 4, fragIndex: 1 }, 100, "inconsistent"],
    ["a single-fragment message with the same frag_id", { totalFrags: 1, totalLength: 5 }, 5, "inconsistent"],
    ["a middle fragment of another size", { fragIndex: 1 }, 195, "bad-length"],
    ["a last fragment of the wrong size", { fragIndex: 2 }, 9, "bad-length"],
  ])("after a good first fragment, %s is dropped", (_name, fields, payloadBytes, reason) => {
    const reassembler = new Reassembler();
    expect(reassembler.push(datagram({}, 196), 0).status).toBe("accepted");
    expect(reassembler.push(datagram(fields, payloadBytes), 0)).toEqual({ status: "malformed", reason });
    // The message still completes from good fragments.
    expect(reassembler.push(datagram({ fragIndex: 1 }, 196), 0).status).toBe("accepted");
    expect(reassembler.push(datagram({ fragIndex: 2 }, 8), 0).status).toBe("complete");
    expect(reassembler.stats.malformed).toBe(1);
  });

  test("fragments of one frame cut at two MTUs do not mix", () => {
    const frame = frameOf(400);
    const at220 = splitIntoFragments(frame, { seq: 1, fragId: 1 });
    const at120 = splitIntoFragments(frame, { seq: 1, fragId: 1, mtuBytes: 120 });
    const reassembler = new Reassembler();
    expect(reassembler.push(at220[0]!, 0).status).toBe("accepted");
    expect(reassembler.push(at120[1]!, 0)).toEqual({ status: "malformed", reason: "inconsistent" });
  });

  test("push never throws on bad bytes but refuses a non-Uint8Array", () => {
    const reassembler = new Reassembler();
    expect(() => reassembler.push("x" as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe("Reassembler: bounded memory", () => {
  test("an incomplete message expires by age, on push or on expire()", () => {
    let now = 1_000;
    const reassembler = new Reassembler({ maxAgeMs: 100, clock: () => now });
    const a = splitIntoFragments(frameOf(300), { seq: 1, fragId: 1 });
    expect(reassembler.push(a[0]!).status).toBe("accepted");
    expect(reassembler.heldBytes).toBe(300 + 2);
    now = 1_099;
    expect(reassembler.expire()).toBe(0);
    now = 1_100;
    expect(reassembler.expire()).toBe(1);
    expect(reassembler.heldMessages).toBe(0);
    expect(reassembler.heldBytes).toBe(0);
    // Its last fragment now starts a new message, itself expired by a later push.
    expect(reassembler.push(a[1]!).status).toBe("accepted");
    const [other] = splitIntoFragments(frameOf(5), { seq: 2, fragId: 2 });
    expect(reassembler.push(other!, 1_300).status).toBe("complete");
    expect(reassembler.stats).toMatchObject({ expired: 2, completed: 1 });
    expect(reassembler.heldMessages).toBe(0);
  });

  test("starting a message past maxPendingMessages evicts the oldest, counted as expired", () => {
    const reassembler = new Reassembler({ maxPendingMessages: 2 });
    const messages = [1, 2, 3].map((fragId) => splitIntoFragments(frameOf(300, fragId), { seq: fragId, fragId }));
    for (const m of messages) expect(reassembler.push(m[0]!, 0).status).toBe("accepted");
    expect(reassembler.heldMessages).toBe(2);
    expect(reassembler.stats.expired).toBe(1);
    // 2 and 3 complete; 1 was evicted and its second half starts over.
    expect(completed(reassembler.push(messages[1]![1]!, 0)).payload).toEqual(frameOf(300, 2));
    expect(completed(reassembler.push(messages[2]![1]!, 0)).payload).toEqual(frameOf(300, 3));
    expect(reassembler.push(messages[0]![1]!, 0).status).toBe("accepted");
  });

  test("a flood of fragments claiming maximal messages stays under the bound", () => {
    const maxMessageBytes = 4_096;
    const maxPendingMessages = 8;
    const reassembler = new Reassembler({ maxMessageBytes, maxPendingMessages });
    for (let fragId = 0; fragId < 1_000; fragId++) {
      // 4096 one-byte fragments claimed by a 25-byte datagram: the worst case per datagram.
      const result = reassembler.push(datagram({ fragId, totalLength: 4_096, totalFrags: 4_096 }, 1), 0);
      expect(result.status).toBe("accepted");
      expect(reassembler.heldBytes).toBeLessThanOrEqual(maxPendingMessages * 2 * maxMessageBytes);
    }
    expect(reassembler.heldMessages).toBe(maxPendingMessages);
    expect(reassembler.heldBytes).toBe(maxPendingMessages * 2 * 4_096);
    expect(reassembler.stats.expired).toBe(1_000 - maxPendingMessages);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ["maxMessageBytes 0", { maxMessageBytes: 0 }, /^maxMessageBytes/],
    ["maxPendingMessages 0", { maxPendingMessages: 0 }, /^maxPendingMessages/],
    ["maxAgeMs 0", { maxAgeMs: 0 }, /^maxAgeMs/],
    ["maxAgeMs NaN", { maxAgeMs: Number.NaN }, /^maxAgeMs/],
    ["completedHistory -1", { completedHistory: -1 }, /^completedHistory/],
  ])("RangeError for %s", (_name, options, message) => {
    expect(() => new Reassembler(options)).toThrow(RangeError);
    expect(() => new Reassembler(options)).toThrow(message);
  });

  test("maxAgeMs Infinity never expires by age", () => {
    const reassembler = new Reassembler({ maxAgeMs: Number.POSITIVE_INFINITY });
    reassembler.push(splitIntoFragments(frameOf(300), { seq: 1, fragId: 1 })[0]!, 0);
    expect(reassembler.expire(Number.MAX_VALUE)).toBe(0);
    expect(reassembler.heldMessages).toBe(1);
  });
});

interface Scenario {
  readonly frames: { frame: Uint8Array; seq: number; hasOverlap: boolean; mtuBytes: number }[];
  /** Per frame, per fragment: how many copies arrive (0 = dropped). */
  readonly copies: number[][];
  /** A sort key per pushed copy, to shuffle the arrival order. */
  readonly order: number[];
}

const scenario: fc.Arbitrary<Scenario> = fc
  .array(
    fc.record({
      frame: fc.uint8Array({ maxLength: 1_200 }),
      seq: fc.nat({ max: 0xffff_ffff }),
      hasOverlap: fc.boolean(),
      mtuBytes: fc.integer({ min: HEADER_BYTES + 1, max: 400 }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .chain((frames) => {
    const counts = frames.map((f) => (f.frame.length === 0 ? 1 : Math.ceil(f.frame.length / (f.mtuBytes - HEADER_BYTES))));
    // Mostly one copy, sometimes none (dropped) or two/three (duplicated).
    const copiesOf = fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 2, max: 3 }) });
    const copies = fc.tuple(...counts.map((n) => fc.array(copiesOf, { minLength: n, maxLength: n })));
    const pushes = 3 * counts.reduce((a, b) => a + b, 0);
    return fc.record({
      frames: fc.constant(frames),
      copies,
      order: fc.array(fc.double({ noNaN: true }), { minLength: pushes, maxLength: pushes }),
    });
  });

describe("Reassembler properties (seeded)", () => {
  test("split, then shuffled, duplicated and dropped fragments: complete frames once, the rest never", () => {
    fc.assert(
      fc.property(scenario, ({ frames, copies, order }) => {
        const arrivals: { frameIndex: number; datagram: Uint8Array }[] = [];
        frames.forEach((f, frameIndex) => {
          const datagrams = splitIntoFragments(f.frame, { seq: f.seq, fragId: frameIndex, hasOverlap: f.hasOverlap, mtuBytes: f.mtuBytes });
          datagrams.forEach((datagram, i) => {
            for (let c = 0; c < copies[frameIndex]![i]!; c++) arrivals.push({ frameIndex, datagram });
          });
        });
        const shuffled = arrivals
          .map((arrival, i) => ({ arrival, key: order[i]! }))
          .sort((x, y) => x.key - y.key)
          .map((x) => x.arrival);

        const reassembler = new Reassembler({ maxPendingMessages: 16 });
        const delivered = new Map<number, ReassembledMessage[]>();
        for (const { datagram } of shuffled) {
          const result = reassembler.push(datagram, 0);
          expect(result.status).not.toBe("malformed");
          if (result.status === "complete") {
            const list = delivered.get(result.message.fragId) ?? [];
            list.push(result.message);
            delivered.set(result.message.fragId, list);
          }
        }

        const whole = frames.map((_, i) => copies[i]!.every((n) => n > 0));
        const started = frames.map((_, i) => copies[i]!.some((n) => n > 0));
        const distinctPushed = copies.flat().filter((n) => n > 0).length;
        frames.forEach((f, i) => {
          if (!whole[i]) {
            expect(delivered.has(i)).toBe(false);
            return;
          }
          expect(delivered.get(i)).toEqual([{ seq: f.seq, hasOverlap: f.hasOverlap, fragId: i, payload: f.frame }]);
        });
        const incomplete = frames.filter((_, i) => started[i] && !whole[i]).length;
        expect(reassembler.stats).toEqual({
          received: arrivals.length,
          completed: whole.filter(Boolean).length,
          duplicate: arrivals.length - distinctPushed,
          malformed: 0,
          expired: 0,
          refused: 0,
        });
        expect(reassembler.heldMessages).toBe(incomplete);
        expect(reassembler.expire(1e12)).toBe(incomplete);
        expect(reassembler.stats.expired).toBe(incomplete);
        expect(reassembler.heldBytes).toBe(0);
      }),
      { seed: 0x5eed_0201, numRuns: 400 },
    );
  });
});
