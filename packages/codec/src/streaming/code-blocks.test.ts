import { describe, expect, test } from "vitest";
import { concatCodeBlocks } from "./code-blocks.js";

describe("concatCodeBlocks", () => {
  test("joins codebook-major blocks frame after frame and sums their lengths", () => {
    const a = { codes: Uint16Array.of(1, 2, 10, 20), numCodebooks: 2, numFrames: 2 }; // frames (1, 10), (2, 20)
    const b = { codes: Uint16Array.of(3, 30), numCodebooks: 2, numFrames: 1, lengthSamples: 100 };
    expect(concatCodeBlocks([a, b])).toEqual({ codes: Uint16Array.of(1, 2, 3, 10, 20, 30), numCodebooks: 2, numFrames: 3, lengthSamples: 740 });
  });

  test.each([
    [[], /^blocks must hold at least one block/],
    [[{ codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1 }, { codes: new Uint16Array(3), numCodebooks: 3, numFrames: 1 }], /^blocks\[1\].numCodebooks/],
    [[{ codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1, lengthSamples: 5 }, { codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1 }], /^blocks\[0\].lengthSamples must be 320/],
    [[{ codes: new Uint16Array(3), numCodebooks: 2, numFrames: 1 }], /^blocks\[0\] must hold/],
  ] as const)("refuses %#", (blocks, message) => {
    expect(() => concatCodeBlocks(blocks as never)).toThrow(message);
  });
});
