import { describe, expect, test } from "vitest";
import { InterarrivalJitter } from "./interarrival-jitter.js";

describe("InterarrivalJitter (RFC 3550 §6.4.1)", () => {
  test("is undefined until two samples", () => {
    const j = new InterarrivalJitter(20);
    expect(j.jitterMs).toBeUndefined();
    j.update(1, 100);
    expect(j.jitterMs).toBeUndefined();
    j.update(2, 120);
    expect(j.jitterMs).toBe(0);
  });

  test("constant transit time gives zero jitter, also across the wrap and with gaps", () => {
    const j = new InterarrivalJitter(20);
    // send time = seq * 20 (mod the wrap); transit 37 ms; seq 0xfffffffe, 0xffffffff, 1 (0 lost), 2
    const seqs = [0xffff_fffe, 0xffff_ffff, 1, 2];
    const sendMs = [0, 20, 60, 80];
    seqs.forEach((seq, k) => j.update(seq, (sendMs[k] as number) + 37));
    expect(j.jitterMs).toBe(0);
  });

  test("hand-computed steps", () => {
    const j = new InterarrivalJitter(10);
    j.update(0, 0);
    j.update(1, 26); // D = 26 - 10 = 16 -> J = 0 + (16 - 0) / 16 = 1
    expect(j.jitterMs).toBe(1);
    j.update(2, 20); // D = (20 - 26) - 10 = -16 -> J = 1 + (16 - 1) / 16 = 1.9375
    expect(j.jitterMs).toBe(1.9375);
    j.update(4, 40); // D = (40 - 20) - 20 = 0 -> J = 1.9375 - 1.9375 / 16 = 1.81640625
    expect(j.jitterMs).toBe(1.81640625);
  });

  test("alternating transit of 0 and 8 ms converges as 8 * (1 - (15/16)^n)", () => {
    const j = new InterarrivalJitter(20);
    const n = 200;
    for (let k = 0; k <= n; k++) j.update(k, k * 20 + (k % 2 === 0 ? 0 : 8));
    // every step has |D| = 8, so J_n = 8 (1 - (15/16)^n)
    expect(j.jitterMs).toBeCloseTo(8 * (1 - (15 / 16) ** n), 12);
  });

  test("reseed drops the previous sample but keeps the estimate", () => {
    const j = new InterarrivalJitter(20);
    j.update(0, 0);
    j.update(1, 36); // D = 16, J = 1
    j.reseed();
    j.update(9000, 5); // no difference with the old stream is taken
    expect(j.jitterMs).toBe(1);
    j.update(9001, 25); // D = 0
    expect(j.jitterMs).toBe(1 - 1 / 16);
  });
});
