import { describe, expect, test } from "vitest";
import { codecError } from "../../test/support/codec-error.js";
import { fixtureBytes } from "../../test/support/fixtures.js";
import { mulberry32 } from "../internal/mulberry32.js";
import { loadLmWeights } from "../lm/lm-weights.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readEcdc, writeEcdc } from "./ecdc-file.js";
import { parseEcdcHeader } from "./ecdc-header.js";
import { readEcdcWithLm, writeEcdcWithLm } from "./ecdc-lm.js";
import { EcdcStreamReader, EcdcStreamWriter, type EcdcStreamBlock } from "./ecdc-stream.js";
import { ECDC_MODEL_LAYOUTS, planSegments } from "./segments.js";

const LM = {
  tiny24: loadLmWeights(readSafetensors(fixtureBytes("tiny24/lm.safetensors"))),
  tiny48: loadLmWeights(readSafetensors(fixtureBytes("tiny48/lm.safetensors"))),
};

/** `bytes` pushed into a reader in seeded random pieces (1 to 300 bytes), reading after each. */
function readInPieces(bytes: Uint8Array, lm: (typeof LM)["tiny24"] | null, seed: number): { blocks: EcdcStreamBlock[]; reader: EcdcStreamReader } {
  const { metadata, bodyOffset } = parseEcdcHeader(bytes);
  const reader = new EcdcStreamReader(metadata, { lm, maxBlockFrames: 37 });
  const random = mulberry32(seed);
  const blocks: EcdcStreamBlock[] = [];
  for (let at = bodyOffset; at < bytes.byteLength; ) {
    const size = 1 + Math.floor(random() * 300);
    reader.push(bytes.subarray(at, at + size));
    blocks.push(...reader.read());
    at += size;
  }
  blocks.push(...reader.read(true));
  return { blocks, reader };
}

/** Blocks joined into one codebook-major array per segment. */
function segmentsOf(blocks: readonly EcdcStreamBlock[]): Array<{ codes: Uint16Array; scale: number | null }> {
  const out: Array<{ perCodebook: number[][]; scale: number | null }> = [];
  for (const b of blocks) {
    const seg = (out[b.segment] ??= { perCodebook: Array.from({ length: b.numCodebooks }, () => []), scale: b.scale });
    for (let k = 0; k < b.numCodebooks; k++) seg.perCodebook[k]!.push(...b.codes.subarray(k * b.numFrames, (k + 1) * b.numFrames));
  }
  return out.map((s) => ({ codes: Uint16Array.from(s.perCodebook.flat()), scale: s.scale }));
}

/** Segments cut into seeded random blocks and written by an EcdcStreamWriter. */
function writeInPieces(file: { modelName: string; audioLength: number; numCodebooks: number; segments: ReadonlyArray<{ codes: ArrayLike<number>; scale: number | null }> }, lm: (typeof LM)["tiny24"] | null, seed: number): Uint8Array {
  const writer = new EcdcStreamWriter(file, { lm });
  const random = mulberry32(seed);
  const parts = [writer.header()];
  const K = file.numCodebooks;
  file.segments.forEach((seg, s) => {
    const F = seg.codes.length / K;
    for (let at = 0; at < F; ) {
      const n = Math.min(F - at, 1 + Math.floor(random() * 60));
      const codes = new Uint16Array(K * n);
      for (let k = 0; k < K; k++) for (let t = 0; t < n; t++) codes[k * n + t] = seg.codes[k * F + at + t]!;
      parts.push(writer.write({ segment: s, scale: seg.scale, codes, numCodebooks: K, numFrames: n }));
      at += n;
    }
  });
  parts.push(writer.finish());
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe("EcdcStreamReader / EcdcStreamWriter", () => {
  test.each(["tiny24", "tiny48"] as const)("%s: the reference's file (and its codes LM-coded) read piece by piece give its codes; written block by block, the same bytes", (tiny) => {
    const reference = fixtureBytes(`${tiny}/bw6_nolm.ecdc`);
    for (const lm of [false, true]) {
      const bytes = lm ? writeEcdcWithLm(readEcdc(reference), LM[tiny]) : reference;
      const whole = readEcdcWithLm(bytes, LM[tiny]);
      for (const seed of [1, 2, 3]) {
        const { blocks } = readInPieces(bytes, lm ? LM[tiny] : null, seed);
        expect(segmentsOf(blocks)).toEqual(whole.segments.map((s) => ({ codes: s.codes, scale: s.scale })));
        expect(blocks.every((b) => b.numFrames <= 37)).toBe(true);
      }
      expect(writeInPieces(whole, lm ? LM[tiny] : null, 4)).toEqual(bytes);
    }
  });

  test.each([
    ["encodec_24khz", 24000 * 47 + 11, 8, 0],
    ["encodec_48khz", 48000 * 5 + 7, 4, 1],
  ] as const)("%s, long random codes: same bytes as writeEcdc/writeEcdcWithLm, read back exactly", (modelName, audioLength, K, seed) => {
    const random = mulberry32(seed);
    const layout = ECDC_MODEL_LAYOUTS[modelName];
    const segments = planSegments(audioLength, layout).map((p) => ({
      codes: Uint16Array.from({ length: K * p.frames }, () => Math.floor(random() * 1024)),
      scale: layout.normalize ? Math.fround(0.01 + random()) : null,
    }));
    const file = { modelName, audioLength, numCodebooks: K, segments };
    const plain = writeInPieces(file, null, seed + 10);
    expect(plain).toEqual(writeEcdc({ ...file, useLm: false }));
    expect(segmentsOf(readInPieces(plain, null, seed + 20).blocks)).toEqual(readEcdc(plain).segments);
    if (modelName === "encodec_24khz") {
      const short = { ...file, audioLength: 24000 * 3, segments: [{ codes: (() => { const f = 225; const c = new Uint16Array(K * f); for (let k = 0; k < K; k++) c.set(segments[0]!.codes.subarray(k * (segments[0]!.codes.length / K), k * (segments[0]!.codes.length / K) + f), k * f); return c; })(), scale: null }] };
      const lmBytes = writeInPieces(short, LM.tiny24, seed + 30);
      expect(lmBytes).toEqual(writeEcdcWithLm(short, LM.tiny24));
      expect(segmentsOf(readInPieces(lmBytes, LM.tiny24, seed + 40).blocks)).toEqual(readEcdcWithLm(lmBytes, LM.tiny24).segments);
    }
  });

  test("truncated, padded and corrupt files are reported", () => {
    const plain = fixtureBytes("tiny48/bw6_nolm.ecdc");
    const lmFile = writeEcdcWithLm(readEcdc(fixtureBytes("tiny24/bw6_nolm.ecdc")), LM.tiny24);
    expect(codecError(() => readInPieces(plain.subarray(0, plain.byteLength - 3), null, 1))).toMatchObject({ code: "truncated" });
    expect(codecError(() => readInPieces(Uint8Array.from([...plain, 0]), null, 1))).toMatchObject({ code: "corrupt" });
    expect(codecError(() => readInPieces(lmFile.subarray(0, lmFile.byteLength - 5), LM.tiny24, 1))).toMatchObject({ code: expect.stringMatching(/truncated|lm-desync/) });
    const flipped = Uint8Array.from(lmFile);
    flipped[flipped.byteLength - 40]! ^= 0xff;
    expect(codecError(() => readInPieces(Uint8Array.from([...flipped, 1, 2, 3]), LM.tiny24, 1))).toMatchObject({ code: expect.stringMatching(/truncated|lm-desync/) });
    const { metadata } = parseEcdcHeader(lmFile);
    expect(codecError(() => new EcdcStreamReader(metadata, {}))).toMatchObject({ code: "lm-unavailable" });
    // The reference's own LM-coded file: its float32 probabilities differ from ours, reported as such.
    const e = codecError(() => readInPieces(fixtureBytes("tiny24/bw6_lm.ecdc"), LM.tiny24, 1));
    expect(e.code).toBe("lm-desync");
    expect(e.message).toMatch(/reference Python implementation/);
  });

  test("the writer refuses blocks out of order, too many frames, and an incomplete file", () => {
    const writer = new EcdcStreamWriter({ modelName: "encodec_24khz", audioLength: 640, numCodebooks: 2 });
    expect(() => writer.write({ segment: 1, scale: null, codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1 })).toThrow(RangeError);
    writer.write({ segment: 0, scale: null, codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1 });
    expect(() => writer.finish()).toThrow(/incomplete/);
    expect(() => writer.write({ segment: 0, scale: null, codes: new Uint16Array(4), numCodebooks: 2, numFrames: 2 })).toThrow(/1 frames left/);
  });
});
