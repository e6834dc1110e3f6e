import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MTU_BYTES, HEADER_BYTES } from "./constants.js";
import { countFragments, splitIntoFragments } from "./fragmenter.js";
import { decodePacket } from "./packet-header.js";

function frameOf(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
}

describe("splitIntoFragments", () => {
  test("a 400-byte frame at the default MTU: 196 + 196 + 8 payload bytes", () => {
    const frame = frameOf(400);
    const datagrams = splitIntoFragments(frame, { seq: 7, fragId: 70, hasOverlap: true });
    expect(datagrams.map((d) => d.length)).toEqual([220, 220, 32]);
    // prettier-ignore
    expect(Array.from(datagrams[2]!.subarray(0, HEADER_BYTES))).toEqual([
      0x00, 0x00, 0x00, 0x07, // seq_num = 7
      0x00, 0x00, 0x01, 0x90, // total_length = 400
      0x00, 0x00, 0x00, 0x01, // has_overlap = 1
      0x00, 0x00, 0x00, 0x46, // frag_id = 70
      0x00, 0x00, 0x00, 0x03, // total_frags = 3
      0x00, 0x00, 0x00, 0x02, // frag_index = 2
    ]);
    const joined = datagrams.flatMap((d) => Array.from(decodePacket(d).payload));
    expect(joined).toEqual(Array.from(frame));
  });

  test.each([
    ["an empty frame", 0, [HEADER_BYTES]],
    ["a 1-byte frame", 1, [HEADER_BYTES + 1]],
    ["a frame of exactly one payload", DEFAULT_MAX_PAYLOAD_BYTES, [DEFAULT_MTU_BYTES]],
    ["one byte more than a payload", DEFAULT_MAX_PAYLOAD_BYTES + 1, [DEFAULT_MTU_BYTES, HEADER_BYTES + 1]],
  ])("%s (%d bytes) gives datagrams of %j bytes", (_name, length, sizes) => {
    const datagrams = splitIntoFragments(frameOf(length), { seq: 1, fragId: 2 });
    expect(datagrams.map((d) => d.length)).toEqual(sizes);
    expect(countFragments(length)).toBe(sizes.length);
    const first = decodePacket(datagrams[0]!).header;
    expect(first).toMatchObject({ totalLength: length, totalFrags: sizes.length, hasOverlap: false });
  });

  test("the smallest MTU (25) carries one byte a datagram", () => {
    const datagrams = splitIntoFragments(frameOf(5), { seq: 0, fragId: 0, mtuBytes: 25 });
    expect(datagrams.map((d) => decodePacket(d).header.fragIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(datagrams.every((d) => d.length === 25)).toBe(true);
  });

  test("the frame is copied: changing it afterwards leaves the datagrams alone", () => {
    const frame = frameOf(10);
    const [datagram] = splitIntoFragments(frame, { seq: 0, fragId: 0 });
    frame.fill(0);
    expect(decodePacket(datagram!).payload).toEqual(frameOf(10));
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ["mtuBytes = 24", { mtuBytes: 24 }, /^mtuBytes/],
    ["mtuBytes = 0", { mtuBytes: 0 }, /^mtuBytes/],
    ["fractional mtuBytes", { mtuBytes: 100.5 }, /^mtuBytes/],
    ["negative seq", { seq: -1 }, /^seq/],
    ["fragId 2^32", { fragId: 2 ** 32 }, /^fragId/],
    ["maxFragments 0", { maxFragments: 0 }, /^maxFragments/],
    ["too many fragments", { mtuBytes: 25, maxFragments: 9 }, /^frame of 10 bytes needs 10 fragments/],
  ])("RangeError for %s", (_name, change, message) => {
    const options = { seq: 1, fragId: 1, ...change } as Parameters<typeof splitIntoFragments>[1];
    expect(() => splitIntoFragments(frameOf(10), options)).toThrow(RangeError);
    expect(() => splitIntoFragments(frameOf(10), options)).toThrow(message);
  });

  test("exactly maxFragments fragments is allowed", () => {
    expect(splitIntoFragments(frameOf(10), { seq: 1, fragId: 1, mtuBytes: 25, maxFragments: 10 })).toHaveLength(10);
  });

  test("TypeError for a frame that is not a Uint8Array or a non-boolean hasOverlap", () => {
    expect(() => splitIntoFragments([1, 2] as unknown as Uint8Array, { seq: 1, fragId: 1 })).toThrow(TypeError);
    const options = { seq: 1, fragId: 1, hasOverlap: 1 as unknown as boolean };
    expect(() => splitIntoFragments(frameOf(3), options)).toThrow(/^hasOverlap/);
  });

  test("countFragments rejects bad arguments", () => {
    expect(() => countFragments(-1)).toThrow(/^frameBytes/);
    expect(() => countFragments(10, 24)).toThrow(/^mtuBytes/);
  });
});

describe("splitIntoFragments properties (seeded)", () => {
  test("every datagram fits the MTU, decodes, and the payloads concatenate to the frame", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3_000 }),
        fc.integer({ min: HEADER_BYTES + 1, max: 1_500 }),
        fc.nat({ max: 0xffff_ffff }),
        fc.nat({ max: 0xffff_ffff }),
        fc.boolean(),
        (frame, mtuBytes, seq, fragId, hasOverlap) => {
          const datagrams = splitIntoFragments(frame, { seq, fragId, hasOverlap, mtuBytes });
          expect(datagrams).toHaveLength(countFragments(frame.length, mtuBytes));
          const parts: number[] = [];
          datagrams.forEach((datagram, index) => {
            expect(datagram.length).toBeLessThanOrEqual(mtuBytes);
            const { header, payload } = decodePacket(datagram);
            expect(header).toEqual({
              seqNum: seq,
              totalLength: frame.length,
              hasOverlap,
              fragId,
              totalFrags: datagrams.length,
              fragIndex: index,
            });
            // Every fragment but the last is full.
            if (index < datagrams.length - 1) expect(datagram.length).toBe(mtuBytes);
            parts.push(...payload);
          });
          expect(parts).toEqual(Array.from(frame));
        },
      ),
      { seed: 0x5eed_0101, numRuns: 500 },
    );
  });
});
