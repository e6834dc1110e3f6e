import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isCodecError, type CodecErrorCode } from "../errors.js";
import { decodeCodesWithLm, encodeCodesWithLm } from "../lm/lm-coding.js";
import { LmStreamDecoder, LmStreamEncoder } from "../lm/lm-stream.js";
import { loadLmWeights } from "../lm/lm-weights.js";
import { readSafetensors } from "../weights/safetensors.js";
import { MAX_PAYLOAD_FRAMES, PAYLOAD_HOP_SAMPLES } from "./constants.js";
import { decodePayload, encodePayload, parsePayloadHeader, payloadModelKindOf, type FramePayload, type PayloadLmCoder } from "./frame-payload.js";

/** Element-wise equality (much faster than a deep `toEqual` on long typed arrays). */
function sameValues(a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean {
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function codeOf(fn: () => unknown): CodecErrorCode | "ok" | "other" {
  try {
    fn();
    return "ok";
  } catch (e) {
    return isCodecError(e) ? e.code : "other";
  }
}

// 24 kHz stream, first payload, 1.5 kbps (K = 2), one frame with codes 0x3ff and 0x001
const STREAM_24K = Uint8Array.of(
  0x01, // version 1
  0x10, // flags: first of stream (24 kHz, stream mode, bit-packed, no length)
  0x02, // K = 2 codebooks
  0x00, 0x01, // F = 1 frame
  0xff, // bits 0-7 of code 0x3ff (frame 0, codebook 0)
  0x07, // its bits 8-9, then bits 0-5 of 0x001 (frame 0, codebook 1) << 2
  0x00, // bits 6-9 of 0x001, 4 zero padding bits
);

// 48 kHz chunk, last of the stream, K = 2, two frames, 500 samples, scale 0.5;
// codebook-major codes [1, 2 | 3, 4] go on the wire frame by frame: 1, 3, 2, 4
const CHUNK_48K = Uint8Array.of(
  0x01, // version 1
  0x2b, // flags: 48 kHz 0x01 | chunked 0x02 | end of stream 0x08 | length present 0x20
  0x02, // K = 2
  0x00, 0x02, // F = 2
  0x00, 0x00, 0x01, 0xf4, // length = 500 samples (of 640)
  0x3f, 0x00, 0x00, 0x00, // scale = 0.5 (float32)
  0x01, // code 1 (bits 0-9)
  0x0c, // code 3 at bits 10-19
  0x20, // code 2 at bits 20-29
  0x00,
  0x01, // code 4 at bits 30-39
);

describe("version 1 byte layout (written with version: 1, still read)", () => {
  test("a 24 kHz stream frame", () => {
    const payload: FramePayload = { version: 1, modelKind: "24k", mode: "stream", numCodebooks: 2, numFrames: 1, codes: Uint16Array.of(0x3ff, 0x001), firstOfStream: true };
    expect(encodePayload(payload)).toEqual(STREAM_24K);
    expect(decodePayload(STREAM_24K)).toEqual({
      version: 1,
      modelKind: "24k",
      mode: "stream",
      numCodebooks: 2,
      numFrames: 1,
      lengthSamples: 320,
      scale: null,
      lmCoded: false,
      firstOfStream: true,
      endOfStream: false,
      frameCodebooks: null,
      timestampSamples: null,
      overlapSamples: null,
      trackId: 0,
      redundancy: null,
      comfortNoiseDb: null,
      extensions: [],
      bandwidthKbps: 1.5,
      bodyOffset: 5,
      codes: Uint16Array.of(0x3ff, 0x001),
    });
  });

  test("a 48 kHz chunk with length and scale", () => {
    const payload: FramePayload = { version: 1, modelKind: "48k", mode: "chunked", numCodebooks: 2, numFrames: 2, codes: Uint16Array.of(1, 2, 3, 4), lengthSamples: 500, scale: 0.5, endOfStream: true };
    expect(encodePayload(payload)).toEqual(CHUNK_48K);
    const d = decodePayload(CHUNK_48K);
    expect([d.modelKind, d.mode, d.lengthSamples, d.scale, d.endOfStream, d.bandwidthKbps, d.bodyOffset]).toEqual(["48k", "chunked", 500, 0.5, true, 3, 13]);
    expect(d.codes).toEqual(Uint16Array.of(1, 2, 3, 4));
  });

  test.each([
    [1.5, 2, 8],
    [6, 8, 15],
    [12, 16, 25],
    [24, 32, 45],
  ])("wire budget: a version 1 24 kHz stream frame at %f kbps (K = %i) takes %i bytes", (bw, k, bytes) => {
    const p = encodePayload({ version: 1, modelKind: "24k", mode: "stream", numCodebooks: k, numFrames: 1, codes: new Uint16Array(k) });
    expect(p.length).toBe(bytes);
    expect(parsePayloadHeader(p).bandwidthKbps).toBe(bw);
  });
});

describe("bad payloads are refused with CodecError", () => {
  test.each([
    ["empty", new Uint8Array(0), "truncated"],
    ["version 3", Uint8Array.of(0x03, ...STREAM_24K.subarray(1)), "unsupported"],
    ["version 0", Uint8Array.of(0x00, ...STREAM_24K.subarray(1)), "unsupported"],
    ["reserved flag 0x40", Uint8Array.of(0x01, 0x50, ...STREAM_24K.subarray(2)), "unsupported"],
    ["48 kHz stream mode", Uint8Array.of(0x01, 0x01, 0x02, 0x00, 0x01, 0x3f, 0, 0, 0, 0xff, 0x07, 0x00), "unsupported"],
    ["K = 0", Uint8Array.of(0x01, 0x00, 0x00, 0x00, 0x01), "corrupt"],
    ["K = 33 at 24 kHz", Uint8Array.of(0x01, 0x00, 33, 0x00, 0x01, ...new Uint8Array(42)), "corrupt"],
    ["K = 17 at 48 kHz", Uint8Array.of(0x01, 0x03, 17, 0x00, 0x01, 0x3f, 0, 0, 0, ...new Uint8Array(22)), "corrupt"],
    ["F = 0", Uint8Array.of(0x01, 0x00, 0x02, 0x00, 0x00), "corrupt"],
    ["F = 1025", Uint8Array.of(0x01, 0x00, 0x01, 0x04, 0x01), "corrupt"],
    ["length = F × 320 written", Uint8Array.of(0x01, 0x20, 0x02, 0x00, 0x01, 0x00, 0x00, 0x01, 0x40, 0xff, 0x07, 0x00), "corrupt"],
    ["length = 0", Uint8Array.of(0x01, 0x20, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0x07, 0x00), "corrupt"],
    ["length beyond the frames", Uint8Array.of(0x01, 0x20, 0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00), "corrupt"],
    ["scale NaN", Uint8Array.of(...CHUNK_48K.subarray(0, 9), 0x7f, 0xc0, 0x00, 0x00, ...CHUNK_48K.subarray(13)), "corrupt"],
    ["scale 0", Uint8Array.of(...CHUNK_48K.subarray(0, 9), 0, 0, 0, 0, ...CHUNK_48K.subarray(13)), "corrupt"],
    ["scale negative", Uint8Array.of(...CHUNK_48K.subarray(0, 9), 0xbf, 0, 0, 0, ...CHUNK_48K.subarray(13)), "corrupt"],
    ["a byte after the body", Uint8Array.of(...STREAM_24K, 0x00), "corrupt"],
    ["non-zero padding bits", Uint8Array.of(...STREAM_24K.subarray(0, 7), 0x10), "corrupt"],
    ["LM-coded without body", Uint8Array.of(0x01, 0x04, 0x02, 0x00, 0x01), "truncated"],
    ["LM-coded without a coder", Uint8Array.of(0x01, 0x04, 0x02, 0x00, 0x01, 0x55), "lm-unavailable"],
  ] as const)("%s → %s", (_, bytes, code) => {
    expect(codeOf(() => decodePayload(bytes))).toBe(code);
  });

  test("every proper prefix of a payload is truncated", () => {
    for (const whole of [STREAM_24K, CHUNK_48K]) {
      for (let n = 0; n < whole.length; n++) expect(codeOf(() => decodePayload(whole.subarray(0, n))), `prefix ${n}`).toBe("truncated");
    }
  });

  test("a view into a larger buffer is read only within its bytes", () => {
    const big = new Uint8Array(64).fill(0xff);
    big.set(STREAM_24K.subarray(0, 6), 10);
    expect(codeOf(() => decodePayload(big.subarray(10, 16)))).toBe("truncated");
    big.set(STREAM_24K, 20);
    expect(decodePayload(big.subarray(20, 20 + STREAM_24K.length)).codes).toEqual(Uint16Array.of(0x3ff, 1));
  });
});

describe("encodePayload misuse", () => {
  const base: FramePayload = { version: 1, modelKind: "24k", mode: "stream", numCodebooks: 2, numFrames: 1, codes: new Uint16Array(2) };
  test.each([
    [{ modelKind: "32k" }, /^modelKind/],
    [{ mode: "live" }, /^mode/],
    [{ modelKind: "48k", scale: 1 }, /^mode must be "chunked"/],
    [{ numCodebooks: 0 }, /^numCodebooks/],
    [{ numCodebooks: 33, codes: new Uint16Array(33) }, /^numCodebooks/],
    [{ numFrames: MAX_PAYLOAD_FRAMES + 1 }, /^numFrames/],
    [{ codes: new Uint16Array(3) }, /^codes must hold/],
    [{ codes: Uint16Array.of(0, 1024) }, /^codes must be integers in \[0, 1024\)/],
    [{ lengthSamples: 0 }, /^lengthSamples/],
    [{ lengthSamples: 321 }, /^lengthSamples/],
    [{ scale: 0.5 }, /^scale must be null/],
    [{ modelKind: "48k", mode: "chunked" }, /^scale must be a finite number/],
    [{ modelKind: "48k", mode: "chunked", scale: 1e39 }, /^scale must be a finite number/],
    [{ version: 3 }, /^version must be 1 or 2/],
    [{ timestampSamples: 5 }, /^version must be 2 for/],
    [{ trackId: 1 }, /^version must be 2 for/],
    [{ numCodebooks: 2, frameCodebooks: Uint8Array.of(1) }, /^numCodebooks must equal the largest/],
  ] as const)("%o", (change, message) => {
    expect(() => encodePayload({ ...base, ...(change as Partial<FramePayload>) })).toThrow(message);
  });

  test("payloadModelKindOf", () => {
    expect(payloadModelKindOf({ sampleRateHz: 24_000, audioChannels: 1 })).toBe("24k");
    expect(payloadModelKindOf({ sampleRateHz: 48_000, audioChannels: 2 })).toBe("48k");
    expect(() => payloadModelKindOf({ sampleRateHz: 48_000, audioChannels: 1 })).toThrow(/^config must be/);
  });
});

const arbPayload: fc.Arbitrary<FramePayload> = fc
  .record({
    kind: fc.constantFrom("24k" as const, "48k" as const),
    chunked: fc.boolean(),
    k: fc.integer({ min: 1, max: 32 }),
    f: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 8 }), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: MAX_PAYLOAD_FRAMES }), weight: 1 }),
    cut: fc.integer({ min: 0, max: PAYLOAD_HOP_SAMPLES - 1 }),
    scale: fc.float({ min: Math.fround(1e-8), max: Math.fround(1e6), noNaN: true }),
    first: fc.boolean(),
    end: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ kind, chunked, k, f, cut, scale, first, end, seed }) => {
    const numCodebooks = kind === "48k" ? Math.min(k, 16) : k;
    let s = seed >>> 0;
    const codes = Uint16Array.from({ length: numCodebooks * f }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % 1024);
    return {
      version: 1,
      modelKind: kind,
      mode: kind === "48k" || chunked ? "chunked" : "stream",
      numCodebooks,
      numFrames: f,
      codes,
      lengthSamples: f * PAYLOAD_HOP_SAMPLES - cut,
      scale: kind === "48k" ? scale : null,
      firstOfStream: first,
      endOfStream: end,
    } satisfies FramePayload;
  });

describe("version 1 properties (fast-check, seeded)", () => {
  test("decode(encode(p)) = p, with the expected size", () => {
    fc.assert(
      fc.property(arbPayload, (p) => {
        const bytes = encodePayload(p);
        const d = decodePayload(bytes);
        expect(sameValues(d.codes, p.codes)).toBe(true);
        expect([d.modelKind, d.mode, d.numCodebooks, d.numFrames, d.lengthSamples, d.firstOfStream, d.endOfStream, d.lmCoded]).toEqual([
          p.modelKind, p.mode, p.numCodebooks, p.numFrames, p.lengthSamples, p.firstOfStream, p.endOfStream, false,
        ]);
        expect(d.scale).toBe(p.scale === null ? null : Math.fround(p.scale!));
        const header = 5 + (p.lengthSamples! < p.numFrames * PAYLOAD_HOP_SAMPLES ? 4 : 0) + (p.modelKind === "48k" ? 4 : 0);
        expect(bytes.length).toBe(header + Math.ceil((p.numCodebooks * p.numFrames * 10) / 8));
      }),
      { seed: 20_240_601, numRuns: 300 },
    );
  });

  test("a mutated payload is refused with CodecError or decodes to the payload that re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(arbPayload, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), (p, edits) => {
        const bytes = encodePayload(p);
        for (const [at, xor] of edits) bytes[at % bytes.length]! ^= xor;
        let decoded;
        try {
          decoded = decodePayload(bytes);
        } catch (e) {
          expect(isCodecError(e), String(e)).toBe(true);
          return;
        }
        expect(sameValues(encodePayload({ ...decoded, codes: decoded.codes! }), bytes)).toBe(true);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  test("truncated or extended payloads are refused (truncated / corrupt)", () => {
    fc.assert(
      fc.property(arbPayload, fc.nat(), fc.integer({ min: 1, max: 8 }), (p, cut, extra) => {
        const bytes = encodePayload(p);
        expect(codeOf(() => decodePayload(bytes.subarray(0, cut % bytes.length)))).toBe("truncated");
        expect(codeOf(() => decodePayload(Uint8Array.of(...bytes, ...new Uint8Array(extra))))).toBe("corrupt");
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});

describe("LM-coded payloads (tiny24 language model)", () => {
  const lm = loadLmWeights(readSafetensors(readFileSync(new URL("../../test/fixtures/tiny24/lm.safetensors", import.meta.url))));
  const codes = Uint16Array.from({ length: 8 * 3 }, (_, i) => (i * 137 + 11) % 1024);
  const payload: FramePayload = { version: 1, modelKind: "24k", mode: "stream", numCodebooks: 8, numFrames: 3, codes };

  test("independent payloads: encodeCodesWithLm / decodeCodesWithLm round trip, flag set", () => {
    const coder: PayloadLmCoder = { encode: (c, k) => encodeCodesWithLm(c, lm, k), decode: (b, k, f) => decodeCodesWithLm(b, lm, k, f) };
    const bytes = encodePayload(payload, { lmCoder: coder });
    expect(bytes[1]! & 0x04).toBe(0x04);
    const d = decodePayload(bytes, { lmCoder: coder });
    expect([d.lmCoded, d.numCodebooks, d.numFrames]).toEqual([true, 8, 3]);
    expect(d.codes).toEqual(codes);
    expect(codeOf(() => decodePayload(bytes))).toBe("lm-unavailable");
  });

  test("LM context carried between payloads (LmStreamEncoder/Decoder): a payload after a lost one decodes to null codes", () => {
    const enc = new LmStreamEncoder(lm, 8, { keyframeIntervalFrames: 6 });
    const dec = new LmStreamDecoder(lm, 8);
    const sender: PayloadLmCoder = { encode: (c) => enc.encode(c), decode: () => null };
    const receiver: PayloadLmCoder = {
      encode: () => new Uint8Array(0),
      decode: (b, _k, f) => {
        const r = dec.decode(b, f);
        return r.kind === "decoded" ? r.codes : null;
      },
    };
    const payloads = [0, 1, 2].map(() => encodePayload(payload, { lmCoder: sender })); // keyframe, continuation, keyframe
    expect(decodePayload(payloads[0]!, { lmCoder: receiver }).codes).toEqual(codes);
    dec.markLost(); // payload 1 lost
    expect(decodePayload(payloads[1]!, { lmCoder: receiver }).codes).toBeNull();
    expect(decodePayload(payloads[2]!, { lmCoder: receiver }).codes).toEqual(codes);
  });
});
