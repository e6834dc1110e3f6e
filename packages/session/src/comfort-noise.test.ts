import { describe, expect, test } from "vitest";
import { comfortNoise, DtxGate, levelDbfs } from "./comfort-noise.js";

describe("comfort noise", () => {
  test("levelDbfs: a full-scale sine is −3 dBFS, silence −127", () => {
    const sine = Float32Array.from({ length: 4800 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 48_000));
    expect(levelDbfs([sine])).toBe(-3);
    expect(levelDbfs([new Float32Array(320)])).toBe(-127);
  });

  test("comfortNoise has the level asked for, is seeded, and differs per seed", () => {
    const a = comfortNoise(-40, 24_000, 2, 1);
    expect(a).toHaveLength(2);
    expect(levelDbfs(a)).toBe(-40);
    expect(comfortNoise(-40, 24_000, 2, 1)).toEqual(a);
    expect(comfortNoise(-40, 24_000, 2, 2)[0]).not.toEqual(a[0]);
  });

  test("DtxGate: quiet only after the hangover; a loud unit resets it", () => {
    const g = new DtxGate(-50, 40);
    expect([g.quiet(-60, 20), g.quiet(-60, 20), g.quiet(-60, 20), g.quiet(-20, 20), g.quiet(-60, 20)]).toEqual([false, false, true, false, false]);
    expect(() => new DtxGate(3)).toThrow(RangeError);
  });
});
