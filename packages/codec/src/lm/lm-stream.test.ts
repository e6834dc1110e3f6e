import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isCodecError } from "../errors.js";
import { readSafetensors } from "../weights/safetensors.js";
import { crc16 } from "./internal/crc16.js";
import { mulberry32 } from "../internal/mulberry32.js";
import { markovCodes } from "./internal/random-lm.js";
import { loadLmWeights } from "./lm-weights.js";
import { LmStreamDecoder, LmStreamEncoder, type LmStreamOptions } from "./lm-stream.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const LM24 = loadLmWeights(readSafetensors(fixtureBytes("tiny24/lm.safetensors")));
const LM48 = loadLmWeights(readSafetensors(fixtureBytes("tiny48/lm.safetensors")));

/** Split codebook-major [K, F] codes into payload chunks of `per` frames. */
function chunks(codes: Uint16Array, K: number, F: number, per: number): Uint16Array[] {
  const out: Uint16Array[] = [];
  for (let t0 = 0; t0 < F; t0 += per) {
    const n = Math.min(per, F - t0);
    const c = new Uint16Array(K * n);
    for (let k = 0; k < K; k++) c.set(codes.subarray(k * F + t0, k * F + t0 + n), k * n);
    out.push(c);
  }
  return out;
}

function encodeAll(lm = LM24, K = 8, F = 60, per = 1, options: LmStreamOptions = {}, seed = 1) {
  const codes = markovCodes(K, F, 1024, seed);
  const parts = chunks(codes, K, F, per);
  const enc = new LmStreamEncoder(lm, K, options);
  return { parts, payloads: parts.map((p) => enc.encode(p)) };
}

describe("LmStreamEncoder / LmStreamDecoder", () => {
  test("payloads of one frame, keyframe every 10 frames: header flags as documented, all decode exactly", () => {
    const { parts, payloads } = encodeAll(LM24, 8, 60, 1, { keyframeIntervalFrames: 10 });
    expect(payloads.map((p) => p[0])).toEqual(Array.from({ length: 60 }, (_, i) => (i % 10 === 0 ? 0x80 : i % 10)));
    const dec = new LmStreamDecoder(LM24, 8, { keyframeIntervalFrames: 10 });
    payloads.forEach((p, i) => {
      const r = dec.decode(p, 1);
      expect(r).toEqual({ kind: "decoded", codes: parts[i], keyframe: i % 10 === 0 });
    });
  });

  test("the checksum is CRC-16/CCITT-FALSE of the flags byte and the codes, big-endian", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x29b1);
    const codes = Uint16Array.of(0x0102, 0x03ff); // K = 2, one frame
    const p = new LmStreamEncoder(LM48, 2).encode(codes);
    const crc = crc16(Uint8Array.of(0x80, 0x01, 0x02, 0x03, 0xff));
    expect([p[1], p[2]]).toEqual([crc >>> 8, crc & 0xff]);
  });

  test("keyframes continue the LM context only inside a group: a keyframe payload equals a fresh stream's first payload", () => {
    const { parts, payloads } = encodeAll(LM48, 4, 40, 5, { keyframeIntervalFrames: 20 });
    const fresh = new LmStreamEncoder(LM48, 4, { keyframeIntervalFrames: 20 }).encode(parts[4]!);
    expect(payloads[4]).toEqual(fresh); // frames 20..24 start the second group
    expect(payloads[5]).not.toEqual(new LmStreamEncoder(LM48, 4).encode(parts[5]!));
  });

  test("keyframeIntervalFrames <= frames per payload: every payload stands alone, in any order", () => {
    const { parts, payloads } = encodeAll(LM24, 8, 75, 15, { keyframeIntervalFrames: 15 });
    for (const i of [3, 0, 4, 1]) {
      expect(new LmStreamDecoder(LM24, 8).decode(payloads[i]!, 15)).toEqual({ kind: "decoded", codes: parts[i], keyframe: true });
    }
  });

  test("property: under random loss, payloads decode exactly or report needs-keyframe, and every keyframe recovers", () => {
    const { parts, payloads } = encodeAll(LM24, 4, 80, 2, { keyframeIntervalFrames: 12 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.boolean(), (seed, lossRate, report) => {
        const rnd = mulberry32(seed);
        const dec = new LmStreamDecoder(LM24, 4);
        let lostSinceKeyframe = false;
        payloads.forEach((p, i) => {
          const keyframe = (p[0]! & 0x80) !== 0;
          if (keyframe) lostSinceKeyframe = false;
          if (i > 0 && rnd() < lossRate) {
            lostSinceKeyframe = true;
            if (report) dec.markLost();
            return;
          }
          const r = dec.decode(p, 2);
          if (lostSinceKeyframe) expect(r).toEqual({ kind: "needs-keyframe" });
          else expect(r).toEqual({ kind: "decoded", codes: parts[i], keyframe });
        });
      }),
      { numRuns: 12, seed: 11 },
    );
  });

  test("a corrupted payload is reported (never returned as codes) and the next keyframe recovers", () => {
    const { parts, payloads } = encodeAll(LM24, 8, 40, 2, { keyframeIntervalFrames: 10 });
    const rnd = mulberry32(5);
    let reported = 0;
    for (let trial = 0; trial < 20; trial++) {
      const dec = new LmStreamDecoder(LM24, 8);
      const bad = payloads.map((p) => p.slice());
      const victim = 1 + Math.floor(rnd() * 3); // inside the first group (payloads 0..4)
      let failed = false;
      const at = 3 + Math.floor(rnd() * (bad[victim]!.length - 3));
      bad[victim]![at]! ^= 1 << Math.floor(rnd() * 8);
      bad.forEach((p, i) => {
        if (i < victim) {
          expect(dec.decode(p, 2).kind).toBe("decoded");
        } else if (i === victim) {
          try {
            const r = dec.decode(p, 2);
            // A flip can (rarely) leave the decoded codes intact; never wrong codes.
            expect(r).toEqual({ kind: "decoded", codes: parts[i], keyframe: false });
          } catch (e) {
            expect(isCodecError(e)).toBe(true);
            expect(["lm-desync", "truncated"]).toContain((e as { code: string }).code);
            reported++;
            failed = true;
          }
        } else if (i < 5) {
          const r = dec.decode(p, 2);
          if (failed) expect(r).toEqual({ kind: "needs-keyframe" });
          else expect(r).toEqual({ kind: "decoded", codes: parts[i], keyframe: false });
        } else {
          expect(dec.decode(p, 2)).toEqual({ kind: "decoded", codes: parts[i], keyframe: i % 5 === 0 });
        }
      });
    }
    expect(reported).toBeGreaterThan(15);
  });

  test("joining mid-stream waits for the first keyframe; a counter gap is caught without markLost", () => {
    const { parts, payloads } = encodeAll(LM24, 8, 30, 1, { keyframeIntervalFrames: 10 });
    const dec = new LmStreamDecoder(LM24, 8);
    expect(dec.decode(payloads[4]!, 1)).toEqual({ kind: "needs-keyframe" });
    expect(dec.decode(payloads[10]!, 1)).toEqual({ kind: "decoded", codes: parts[10], keyframe: true });
    expect(dec.decode(payloads[12]!, 1)).toEqual({ kind: "needs-keyframe" }); // 11 skipped
    expect(dec.decode(payloads[13]!, 1)).toEqual({ kind: "needs-keyframe" });
    expect(dec.decode(payloads[20]!, 1).kind).toBe("decoded");
  });

  test("property: arbitrary payloads decode, wait for a keyframe, or throw a CodecError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 8 }), (payloads) => {
        const dec = new LmStreamDecoder(LM48, 4);
        for (const p of payloads) {
          try {
            const r = dec.decode(p, 2);
            if (r.kind === "decoded") expect(r.codes.length).toBe(8);
          } catch (e) {
            expect(isCodecError(e), String(e)).toBe(true);
          }
        }
      }),
      { numRuns: 100, seed: 9 },
    );
  });

  test("requestKeyframe() makes the next payload a keyframe", () => {
    const enc = new LmStreamEncoder(LM24, 2, { keyframeIntervalFrames: 100 });
    const c = Uint16Array.of(1, 2);
    expect([enc.encode(c)[0], enc.encode(c)[0]]).toEqual([0x80, 0x01]);
    enc.requestKeyframe();
    expect(enc.encode(c)[0]).toBe(0x80);
  });

  test("without checksum the header is one byte; a short payload is corrupt; options are checked", () => {
    const enc = new LmStreamEncoder(LM24, 2, { checksum: false });
    const p = enc.encode(Uint16Array.of(5, 6));
    expect(new LmStreamDecoder(LM24, 2, { checksum: false }).decode(p, 1)).toEqual({ kind: "decoded", codes: Uint16Array.of(5, 6), keyframe: true });
    expect(() => new LmStreamDecoder(LM24, 2).decode(Uint8Array.of(0x80, 0), 1)).toThrow(expect.objectContaining({ code: "corrupt" }));
    expect(() => new LmStreamDecoder(LM24, 2).decode(Uint8Array.of(0x81, 0, 0, 0), 1)).toThrow(expect.objectContaining({ code: "corrupt" }));
    expect(() => new LmStreamEncoder(LM24, 2, { keyframeIntervalFrames: 0 })).toThrow(/^keyframeIntervalFrames must be/);
    expect(() => new LmStreamDecoder(LM24, 2).decode(p, -1)).toThrow(/^numFrames must be/);
  });
});
