import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CodecError } from "../errors.js";
import { packCodes, packedByteLength, unpackCodes } from "./bit-packer.js";

describe("packCodes / unpackCodes", () => {
  test("10-bit codes pack LSB-first like the reference BitPacker", () => {
    const packed = Uint8Array.of(
      0xff, // value 0 = 0x3ff: its bits 0-7
      0x07, // value 0 bits 8-9 (0b11) | value 1 = 0x001 bits 0-5 shifted by 2 (0b000001_00)
      0x50, // value 1 bits 6-9 (0b0000) | value 2 = 0x2a5 bits 0-3 (0b0101) << 4
      0x2a, // value 2 bits 4-9 (0b101010) | 2 zero flush bits
    );
    expect(packCodes([0x3ff, 0x001, 0x2a5], 10)).toEqual(packed);
    expect([...unpackCodes(packed, 3, 10)]).toEqual([0x3ff, 0x001, 0x2a5]);
  });

  test.each([
    // bits, values, bytes
    [1, [1, 0, 1, 1, 0, 0, 0, 0, 1], [0b00001101, 0b00000001]],
    [4, [0xa, 0x5, 0xf], [0x5a, 0x0f]],
    [8, [0x12, 0xfe], [0x12, 0xfe]],
    [16, [0xbeef], [0xef, 0xbe]],
    [3, [], []],
  ])("%i-bit values %j → bytes %j", (bits, values, bytes) => {
    expect([...packCodes(values, bits)]).toEqual(bytes);
    expect([...unpackCodes(Uint8Array.from(bytes), values.length, bits)]).toEqual(values);
  });

  test("bit i of the stream is bit (i mod bits) of value floor(i / bits), zero padded", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }).chain((bits) => fc.tuple(fc.constant(bits), fc.array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { maxLength: 300 }))),
        ([bits, values]) => {
          const packed = packCodes(values, bits);
          expect(packed.length).toBe(Math.ceil((values.length * bits) / 8));
          for (let i = 0; i < packed.length * 8; i++) {
            const bit = (packed[i >> 3]! >> (i & 7)) & 1;
            const v = Math.floor(i / bits);
            expect(bit).toBe(v < values.length ? (values[v]! >> (i % bits)) & 1 : 0);
          }
          expect([...unpackCodes(packed, values.length, bits)]).toEqual(values);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  test("unpacking from too few bytes is a truncated CodecError", () => {
    const packed = packCodes([1, 2, 3, 4], 10); // 5 bytes
    expect(() => unpackCodes(packed.subarray(0, 4), 4, 10)).toThrow(CodecError);
    expect(() => unpackCodes(packed.subarray(0, 4), 4, 10)).toThrow(/need 5 bytes, 4 left/);
    expect([...unpackCodes(packed.subarray(0, 4), 3, 10)]).toEqual([1, 2, 3]);
  });

  test("misuse throws RangeError naming the parameter", () => {
    expect(() => packCodes([1024], 10)).toThrow(/codes must be integers in \[0, 1024\); value 0 .* 1024/);
    expect(() => packCodes([1.5], 10)).toThrow(RangeError);
    expect(() => packCodes([1], 0)).toThrow(/^bits must be/);
    expect(() => packCodes([1], 17)).toThrow(/^bits must be/);
    expect(() => unpackCodes(new Uint8Array(4), -1, 10)).toThrow(/^count must be/);
    expect(packedByteLength(113 * 8, 10)).toBe(1130);
  });
});
