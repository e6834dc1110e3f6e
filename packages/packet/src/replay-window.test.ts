import { describe, expect, test } from "vitest";
import { ReplayWindow } from "./replay-window.js";

describe("ReplayWindow (RFC 3711 §3.3.2)", () => {
  test.each([
    ["first counter, any value", [], 5, "fresh"],
    ["ahead of the highest", [5], 6, "fresh"],
    ["far ahead", [5], 2 ** 32 - 1, "fresh"],
    ["the same again", [5], 5, "replayed"],
    ["behind, not yet seen", [10], 3, "fresh"],
    ["behind, seen", [3, 10], 3, "replayed"],
    ["the oldest inside the window (highest − 63)", [100], 37, "fresh"],
    ["just behind the window (highest − 64)", [100], 36, "too-old"],
    ["a jump of more than the window forgets everything below", [1, 2, 3, 500], 3, "too-old"],
  ] as const)("%s", (_name, accepted, counter, verdict) => {
    const window = new ReplayWindow(64);
    for (const c of accepted) expect(window.accept(c)).toBe("fresh");
    expect(window.check(counter)).toBe(verdict);
    expect(window.accept(counter)).toBe(verdict);
  });

  test("sliding forward clears the bits it passes (no stale replays after a wrap of the ring)", () => {
    const window = new ReplayWindow(64);
    window.accept(0);
    window.accept(64); // slot 0 again, for counter 64
    expect(window.check(0)).toBe("too-old");
    window.accept(100);
    expect(window.check(128 - 64 + 1)).toBe("fresh"); // slot of 65: never accepted
    expect(window.check(64)).toBe("replayed");
  });

  test("every counter of a shuffled run is accepted once and only once", () => {
    const window = new ReplayWindow(128);
    const order = Array.from({ length: 5_000 }, (_, i) => i + ((i * 7919) % 50)); // reordered by < 50
    const unique = new Set<number>();
    for (const c of order) {
      const verdict = window.accept(c);
      expect(verdict === "fresh").toBe(!unique.has(c));
      unique.add(c);
    }
  });

  test.each([63, 96 + 1, 0, 2 ** 21])("size %d is refused", (size) => {
    expect(() => new ReplayWindow(size)).toThrow(RangeError);
  });
});
