import { describe, expect, test } from "vitest";
import { makeFragId, randomStreamId, streamIdOf } from "./frag-id.js";

describe("frag_id = stream id << 16 | message counter", () => {
  test.each([
    // streamId, counter, frag_id
    [1, 0, 0x0001_0000],
    [0xffff, 0xffff, 0xffff_ffff],
    [0x1234, 0x1_0005, 0x1234_0005], // the counter wraps at 2^16
    [0x8000, 7, 0x8000_0007], // stays an unsigned 32-bit value
  ])("stream %i, message %i → %i", (streamId, counter, fragId) => {
    expect(makeFragId(streamId, counter)).toBe(fragId);
    expect(streamIdOf(fragId)).toBe(streamId);
  });

  test("random stream ids are in [1, 65535] and vary", () => {
    const ids = Array.from({ length: 200 }, randomStreamId);
    expect(ids.every((id) => Number.isInteger(id) && id >= 1 && id <= 0xffff)).toBe(true);
    expect(new Set(ids).size).toBeGreaterThan(150);
  });
});
