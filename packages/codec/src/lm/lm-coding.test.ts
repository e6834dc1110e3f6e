import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isCodecError, type CodecError } from "../errors.js";
import { readSafetensors } from "../weights/safetensors.js";
import { ArithmeticDecoder, ArithmeticEncoder } from "./arithmetic-coder.js";
import { BitReader, BitWriter } from "./bit-io.js";
import { markovCodes } from "./internal/random-lm.js";
import { decodeCodesWithLm, decodeCodesWithLmAt, encodeCodesWithLm } from "./lm-coding.js";
import { loadLmWeights, type LmWeights } from "./lm-weights.js";
import { buildQuantizedCdf } from "./quantized-cdf.js";
import { StreamingLm } from "./streaming-lm.js";
import { codecError } from "../../test/support/codec-error.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const LM: Record<string, LmWeights> = {
  tiny24: loadLmWeights(readSafetensors(fixtureBytes("tiny24/lm.safetensors"))),
  tiny48: loadLmWeights(readSafetensors(fixtureBytes("tiny48/lm.safetensors"))),
};

/** Offset of the first coded segment of bw6_lm.ecdc: 9-byte header + JSON [+ 4-byte scale at 48 kHz]. */
function firstSegmentOffset(file: Uint8Array, tiny: string): number {
  const jsonLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(5, false);
  return 9 + jsonLength + (tiny === "tiny48" ? 4 : 0);
}

describe("the reference's bw6_lm.ecdc (official compress with LM)", () => {
  // The reference's own probabilities for the first 12 frames (probs_first_steps) drive our CDF
  // quantization and arithmetic decoder over the reference's bits: the decoded codes must be the
  // reference's codes exactly, and our encoder must write the same bits.
  test.each(["tiny24", "tiny48"])("%s: with the reference's probabilities, the first 12 frames decode exactly and re-encode to the same bytes", (tiny) => {
    const file = fixtureBytes(`${tiny}/bw6_lm.ecdc`);
    const v = readSafetensors(fixtureBytes(`${tiny}/lm_vectors.safetensors`));
    const probs = v.get("probs_first_steps")!; // [12, 1024, K]
    const ref = readSafetensors(fixtureBytes(`${tiny}/vectors.safetensors`)).get("codes_bw6_0_seg0")!;
    const [, K, F] = ref.dims as [number, number, number];
    const start = firstSegmentOffset(file, tiny);
    const dec = new ArithmeticDecoder(new BitReader(file, start, file.length));
    const writer = new BitWriter();
    const enc = new ArithmeticEncoder(writer);
    const pdf = new Float32Array(1024);
    const cdf = new Uint32Array(1024);
    const decoded: number[] = [];
    const expected: number[] = [];
    for (let t = 0; t < 12; t++) {
      for (let k = 0; k < K; k++) {
        for (let c = 0; c < 1024; c++) pdf[c] = probs.data[(t * 1024 + c) * K + k]!;
        buildQuantizedCdf(pdf, 0, 1024, cdf);
        decoded.push(dec.pull(cdf, 1024));
        expected.push(ref.data[k * F + t]!);
        enc.push(ref.data[k * F + t]!, cdf);
      }
    }
    expect(decoded).toEqual(expected);
    // Bytes the encoder has completed so far are the file's bytes (the tail awaits later symbols).
    const written = writer.toBytes();
    expect(written.length).toBeGreaterThan(K * 10);
    expect(written).toEqual(file.subarray(start, start + written.length));
  });

  test.each([
    // [tiny, symbols decoded right before the first wrong one, bytes read of the segment]
    ["tiny24", 2, 1102],
    ["tiny48", 1, 730],
  ] as const)("%s: our LM's probabilities are not the reference's bits, so the whole file diverges (measured)", (tiny, firstWrong, read) => {
    // See README "Language model": the reference's float32 kernels and ours differ by ~1e-6
    // relative, which moves 0.6 % of the quantized CDF's ranges by one unit. Any difference
    // desynchronizes the arithmetic decoder; this records where, so a change is noticed.
    const file = fixtureBytes(`${tiny}/bw6_lm.ecdc`);
    const ref = readSafetensors(fixtureBytes(`${tiny}/vectors.safetensors`)).get("codes_bw6_0_seg0")!;
    const [, K, F] = ref.dims as [number, number, number];
    const { codes, bytesRead } = decodeCodesWithLmAt(file, firstSegmentOffset(file, tiny), LM[tiny]!, K, F);
    let first = -1;
    for (let t = 0; t < F && first < 0; t++) for (let k = 0; k < K && first < 0; k++) if (codes[k * F + t] !== ref.data[k * F + t]) first = t * K + k;
    expect(first).toBe(firstWrong);
    expect(bytesRead).toBe(read);
  });

  test("tiny24: decoding the whole reference body with our LM is detected (bytes left over), not returned", () => {
    const file = fixtureBytes("tiny24/bw6_lm.ecdc");
    const e = codecError(() => decodeCodesWithLm(file.subarray(firstSegmentOffset(file, "tiny24")), LM.tiny24!, 8, 113));
    expect(e.code).toBe("lm-desync");
    expect(e.message).toMatch(/61 of 1163 bytes left/);
  });
});

describe("encodeCodesWithLm / decodeCodesWithLm", () => {
  test.each(["tiny24", "tiny48"])("%s: the reference codes round-trip exactly", (tiny) => {
    const ref = readSafetensors(fixtureBytes(`${tiny}/vectors.safetensors`)).get("codes_bw6_0_seg0")!;
    const [, K, F] = ref.dims as [number, number, number];
    const codes = Uint16Array.from(ref.data);
    const bytes = encodeCodesWithLm(codes, LM[tiny]!, K);
    expect(decodeCodesWithLm(bytes, LM[tiny]!, K, F)).toEqual(codes);
  });

  test("tiny24 codes at 6 kbps cost the same 1163 bytes as the reference's file body (same model, same codes)", () => {
    const ref = readSafetensors(fixtureBytes("tiny24/vectors.safetensors")).get("codes_bw6_0_seg0")!;
    expect(encodeCodesWithLm(Uint16Array.from(ref.data), LM.tiny24!, 8).length).toBe(1163);
  });

  test("property: random codes of any codebook count and length round-trip exactly (tiny24, tiny48)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("tiny24", "tiny48"),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.boolean(),
        (tiny, K, F, seed, structured) => {
          const codes = structured ? markovCodes(K, F, 1024, seed) : Uint16Array.from({ length: K * F }, (_, i) => (Math.imul(seed ^ i, 2654435761) >>> 22) & 1023);
          const bytes = encodeCodesWithLm(codes, LM[tiny]!, K);
          expect(decodeCodesWithLm(bytes, LM[tiny]!, K, F)).toEqual(codes);
        },
      ),
      { numRuns: 25, seed: 3 },
    );
  });

  test("decodeCodesWithLmAt reads back-to-back segments", () => {
    const a = markovCodes(4, 30, 1024, 1);
    const b = markovCodes(4, 17, 1024, 2);
    const ea = encodeCodesWithLm(a, LM.tiny48!, 4);
    const eb = encodeCodesWithLm(b, LM.tiny48!, 4);
    const joined = new Uint8Array([0xaa, ...ea, ...eb]);
    const ra = decodeCodesWithLmAt(joined, 1, LM.tiny48!, 4, 30);
    expect(ra).toEqual({ codes: a, bytesRead: ea.length });
    const rb = decodeCodesWithLmAt(joined, 1 + ra.bytesRead, LM.tiny48!, 4, 17);
    expect(rb).toEqual({ codes: b, bytesRead: eb.length });
  });

  test("truncated data is a CodecError, never a read past the buffer; extra bytes are lm-desync", () => {
    const codes = markovCodes(8, 40, 1024, 9);
    const bytes = encodeCodesWithLm(codes, LM.tiny24!, 8);
    for (const cut of [0, 1, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const e = codecError(() => decodeCodesWithLm(bytes.subarray(0, cut), LM.tiny24!, 8, 40));
      expect(["truncated", "lm-desync"]).toContain(e.code);
    }
    const e = codecError(() => decodeCodesWithLm(new Uint8Array([...bytes, 0]), LM.tiny24!, 8, 40));
    expect(e.code).toBe("lm-desync");
  });

  test("a different LM (another model's weights) cannot decode: detected", () => {
    const codes = markovCodes(4, 60, 1024, 4);
    const bytes = encodeCodesWithLm(codes, LM.tiny24!, 4);
    let detected = false;
    try {
      detected = decodeCodesWithLm(bytes, LM.tiny48!, 4, 60).some((c, i) => c !== codes[i]);
    } catch (e) {
      detected = isCodecError(e);
    }
    expect(detected).toBe(true);
  });

  test("property: arbitrary bytes decode to codes or a CodecError, never another error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 6 }), (bytes, K, F) => {
        try {
          const codes = decodeCodesWithLm(bytes, LM.tiny48!, K, F);
          expect(codes.length).toBe(K * F);
          expect(codes.every((c) => c < 1024)).toBe(true);
        } catch (e) {
          expect(isCodecError(e), String(e)).toBe(true);
        }
      }),
      { numRuns: 150, seed: 5 },
    );
  });

  test("misuse is a RangeError naming the parameter", () => {
    expect(() => encodeCodesWithLm([1, 2, 3], LM.tiny24!, 2)).toThrow(/^codes must hold numCodebooks/);
    expect(() => encodeCodesWithLm([1, 1024], LM.tiny24!, 2)).toThrow(/^codes\[1\] must be an integer in \[0, 1024\)/);
    expect(() => encodeCodesWithLm([1], LM.tiny24!, 33)).toThrow(/^numCodebooks must be/);
    expect(() => decodeCodesWithLm(new Uint8Array(1), LM.tiny24!, 2, -1)).toThrow(/^numFrames must be/);
    expect(() => decodeCodesWithLmAt(new Uint8Array(1), 2, LM.tiny24!, 2, 1)).toThrow(/^offset must be/);
  });

  test("the probabilities come from the LM: a stream coded with StreamingLm by hand is what encodeCodesWithLm writes", () => {
    const codes = markovCodes(2, 10, 1024, 12);
    const lm = new StreamingLm(LM.tiny24!, 2);
    const w = new BitWriter();
    const enc = new ArithmeticEncoder(w);
    const cdf = new Uint32Array(1024);
    for (let t = 0; t < 10; t++) {
      const p = lm.step(t === 0 ? null : [codes[t - 1]!, codes[10 + t - 1]!]);
      for (let k = 0; k < 2; k++) {
        buildQuantizedCdf(p, k * 1024, 1024, cdf);
        enc.push(codes[k * 10 + t]!, cdf);
      }
    }
    enc.finish();
    expect(encodeCodesWithLm(codes, LM.tiny24!, 2)).toEqual(w.toBytes());
  });
});
