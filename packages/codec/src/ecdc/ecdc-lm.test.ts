import { describe, expect, test } from "vitest";
import type { CodecError } from "../errors.js";
import { loadLmWeights } from "../lm/lm-weights.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readEcdc } from "./ecdc-file.js";
import { readEcdcWithLm, writeEcdcWithLm } from "./ecdc-lm.js";
import { parseEcdcHeader } from "./ecdc-header.js";
import { codecError } from "../../test/support/codec-error.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const LM = {
  tiny24: loadLmWeights(readSafetensors(fixtureBytes("tiny24/lm.safetensors"))),
  tiny48: loadLmWeights(readSafetensors(fixtureBytes("tiny48/lm.safetensors"))),
};

/** The reference's codes and scales of bw6, as an EcdcLmFile body. */
function referenceContent(tiny: "tiny24" | "tiny48") {
  const v = readSafetensors(fixtureBytes(`${tiny}/vectors.safetensors`));
  const segments = [];
  for (let s = 0; v.has(`codes_bw6_0_seg${s}`); s++) {
    const scale = v.get(`scale_bw6_0_seg${s}`);
    segments.push({ codes: Uint16Array.from(v.get(`codes_bw6_0_seg${s}`)!.data), scale: scale ? scale.data[0]! : null });
  }
  const { metadata } = parseEcdcHeader(fixtureBytes(`${tiny}/bw6_lm.ecdc`));
  return { modelName: metadata.modelName, audioLength: metadata.audioLength, numCodebooks: metadata.numCodebooks, segments };
}

describe("readEcdcWithLm / writeEcdcWithLm", () => {
  test.each(["tiny24", "tiny48"] as const)("%s: the reference's codes (and scales) written with lm: true read back exactly; header as the reference writes it", (tiny) => {
    const content = referenceContent(tiny);
    const bytes = writeEcdcWithLm(content, LM[tiny]);
    const ref = fixtureBytes(`${tiny}/bw6_lm.ecdc`);
    const { bodyOffset } = parseEcdcHeader(ref);
    expect(bytes.subarray(0, bodyOffset)).toEqual(ref.subarray(0, bodyOffset));
    const back = readEcdcWithLm(bytes, LM[tiny], "ours.ecdc");
    expect(back).toEqual({ ...content, useLm: true });
  });

  test("tiny48: three segments, each with its scale before its coded bits", () => {
    const content = referenceContent("tiny48");
    expect(content.segments.map((s) => s.codes.length / 4)).toEqual([150, 150, 78]);
    const bytes = writeEcdcWithLm(content, LM.tiny48);
    const { bodyOffset } = parseEcdcHeader(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getFloat32(bodyOffset, false)).toBe(content.segments[0]!.scale);
  });

  test.each(["tiny24", "tiny48"] as const)("%s: the reference's bw6_lm.ecdc is reported as lm-desync (our float path is not torch's), not returned as wrong codes", (tiny) => {
    const e = codecError(() => readEcdcWithLm(fixtureBytes(`${tiny}/bw6_lm.ecdc`), LM[tiny], "bw6_lm.ecdc"));
    expect(e.code).toBe("lm-desync");
    expect(e.message).toMatch(/reference Python implementation/);
  });

  test("lm: false files are read like readEcdc (the LM is not needed)", () => {
    const bytes = fixtureBytes("tiny48/bw6_nolm.ecdc");
    expect(readEcdcWithLm(bytes, null)).toEqual(readEcdc(bytes));
  });

  test("an LM file without an LM, with too small an LM, or declaring too many frames is refused", () => {
    const bytes = writeEcdcWithLm(referenceContent("tiny24"), LM.tiny24);
    expect(codecError(() => readEcdcWithLm(bytes, null)).code).toBe("lm-unavailable");
    const fourCodebooks = new Map([...readSafetensors(fixtureBytes("tiny24/lm.safetensors"))].filter(([name]) => !/^(emb|linears)\.([4-9]|[1-3]\d)\./.test(name)));
    const small = loadLmWeights(fourCodebooks, { pastContext: 262 });
    expect(small.hyper.numCodebooks).toBe(4);
    expect(codecError(() => readEcdcWithLm(bytes, small)).code).toBe("lm-unavailable");
    expect(codecError(() => readEcdcWithLm(bytes, LM.tiny24, "x", { maxFrames: 100 })).code).toBe("unsupported");
  });

  test("a truncated or extended LM file is a CodecError", () => {
    const bytes = writeEcdcWithLm(referenceContent("tiny48"), LM.tiny48);
    expect(["truncated", "lm-desync"]).toContain(codecError(() => readEcdcWithLm(bytes.subarray(0, bytes.length - 5), LM.tiny48)).code);
    expect(codecError(() => readEcdcWithLm(new Uint8Array([...bytes, 1, 2]), LM.tiny48)).code).toBe("lm-desync");
  });

  test("writer misuse is a RangeError naming the field", () => {
    const content = referenceContent("tiny48");
    expect(() => writeEcdcWithLm({ ...content, segments: content.segments.slice(1) }, LM.tiny48)).toThrow(/^segments must hold 3/);
    expect(() => writeEcdcWithLm({ ...content, segments: [{ ...content.segments[0]!, scale: null }, ...content.segments.slice(1)] }, LM.tiny48)).toThrow(/^segments\[0\]\.scale/);
    expect(() => writeEcdcWithLm({ ...content, numCodebooks: 17 }, LM.tiny48)).toThrow(/^numCodebooks must be/);
  });
});
