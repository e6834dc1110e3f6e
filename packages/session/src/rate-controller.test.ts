import { describe, expect, test } from "vitest";
import { chooseRateOption, RateController, type RateOption } from "./rate-controller.js";

/** Feed reports every 250 ms for `seconds`; `path` gives each report's figures from the current target. */
function run(c: RateController, fromMs: number, seconds: number, path: (targetKbps: number) => { rttMs: number; loss: number; receiveKbps: number }): number[] {
  const targets: number[] = [];
  for (let t = fromMs; t < fromMs + seconds * 1000; t += 250) {
    const p = path(c.targetKbps);
    targets.push(c.update({ nowMs: t, rttMs: p.rttMs, lossFraction: p.loss, receiveKbps: p.receiveKbps, sendKbps: c.targetKbps }));
  }
  return targets;
}

/** A bottleneck of `capKbps` with a deep queue (250 ms a step): queued bits wait their turn, nothing is lost. */
function capped(capKbps: number) {
  let queuedKbit = 0;
  const path = (target: number) => {
    const inKbit = target * 0.25;
    const outKbit = Math.min(queuedKbit + inKbit, capKbps * 0.25);
    queuedKbit += inKbit - outKbit;
    path.maxQueuingMs = Math.max(path.maxQueuingMs, (queuedKbit / capKbps) * 1000);
    return { rttMs: 20 + (queuedKbit / capKbps) * 1000, loss: 0, receiveKbps: outKbit / 0.25 };
  };
  path.maxQueuingMs = 0;
  return path;
}
const free = (target: number) => ({ rttMs: 20, loss: 0, receiveKbps: target });
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("RateController (rules at the top of rate-controller.ts)", () => {
  test("starts at the top; a capped path brings it under the cap within 2 s and it stays near it; freed, it climbs back within 10 s", () => {
    const c = new RateController({ minKbps: 3, maxKbps: 18 });
    expect(c.targetKbps).toBe(18);
    run(c, 0, 2, free);
    const path = capped(4);
    const down = run(c, 2000, 2, path);
    expect(down.at(-1)!).toBeLessThanOrEqual(4);
    const held = run(c, 4000, 20, path);
    // it probes a little above the cap and backs off (the sender's discrete K then stays under it: the end-to-end test)
    expect(mean(held)).toBeLessThanOrEqual(4 * 1.25);
    expect(mean(held)).toBeGreaterThan(3);
    expect(Math.max(...held)).toBeLessThan(4 * 1.5);
    expect(path.maxQueuingMs).toBeLessThan(1000); // the initial overshoot drains; no standing queue
    const up = run(c, 24_000, 10, free);
    const reached = up.findIndex((t) => t >= 18);
    expect(reached).toBeGreaterThanOrEqual(0);
    expect((reached + 1) * 0.25).toBeLessThanOrEqual(10);
  });

  test("a path that delivers far less than is sent (no unit completes: no loss, no delay reported) brings the target down to what gets through", () => {
    const c = new RateController({ minKbps: 3, maxKbps: 20 });
    c.update({ nowMs: 0, rttMs: 10, lossFraction: 0, receiveKbps: 4, sendKbps: c.targetKbps });
    expect(c.targetKbps).toBeCloseTo(0.85 * 4);
    c.update({ nowMs: 250, rttMs: 10, lossFraction: 0, receiveKbps: 0 });
    expect(c.targetKbps).toBe(3); // nothing at all received: halved, down to the floor
  });

  test("loss above 10 % decreases by (1 − 0.5 loss) and holds 5 s; 2–10 % holds; below 2 % grows", () => {
    const c = new RateController({ minKbps: 1, maxKbps: 100 });
    c.update({ nowMs: 0, rttMs: 20, lossFraction: 0.2, receiveKbps: undefined });
    expect(c.targetKbps).toBeCloseTo(90);
    c.update({ nowMs: 250, rttMs: 20, lossFraction: 0.05, receiveKbps: undefined });
    expect(c.targetKbps).toBeCloseTo(90);
    c.update({ nowMs: 500, rttMs: 20, lossFraction: 0, receiveKbps: undefined });
    expect(c.targetKbps).toBeCloseTo(90); // held
    c.update({ nowMs: 5_250, rttMs: 20, lossFraction: 0, receiveKbps: undefined });
    expect(c.targetKbps).toBeGreaterThan(90);
  });

  test("never leaves [min, max]; misuse throws", () => {
    const c = new RateController({ minKbps: 2, maxKbps: 5 });
    for (let i = 0; i < 40; i++) c.update({ nowMs: i * 250, rttMs: 20 + i * 100, lossFraction: 0.9, receiveKbps: 0.1 });
    expect(c.targetKbps).toBe(2);
    expect(() => new RateController({ minKbps: 5, maxKbps: 2 })).toThrow(RangeError);
  });
});

describe("chooseRateOption", () => {
  const opts: RateOption[] = [
    { numCodebooks: 2, framesPerPacket: 1, wireKbps: 21 },
    { numCodebooks: 2, framesPerPacket: 4, wireKbps: 6 },
    { numCodebooks: 8, framesPerPacket: 4, wireKbps: 12 },
    { numCodebooks: 8, framesPerPacket: 1, wireKbps: 31 },
  ];
  test.each([
    [40, 8, 1],
    [20, 8, 4],
    [10, 2, 4],
    [1, 2, 4], // nothing fits: the cheapest
  ])("target %f kbps → K %i, %i frame(s) a packet", (target, k, fpp) => {
    expect(chooseRateOption(opts, target)).toMatchObject({ numCodebooks: k, framesPerPacket: fpp });
  });
});
