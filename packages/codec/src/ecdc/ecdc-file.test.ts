import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CodecError } from "../errors.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readEcdc, writeEcdc, type EcdcFile } from "./ecdc-file.js";
import { encodeEcdcHeader, parseEcdcHeader } from "./ecdc-header.js";
import { ECDC_MODEL_LAYOUTS, planSegments } from "./segments.js";
import { codecError } from "../../test/support/codec-error.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const vectors = { tiny24: readSafetensors(fixtureBytes("tiny24/vectors.safetensors")), tiny48: readSafetensors(fixtureBytes("tiny48/vectors.safetensors")) };

/** The header of a 24 kHz file of 36000 samples at 8 codebooks, byte for byte as the reference writes it. */
const HEADER_24K = Uint8Array.of(
  0x45, 0x43, 0x44, 0x43, // "ECDC"
  0x00, // version 0
  0x00, 0x00, 0x00, 0x39, // JSON length 57, big-endian
  ...new TextEncoder().encode('{"m": "encodec_24khz", "al": 36000, "nc": 8, "lm": false}'),
);

describe("readEcdc / writeEcdc golden files", () => {
  test.each([
    ["tiny24", 1, 8],
    ["tiny48", 3, 4],
  ] as const)("%s bw6_nolm.ecdc decodes to codes_bw6_0_seg* (and scales) exactly and re-encodes to the same bytes", (tiny, segments, nc) => {
    const bytes = fixtureBytes(`${tiny}/bw6_nolm.ecdc`);
    const file = readEcdc(bytes, "bw6_nolm.ecdc");
    expect(file.numCodebooks).toBe(nc);
    expect(file.segments).toHaveLength(segments);
    file.segments.forEach((seg, i) => {
      const want = vectors[tiny].get(`codes_bw6_0_seg${i}`)!;
      expect(want.dims).toEqual([1, nc, seg.codes.length / nc]);
      expect(Array.from(seg.codes)).toEqual(Array.from(want.data));
      const scale = vectors[tiny].get(`scale_bw6_0_seg${i}`);
      if (tiny === "tiny48") {
        // Bit-exact float32: both sides are float32 values widened to doubles.
        expect(Object.is(seg.scale, scale!.data[0])).toBe(true);
      } else {
        expect(scale).toBeUndefined();
        expect(seg.scale).toBeNull();
      }
    });
    expect(writeEcdc(file)).toEqual(bytes);
    // And from the vectors alone (Int32Array codes), without going through the reader.
    const fromVectors: EcdcFile = {
      ...file,
      segments: file.segments.map((_, i) => ({
        codes: Int32Array.from(vectors[tiny].get(`codes_bw6_0_seg${i}`)!.data),
        scale: tiny === "tiny48" ? vectors[tiny].get(`scale_bw6_0_seg${i}`)!.data[0]! : null,
      })),
    };
    expect(writeEcdc(fromVectors)).toEqual(bytes);
  });

  test("the 24 kHz header is the reference's, byte for byte", () => {
    expect(encodeEcdcHeader({ modelName: "encodec_24khz", audioLength: 36000, numCodebooks: 8, useLm: false })).toEqual(HEADER_24K);
    expect(fixtureBytes("tiny24/bw6_nolm.ecdc").subarray(0, HEADER_24K.length)).toEqual(HEADER_24K);
    expect(parseEcdcHeader(HEADER_24K)).toEqual({ metadata: { modelName: "encodec_24khz", audioLength: 36000, numCodebooks: 8, useLm: false }, bodyOffset: 66 });
  });

  test("non-ASCII model names are escaped as Python's json.dumps does", () => {
    const header = encodeEcdcHeader({ modelName: "é\u007f\u{1f600}\n", audioLength: 0, numCodebooks: 1, useLm: false });
    expect(new TextDecoder().decode(header.subarray(9))).toBe('{"m": "\\u00e9\\u007f\\ud83d\\ude00\\n", "al": 0, "nc": 1, "lm": false}');
    expect(parseEcdcHeader(header).metadata.modelName).toBe("é\u007f\u{1f600}\n");
  });

  test.each(["tiny24", "tiny48"])("%s bw6_lm.ecdc: the header parses, readEcdc refuses it as needing the LM", (tiny) => {
    const bytes = fixtureBytes(`${tiny}/bw6_lm.ecdc`);
    const { metadata, bodyOffset } = parseEcdcHeader(bytes, "bw6_lm.ecdc");
    expect(metadata.useLm).toBe(true);
    expect(metadata.numCodebooks).toBe(tiny === "tiny24" ? 8 : 4);
    expect(bodyOffset).toBe(9 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(5, false));
    const e = codecError(() => readEcdc(bytes, "bw6_lm.ecdc"));
    expect(e.code).toBe("unsupported");
    expect(e.message).toMatch(/bw6_lm\.ecdc: .*language model/);
  });
});

describe("readEcdc bad input", () => {
  const good = fixtureBytes("tiny48/bw6_nolm.ecdc");

  test("every truncation is a CodecError (never a read past the end)", () => {
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => readEcdc(good.subarray(0, cut), "cut.ecdc")).toThrow(CodecError);
    }
  });

  test.each([
    ["bad magic", (b: Uint8Array): void => b.set([0x45, 0x43, 0x44, 0x44], 0), "bad-file", /not an \.ecdc file/],
    ["version 1", (b: Uint8Array): void => void (b[4] = 1), "unsupported", /version 1/],
    ["JSON length over the limit", (b: Uint8Array): void => b.set([0x7f, 0xff, 0xff, 0xff], 5), "corrupt", /over the 65536-byte limit/],
    ["JSON length past the end", (b: Uint8Array): void => b.set([0x00, 0x00, 0x10, 0x00], 5), "truncated", /metadata of 4096 bytes/],
    ["JSON broken", (b: Uint8Array): void => void (b[9] = 0x5b), "corrupt", /not UTF-8 JSON/],
  ] as const)("%s", (_what, mutate, code, pattern) => {
    const b = good.slice();
    mutate(b);
    const e = codecError(() => readEcdc(b, "x.ecdc"));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(pattern);
  });

  const withJson = (json: string, body = new Uint8Array(0)): Uint8Array => {
    const j = new TextEncoder().encode(json);
    const out = new Uint8Array(9 + j.length + body.length);
    out.set([0x45, 0x43, 0x44, 0x43, 0], 0);
    new DataView(out.buffer).setUint32(5, j.length, false);
    out.set(j, 9);
    out.set(body, 9 + j.length);
    return out;
  };

  test.each([
    ['{"al": 10, "nc": 1, "lm": false}', /field m /],
    ['{"m": "encodec_24khz", "al": -1, "nc": 1, "lm": false}', /field al .* got -1/],
    ['{"m": "encodec_24khz", "al": 1.5, "nc": 1, "lm": false}', /field al/],
    ['{"m": "encodec_24khz", "al": 10, "nc": 0, "lm": false}', /field nc .* got 0/],
    ['{"m": "encodec_24khz", "al": 10, "nc": 1000, "lm": false}', /field nc/],
    ['{"m": "encodec_24khz", "al": 10, "nc": 1, "lm": 0}', /field lm/],
    ["[1, 2]", /not a JSON object/],
  ])("metadata %s is corrupt", (json, pattern) => {
    const e = codecError(() => readEcdc(withJson(json), "m.ecdc"));
    expect(e.code).toBe("corrupt");
    expect(e.message).toMatch(pattern);
  });

  test("a huge audio length is refused before allocating", () => {
    const e = codecError(() => readEcdc(withJson('{"m": "encodec_48khz", "al": 4294967295, "nc": 32, "lm": false}'), "big.ecdc"));
    expect(e.code).toBe("truncated");
    const one = codecError(() => readEcdc(withJson('{"m": "encodec_24khz", "al": 4294967295, "nc": 32, "lm": false}', new Uint8Array(10)), "big.ecdc"));
    expect(one.message).toMatch(/segment 0 needs \d+ bytes/);
  });

  test("unknown model names need a layout; trailing bytes are corrupt", () => {
    const e = codecError(() => readEcdc(withJson('{"m": "mystery", "al": 320, "nc": 1, "lm": false}', Uint8Array.of(0, 0)), "u.ecdc"));
    expect(e.code).toBe("unsupported");
    const layout = { ...ECDC_MODEL_LAYOUTS.encodec_24khz };
    expect(readEcdc(withJson('{"m": "mystery", "al": 320, "nc": 1, "lm": false}', Uint8Array.of(5, 0)), "u.ecdc", { layout }).segments[0]!.codes).toEqual(Uint16Array.of(5));
    expect(readEcdc(withJson('{"m": "toString", "al": 320, "nc": 1, "lm": false}', Uint8Array.of(5, 0)), "u.ecdc", { layout }).modelName).toBe("toString");
    expect(() => readEcdc(withJson('{"m": "toString", "al": 320, "nc": 1, "lm": false}', Uint8Array.of(5, 0)), "u.ecdc")).toThrow(/not encodec_24khz/);
    const trailing = new Uint8Array([...good, 0]);
    expect(codecError(() => readEcdc(trailing, "t.ecdc")).message).toMatch(/1 unexpected bytes after the last segment/);
  });
});

describe("writeEcdc", () => {
  const arbFile = fc
    .record({
      model: fc.constantFrom("encodec_24khz" as const, "encodec_48khz" as const),
      al: fc.integer({ min: 0, max: 130_000 }),
      nc: fc.integer({ min: 1, max: 32 }),
      seed: fc.integer(),
    })
    .map(({ model, al, nc, seed }): EcdcFile => {
      let x = seed | 1;
      const next = (): number => ((x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 8) & 0x3ff;
      const layout = ECDC_MODEL_LAYOUTS[model];
      return {
        modelName: model,
        audioLength: al,
        numCodebooks: nc,
        useLm: false,
        segments: planSegments(al, layout).map((p) => ({
          codes: Uint16Array.from({ length: nc * p.frames }, next),
          scale: layout.normalize ? Math.fround((next() + 1) / 97) : null,
        })),
      };
    });

  test("write → read gives the same file; read → write gives the same bytes", () => {
    fc.assert(
      fc.property(arbFile, (file) => {
        const bytes = writeEcdc(file);
        const back = readEcdc(bytes, "rt.ecdc");
        expect(back).toEqual(file);
        expect(writeEcdc(back)).toEqual(bytes);
      }),
      { numRuns: 60, seed: 9 },
    );
  });

  test("misuse throws RangeError/TypeError naming the field", () => {
    const file = readEcdc(fixtureBytes("tiny48/bw6_nolm.ecdc"));
    expect(() => writeEcdc({ ...file, segments: file.segments.slice(1) })).toThrow(/^segments must hold 3 segments/);
    expect(() => writeEcdc({ ...file, segments: file.segments.map((s) => ({ ...s, scale: null })) })).toThrow(/^segments\[0\]\.scale must be a number/);
    expect(() => writeEcdc({ ...file, segments: file.segments.map((s) => ({ ...s, codes: s.codes.subarray(1) })) })).toThrow(/^segments\[0\]\.codes must hold 4 × 150/);
    expect(() => writeEcdc({ ...file, segments: file.segments.map((s) => ({ ...s, codes: Int32Array.from(s.codes, () => 1024) })) })).toThrow(RangeError);
    expect(() => writeEcdc({ ...file, useLm: true as false })).toThrow(/^useLm must be false/);
    expect(() => writeEcdc({ ...file, modelName: "other" })).toThrow(/^modelName "other" has no known layout/);
    expect(() => writeEcdc({ ...file, numCodebooks: 0 })).toThrow(/^numCodebooks must be/);
  });
});
