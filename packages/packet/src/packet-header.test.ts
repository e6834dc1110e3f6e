import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { HEADER_BYTES } from "./constants.js";
import { isPacketError, PacketError, type PacketErrorCode } from "./errors.js";
import {
  decodePacket,
  encodedLength,
  encodeInto,
  encodePacket,
  type PacketHeader,
} from "./packet-header.js";

// The seed layout: six big-endian uint32, then the payload.
// prettier-ignore
const FRAGMENT_FIXTURE = new Uint8Array([
  0x00, 0x00, 0x00, 0x07, // seq_num = 7
  0x00, 0x00, 0x01, 0x2c, // total_length = 300
  0x00, 0x00, 0x00, 0x01, // has_overlap = 1
  0xde, 0xad, 0xbe, 0xef, // frag_id = 0xdeadbeef
  0x00, 0x00, 0x00, 0x02, // total_frags = 2
  0x00, 0x00, 0x00, 0x01, // frag_index = 1 (the last)
  0x61, 0x62, 0x63,       // payload "abc"
]);
const FRAGMENT_HEADER: PacketHeader = {
  seqNum: 7,
  totalLength: 300,
  hasOverlap: true,
  fragId: 0xdeadbeef,
  totalFrags: 2,
  fragIndex: 1,
};

// prettier-ignore
const MAX_FIELDS_FIXTURE = new Uint8Array([
  0xff, 0xff, 0xff, 0xff, // seq_num = 4294967295 (about to wrap)
  0x00, 0x00, 0x00, 0x00, // total_length = 0 (an empty frame)
  0x00, 0x00, 0x00, 0x00, // has_overlap = 0
  0xff, 0xff, 0xff, 0xfe, // frag_id = 4294967294
  0x00, 0x00, 0x00, 0x01, // total_frags = 1
  0x00, 0x00, 0x00, 0x00, // frag_index = 0
]);
const MAX_FIELDS_HEADER: PacketHeader = {
  seqNum: 0xffff_ffff,
  totalLength: 0,
  hasOverlap: false,
  fragId: 0xffff_fffe,
  totalFrags: 1,
  fragIndex: 0,
};

/** The valid fragment fixture with the 4 bytes at `offset` replaced by `value` (big-endian). */
function withField(offset: number, value: number, payloadBytes = 3): Uint8Array {
  const bytes = FRAGMENT_FIXTURE.slice(0, HEADER_BYTES + payloadBytes);
  new DataView(bytes.buffer).setUint32(offset, value, false);
  return bytes;
}

function decodeError(bytes: Uint8Array): PacketError {
  try {
    decodePacket(bytes);
  } catch (error) {
    if (error instanceof PacketError) return error;
    throw error;
  }
  throw new Error("decodePacket accepted the bytes");
}

describe("encodePacket / decodePacket fixtures", () => {
  test.each([
    ["a fragment with overlap", FRAGMENT_HEADER, FRAGMENT_FIXTURE],
    ["an empty single-fragment frame with maximal ids", MAX_FIELDS_HEADER, MAX_FIELDS_FIXTURE],
  ])("%s encodes to the fixture bytes and back", (_name, header, bytes) => {
    const payload = bytes.subarray(HEADER_BYTES);
    expect(encodePacket(header, payload)).toEqual(bytes);
    const decoded = decodePacket(bytes);
    expect(decoded.header).toEqual(header);
    expect(decoded.payload).toEqual(payload);
  });

  test("the decoded payload is a view into the datagram, not a copy", () => {
    const bytes = FRAGMENT_FIXTURE.slice();
    const { payload } = decodePacket(bytes);
    expect(payload.buffer).toBe(bytes.buffer);
    expect(payload.byteOffset).toBe(HEADER_BYTES);
    bytes[HEADER_BYTES] = 0x7a;
    expect(payload[0]).toBe(0x7a);
  });

  test("decodes a datagram that sits at an offset inside a larger buffer", () => {
    const backing = new Uint8Array(5 + FRAGMENT_FIXTURE.length + 5).fill(0xee);
    backing.set(FRAGMENT_FIXTURE, 5);
    const decoded = decodePacket(backing.subarray(5, 5 + FRAGMENT_FIXTURE.length));
    expect(decoded.header).toEqual(FRAGMENT_HEADER);
    expect(Array.from(decoded.payload)).toEqual([0x61, 0x62, 0x63]);
  });
});

describe("decodePacket rejects bad datagrams with a PacketError", () => {
  test.each<[string, PacketErrorCode, Uint8Array]>([
    ["an empty datagram", "truncated", new Uint8Array(0)],
    ["23 bytes, one short of a header", "truncated", FRAGMENT_FIXTURE.slice(0, 23)],
    ["has_overlap = 2", "bad-field", withField(8, 2)],
    ["has_overlap = 0xffffffff", "bad-field", withField(8, 0xffff_ffff)],
    ["total_frags = 0", "bad-field", withField(16, 0)],
    ["frag_index = total_frags", "bad-field", withField(20, 2)],
    ["frag_index = 0xffffffff", "bad-field", withField(20, 0xffff_ffff)],
    ["total_frags above total_length", "bad-field", withField(16, 301)],
    ["a payload longer than total_length", "bad-length", withField(4, 2)],
    ["a single fragment shorter than total_length", "bad-length", withField(16, 1).fill(0, 20, 24)],
    ["an empty fragment of a split message", "bad-length", FRAGMENT_FIXTURE.slice(0, HEADER_BYTES)],
  ])("%s: %s", (_name, code, bytes) => {
    const error = decodeError(bytes);
    expect(error.code).toBe(code);
    expect(isPacketError(error)).toBe(true);
    expect(error.message.length).toBeGreaterThan(0);
  });

  test("a payload of exactly total_length in one fragment is fine; one byte less is not", () => {
    // prettier-ignore
    const single = new Uint8Array([
      0x00, 0x00, 0x00, 0x01, // seq_num = 1
      0x00, 0x00, 0x00, 0x02, // total_length = 2
      0x00, 0x00, 0x00, 0x00, // has_overlap = 0
      0x00, 0x00, 0x00, 0x09, // frag_id = 9
      0x00, 0x00, 0x00, 0x01, // total_frags = 1
      0x00, 0x00, 0x00, 0x00, // frag_index = 0
      0x10, 0x20,             // payload (2 bytes)
    ]);
    expect(decodePacket(single).payload).toEqual(new Uint8Array([0x10, 0x20]));
    expect(decodeError(single.subarray(0, single.length - 1)).code).toBe("bad-length");
  });

  test("non-Uint8Array input is misuse: TypeError", () => {
    expect(() => decodePacket([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe("encoding misuse", () => {
  const payload = new Uint8Array(3);
  test.each<[string, Partial<Record<keyof PacketHeader, unknown>>, RegExp, ErrorConstructor]>([
    ["negative seqNum", { seqNum: -1 }, /^header\.seqNum/, RangeError],
    ["fractional fragId", { fragId: 1.5 }, /^header\.fragId/, RangeError],
    ["seqNum 2^32", { seqNum: 2 ** 32 }, /^header\.seqNum/, RangeError],
    ["string totalLength", { totalLength: "300" }, /^header\.totalLength/, TypeError],
    ["numeric hasOverlap", { hasOverlap: 1 }, /^header\.hasOverlap/, TypeError],
    ["totalFrags 0", { totalFrags: 0 }, /^header\.totalFrags/, RangeError],
    ["fragIndex = totalFrags", { fragIndex: 2 }, /^header\.fragIndex/, RangeError],
    ["totalLength below the payload", { totalLength: 2 }, /^payload/, RangeError],
  ])("%s", (_name, change, message, type) => {
    const header = { ...FRAGMENT_HEADER, ...change } as PacketHeader;
    expect(() => encodePacket(header, payload)).toThrow(type);
    expect(() => encodePacket(header, payload)).toThrow(message);
  });

  test("encodeInto checks the room left in target", () => {
    const target = new Uint8Array(HEADER_BYTES + 3 + 4);
    expect(encodeInto(target, 4, FRAGMENT_HEADER, payload)).toBe(HEADER_BYTES + 3);
    expect(() => encodeInto(target, 5, FRAGMENT_HEADER, payload)).toThrow(/^offset/);
    expect(() => encodeInto(target, -1, FRAGMENT_HEADER, payload)).toThrow(RangeError);
  });

  test("encodedLength adds the header and rejects a bad size", () => {
    expect(encodedLength(0)).toBe(24);
    expect(encodedLength(196)).toBe(220);
    expect(() => encodedLength(-1)).toThrow(/^payloadBytes/);
    expect(() => encodedLength(0.5)).toThrow(RangeError);
  });
});

/** Any header and payload the encoder accepts: sizes that obey the per-datagram rules. */
const validPacket = fc
  .record({
    seqNum: fc.nat({ max: 0xffff_ffff }),
    fragId: fc.nat({ max: 0xffff_ffff }),
    hasOverlap: fc.boolean(),
    payload: fc.uint8Array({ maxLength: 300 }),
    extraLength: fc.nat({ max: 0xffff_ffff - 300 }),
    totalFrags: fc.integer({ min: 1, max: 0xffff_ffff }),
    fragIndexSeed: fc.nat({ max: 0xffff_ffff }),
  })
  .map(({ payload, extraLength, totalFrags, fragIndexSeed, ...rest }) => {
    const single = totalFrags === 1 || payload.length === 0;
    const totalLength = single ? payload.length : payload.length + extraLength;
    const frags = single ? 1 : Math.min(totalFrags, totalLength);
    const header: PacketHeader = { ...rest, totalLength, totalFrags: frags, fragIndex: fragIndexSeed % frags };
    return { header, payload };
  });

describe("round-trip properties (seeded)", () => {
  test("decodePacket(encodePacket(h, p)) gives back h and p", () => {
    fc.assert(
      fc.property(validPacket, ({ header, payload }) => {
        const bytes = encodePacket(header, payload);
        expect(bytes.length).toBe(encodedLength(payload.length));
        const decoded = decodePacket(bytes);
        expect(decoded.header).toEqual(header);
        expect(decoded.payload).toEqual(payload);
      }),
      { seed: 0x5eed_0001, numRuns: 2_000 },
    );
  });

  test("encodeInto at any offset writes the same bytes as encodePacket and nothing else", () => {
    fc.assert(
      fc.property(validPacket, fc.nat({ max: 64 }), fc.nat({ max: 64 }), ({ header, payload }, before, after) => {
        const size = encodedLength(payload.length);
        const target = new Uint8Array(before + size + after).fill(0xa5);
        expect(encodeInto(target, before, header, payload)).toBe(size);
        expect(target.subarray(before, before + size)).toEqual(encodePacket(header, payload));
        expect(target.subarray(0, before).every((b) => b === 0xa5)).toBe(true);
        expect(target.subarray(before + size).every((b) => b === 0xa5)).toBe(true);
      }),
      { seed: 0x5eed_0002, numRuns: 1_000 },
    );
  });

  test("the header bytes are the six fields big-endian, as a DataView reads them", () => {
    fc.assert(
      fc.property(validPacket, ({ header, payload }) => {
        const bytes = encodePacket(header, payload);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        expect([0, 4, 8, 12, 16, 20].map((at) => view.getUint32(at, false))).toEqual([
          header.seqNum,
          header.totalLength,
          header.hasOverlap ? 1 : 0,
          header.fragId,
          header.totalFrags,
          header.fragIndex,
        ]);
      }),
      { seed: 0x5eed_0003, numRuns: 1_000 },
    );
  });
});
