import { describe, expect, test } from "vitest";
import { concatCodeBlocks } from "./code-blocks.js";

describe("concatCodeBlocks", () => {
  test("joins codebook-major blocks frame after frame and sums their lengths", () => {
    const a = { codes: Uint16Array.of(1, 2, 10, 20), numCodebooks: 2, numFrames: 2 }; // frames (1, 10), (2, 20)
    const b = { codes: Uint16Array.of(3, 30), numCodebooks: 2, numFrames: 1, lengthSamples: 100 };
    expect(concatCodeBlocks([a, b])).toEqual({ codes: Uint16Array.of(1, 2, 3, 10, 20, 30), numCodebooks: 2, numFrames: 3, lengthSamples: 740, frameCodebooks: null });
  });

  test("blocks of different K give the largest K and a per-frame K table (other rows 0)", () => {
    const a = { codes: Uint16Array.of(1, 10), numCodebooks: 2, numFrames: 1 };
    const b = { codes: Uint16Array.of(2, 20, 200), numCodebooks: 3, numFrames: 1 };
    const c = { codes: Uint16Array.of(3, 4, 30, 0, 300, 0), numCodebooks: 3, numFrames: 2, frameCodebooks: Uint8Array.of(3, 1) };
    expect(concatCodeBlocks([a, b, c])).toEqual({
      codes: Uint16Array.of(1, 2, 3, 4, 10, 20, 30, 0, 0, 200, 300, 0),
      numCodebooks: 3,
      numFrames: 4,
      lengthSamples: 1280,
      frameCodebooks: Uint8Array.of(2, 3, 3, 1),
    });
  });

  test.each([
    [[], /^blocks must hold at least one block/],
    [[{ codes: new Uint16Array(0), numCodebooks: 0, numFrames: 1 }], /^blocks\[0\].numCodebooks/],
    [[{ codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1, lengthSamples: 5 }, { codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1 }], /^blocks\[0\].lengthSamples must be 320/],
    [[{ codes: new Uint16Array(3), numCodebooks: 2, numFrames: 1 }], /^blocks\[0\] must hold/],
    [[{ codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1, frameCodebooks: Uint8Array.of(3) }], /^blocks\[0\].frameCodebooks\[0\] must be in \[1, 2\]/],
  ] as const)("refuses %#", (blocks, message) => {
    expect(() => concatCodeBlocks(blocks as never)).toThrow(message);
  });
});
