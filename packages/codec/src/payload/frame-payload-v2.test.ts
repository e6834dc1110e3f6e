import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isCodecError, type CodecErrorCode } from "../errors.js";
import { MAX_PAYLOAD_FRAMES, MAX_PAYLOAD_OVERLAP_SAMPLES, PAYLOAD_HOP_SAMPLES } from "./constants.js";
import { decodePayload, encodePayload, parsePayloadHeader, type FramePayload } from "./frame-payload.js";
import type { PayloadRedundancy, RedundantUnit } from "./payload-extensions.js";

function codeOf(fn: () => unknown): CodecErrorCode | "ok" | "other" {
  try {
    fn();
    return "ok";
  } catch (e) {
    return isCodecError(e) ? e.code : `other: ${String(e)}` as "other";
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// 24 kHz stream frame, first of the stream, K = 2, one frame (codes 0x3ff, 0x001) at sample 2240 (frame 7)
const STREAM_24K = Uint8Array.of(
  0x02, // version 2
  0x10, // flags: first of stream
  0x02, // K = 2
  0x00, 0x01, // F = 1
  0x00, 0x00, 0x08, 0xc0, // timestamp = 2240 samples
  0xff, // bits 0-7 of 0x3ff
  0x07, // its bits 8-9, then bits 0-5 of 0x001 << 2
  0x00, // bits 6-9 of 0x001, 4 zero padding bits
);

// 24 kHz chunk of 2 frames (500 samples) at sample 0x1234, overlap 150, track 2, frame 0 at K = 3 and
// frame 1 at K = 1 (codes frame 0: 1, 3, 4; frame 1: 2), with redundancy: the previous unit's
// first codebook (2 frames, codes 5 and 6)
const CHUNK_24K = Uint8Array.of(
  0x02, // version 2
  0xe2, // flags: chunked 0x02 | length 0x20 | per-frame K 0x40 | extensions 0x80
  0x03, // K = 3 (the largest per-frame K)
  0x00, 0x02, // F = 2
  0x00, 0x00, 0x12, 0x34, // timestamp = 4660
  0x00, 0x00, 0x01, 0xf4, // length = 500 samples
  0x00, 0x00, 0x00, 0x96, // overlap = 150 samples
  0x03, 0x01, // per-frame K: 3, 1
  0x02, // 2 extensions
  0x01, 0x01, 0x02, // type 1 (track), 1 byte: track 2
  0x02, 0x06, // type 2 (redundancy), 6 bytes:
  0x01, //   K_r = 1
  0x01, //   mask: distance 1
  0x04, //   varint (F_r = 2) << 1 | no length
  0x05, 0x18, 0x00, //   codes 5, 6 (10 bits each, LSB first)
  0x01, 0x0c, 0x40, 0x80, 0x00, // body: codes 1, 3, 4 (frame 0), 2 (frame 1)
);

// 48 kHz comfort noise (DTX) chunk: 150 frames (1 s) at −60 dBFS, last of the stream
const NOISE_48K = Uint8Array.of(
  0x02, // version 2
  0x8b, // flags: 48 kHz 0x01 | chunked 0x02 | end 0x08 | extensions 0x80
  0x00, // K = 0: no codes
  0x00, 0x96, // F = 150
  0x00, 0x00, 0xb9, 0xa0, // timestamp = 47520
  0x00, 0x00, 0x01, 0xe0, // overlap = 480 (no scale: no codes)
  0x01, // 1 extension
  0x03, 0x01, 0x3c, // type 3 (comfort noise), 1 byte: 60 → −60 dBFS
);

// STREAM_24K with an optional extension of a type this version does not define (0x10)
const WITH_UNKNOWN = Uint8Array.of(0x02, 0x90, 0x02, 0x00, 0x01, 0x00, 0x00, 0x08, 0xc0, 0x01, 0x10, 0x02, 0xab, 0xcd, 0xff, 0x07, 0x00);

describe("version 2 byte layout", () => {
  test("a 24 kHz stream frame", () => {
    const p: FramePayload = { modelKind: "24k", mode: "stream", numCodebooks: 2, numFrames: 1, codes: Uint16Array.of(0x3ff, 1), firstOfStream: true, timestampSamples: 2240 };
    expect(encodePayload(p)).toEqual(STREAM_24K);
    const d = decodePayload(STREAM_24K);
    expect(d).toMatchObject({ version: 2, timestampSamples: 2240, overlapSamples: 0, trackId: 0, frameCodebooks: null, redundancy: null, comfortNoiseDb: null, bodyOffset: 9, bandwidthKbps: 1.5 });
    expect(d.codes).toEqual(Uint16Array.of(0x3ff, 1));
  });

  test("a 24 kHz chunk with per-frame K, overlap, track and redundancy", () => {
    const p: FramePayload = {
      modelKind: "24k",
      mode: "chunked",
      numCodebooks: 3,
      numFrames: 2,
      codes: Uint16Array.of(1, 2, 3, 0, 4, 0),
      frameCodebooks: Uint8Array.of(3, 1),
      lengthSamples: 500,
      timestampSamples: 0x1234,
      overlapSamples: 150,
      trackId: 2,
      redundancy: { numCodebooks: 1, units: [{ distance: 1, numFrames: 2, codes: Uint16Array.of(5, 6) }] },
    };
    expect(encodePayload(p)).toEqual(CHUNK_24K);
    const d = decodePayload(CHUNK_24K);
    expect([d.mode, d.numCodebooks, d.lengthSamples, d.overlapSamples, d.trackId, d.timestampSamples]).toEqual(["chunked", 3, 500, 150, 2, 0x1234]);
    expect(d.frameCodebooks).toEqual(Uint8Array.of(3, 1));
    expect(d.codes).toEqual(Uint16Array.of(1, 2, 3, 0, 4, 0));
    expect(d.redundancy).toEqual({ numCodebooks: 1, units: [{ distance: 1, numFrames: 2, codes: Uint16Array.of(5, 6), lengthSamples: 640, scale: null }] });
  });

  test("a 48 kHz comfort noise chunk", () => {
    const p: FramePayload = { modelKind: "48k", mode: "chunked", numCodebooks: 0, numFrames: 150, codes: new Uint16Array(0), comfortNoiseDb: -60, endOfStream: true, timestampSamples: 47520, overlapSamples: 480 };
    expect(encodePayload(p)).toEqual(NOISE_48K);
    const d = decodePayload(NOISE_48K);
    expect([d.numCodebooks, d.comfortNoiseDb, d.scale, d.lengthSamples, d.endOfStream, d.bandwidthKbps]).toEqual([0, -60, null, 48_000, true, 0]);
    expect(d.codes).toEqual(new Uint16Array(0));
  });

  test("an unknown optional extension is skipped and kept; an unknown critical one is refused", () => {
    const d = decodePayload(WITH_UNKNOWN);
    expect(d.extensions).toEqual([{ type: 0x10, value: Uint8Array.of(0xab, 0xcd) }]);
    expect(d.codes).toEqual(Uint16Array.of(0x3ff, 1));
    expect(encodePayload({ ...d, codes: d.codes! })).toEqual(WITH_UNKNOWN);
    const critical = WITH_UNKNOWN.slice();
    critical[10] = 0x90;
    expect(codeOf(() => decodePayload(critical))).toBe("unsupported");
  });

  test("a version 1 payload still decodes (and says nothing of overlap or timestamp)", () => {
    const v1 = Uint8Array.of(0x01, 0x10, 0x02, 0x00, 0x01, 0xff, 0x07, 0x00);
    const d = decodePayload(v1);
    expect([d.version, d.overlapSamples, d.timestampSamples, d.trackId]).toEqual([1, null, null, 0]);
    expect(d.codes).toEqual(Uint16Array.of(0x3ff, 1));
  });

  test.each([
    [1, 6, 19],
    [1, 12, 29],
    [4, 6, 49],
  ])("wire budget: %i frame(s) of a 24 kHz stream at %f kbps take %i bytes", (frames, bw, bytes) => {
    const k = (bw * 1000) / 750;
    expect(encodePayload({ modelKind: "24k", mode: "stream", numCodebooks: k, numFrames: frames, codes: new Uint16Array(k * frames) }).length).toBe(bytes);
  });

  test("--fec 2 at 6 kbps: 12 more bytes per frame (2 previous frames at 1.5 kbps)", () => {
    const plain = encodePayload({ modelKind: "24k", mode: "stream", numCodebooks: 8, numFrames: 1, codes: new Uint16Array(8) });
    const unit = (distance: number): RedundantUnit => ({ distance, numFrames: 1, codes: new Uint16Array(2) });
    const fec = encodePayload({ modelKind: "24k", mode: "stream", numCodebooks: 8, numFrames: 1, codes: new Uint16Array(8), redundancy: { numCodebooks: 2, units: [unit(1), unit(2)] } });
    expect(fec.length - plain.length).toBe(12); // count 1 + type 1 + length 1 + K_r 1 + mask 1 + 2 × varint 1 + 5 bytes of codes
  });
});

test("the README's byte fixtures are these payloads", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const block = readme.slice(readme.indexOf("Byte fixtures")).split("```text")[1]!.split("```")[0]!;
  const hexLines = block.split("\n").filter((l) => /^02 [0-9a-f ]+$/.test(l.trim()));
  const fromReadme = hexLines.map((l) => Uint8Array.from(l.replace(/ /g, "").match(/../g)!.map((h) => parseInt(h, 16))));
  expect(fromReadme).toEqual([STREAM_24K, CHUNK_24K, NOISE_48K]);
});

describe("bad version 2 payloads are refused with CodecError", () => {
  const withByte = (b: Uint8Array, at: number, v: number) => {
    const c = b.slice();
    c[at] = v;
    return c;
  };
  test.each([
    ["K = 0 without comfort noise", Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0), "corrupt"],
    ["comfort noise with codes", Uint8Array.of(0x02, 0x80, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0x01, 0x03, 0x01, 0x3c, 0xff, 0x07, 0x00), "corrupt"],
    ["comfort noise level 128", withByte(NOISE_48K, 16, 128), "corrupt"],
    ["bytes after comfort noise", Uint8Array.of(...NOISE_48K, 0), "corrupt"],
    ["per-frame K all equal", withByte(CHUNK_24K, 18, 3), "corrupt"],
    ["per-frame K of 0", withByte(CHUNK_24K, 18, 0), "corrupt"],
    ["per-frame K above K", withByte(CHUNK_24K, 18, 4), "corrupt"],
    ["largest per-frame K below K", withByte(withByte(CHUNK_24K, 2, 4), 17, 3), "corrupt"],
    ["per-frame K with LM coding", withByte(CHUNK_24K, 1, 0xe6), "corrupt"],
    ["extension count 0", withByte(CHUNK_24K, 19, 0), "corrupt"],
    ["extension count 17", withByte(CHUNK_24K, 19, 17), "corrupt"],
    ["extension types not increasing", withByte(CHUNK_24K, 23, 0x01), "corrupt"],
    ["extension type 0", withByte(CHUNK_24K, 20, 0x00), "corrupt"],
    ["track 0 written", withByte(CHUNK_24K, 22, 0), "corrupt"],
    ["extension length past the end", withByte(CHUNK_24K, 24, 0x7f), "truncated"],
    ["extension length not shortest", Uint8Array.of(0x02, 0x90, 0x02, 0x00, 0x01, 0, 0, 8, 0xc0, 0x01, 0x10, 0x82, 0x00, 0xab, 0xcd, 0xff, 0x07, 0x00), "corrupt"],
    ["redundancy K_r 0", withByte(CHUNK_24K, 25, 0), "corrupt"],
    ["redundancy K_r 33", withByte(CHUNK_24K, 25, 33), "corrupt"],
    ["redundancy mask 0", withByte(CHUNK_24K, 26, 0), "corrupt"],
    ["redundancy 0 frames", withByte(CHUNK_24K, 27, 0), "corrupt"],
    ["redundancy with too few code bytes", withByte(CHUNK_24K, 27, 0x06), "truncated"],
    ["redundancy padding bits", withByte(CHUNK_24K, 30, 0x10), "corrupt"],
    ["overlap beyond the maximum", withByte(CHUNK_24K, 14, 0x10), "corrupt"],
    ["a byte after the body", Uint8Array.of(...STREAM_24K, 0), "corrupt"],
  ] as const)("%s → %s", (_, bytes, code) => {
    expect(codeOf(() => decodePayload(bytes))).toBe(code);
  });

  test("every proper prefix of a payload is truncated", () => {
    for (const whole of [STREAM_24K, CHUNK_24K, NOISE_48K, WITH_UNKNOWN]) {
      for (let n = 0; n < whole.length; n++) expect(codeOf(() => decodePayload(whole.subarray(0, n))), `prefix ${n}`).toBe("truncated");
    }
  });
});

describe("encodePayload misuse (version 2)", () => {
  const base: FramePayload = { modelKind: "24k", mode: "stream", numCodebooks: 2, numFrames: 1, codes: new Uint16Array(2) };
  const unit: RedundantUnit = { distance: 1, numFrames: 1, codes: new Uint16Array(2) };
  test.each([
    [{ overlapSamples: 10 }, /^overlapSamples must be in \[0, 0\]/],
    [{ mode: "chunked", overlapSamples: MAX_PAYLOAD_OVERLAP_SAMPLES + 1 }, /^overlapSamples/],
    [{ trackId: 256 }, /^trackId/],
    [{ timestampSamples: -1 }, /^timestampSamples/],
    [{ comfortNoiseDb: -60 }, /^numCodebooks must be in \[0, 0\]/],
    [{ numCodebooks: 0, codes: new Uint16Array(0), comfortNoiseDb: 1 }, /^comfortNoiseDb/],
    [{ numFrames: 2, codes: new Uint16Array(4), frameCodebooks: Uint8Array.of(1, 3) }, /^frameCodebooks\[1\] must be in \[1, 2\]/],
    [{ redundancy: { numCodebooks: 2, units: [] } }, /^redundancy.units must hold 1 to 8/],
    [{ redundancy: { numCodebooks: 2, units: [unit, unit] } }, /distance must differ/],
    [{ redundancy: { numCodebooks: 2, units: [{ ...unit, distance: 9 }] } }, /^redundancy.units\[0\].distance/],
    [{ redundancy: { numCodebooks: 2, units: [{ ...unit, codes: new Uint16Array(3) }] } }, /^redundancy.units\[0\].codes/],
    [{ redundancy: { numCodebooks: 2, units: [{ ...unit, scale: 1 }] } }, /^redundancy.units\[0\].scale must be null/],
    [{ extensions: [{ type: 0x80, value: new Uint8Array(0) }] }, /^extensions\[0\].type/],
    [{ extensions: [{ type: 0x02, value: new Uint8Array(0) }] }, /^extensions\[0\].type/],
  ] as const)("%o", (change, message) => {
    expect(() => encodePayload({ ...base, ...(change as Partial<FramePayload>) })).toThrow(message);
  });

  test("a uniform per-frame K table is not written (canonical)", () => {
    const a = encodePayload({ ...base, numFrames: 2, codes: new Uint16Array(4), frameCodebooks: Uint8Array.of(2, 2) });
    expect(sameBytes(a, encodePayload({ ...base, numFrames: 2, codes: new Uint16Array(4) }))).toBe(true);
    expect(decodePayload(a).frameCodebooks).toBeNull();
  });
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % 1024;
}

const arbRedundancy = (kind: "24k" | "48k"): fc.Arbitrary<PayloadRedundancy> =>
  fc
    .record({
      kr: fc.integer({ min: 1, max: kind === "48k" ? 16 : 32 }),
      mask: fc.integer({ min: 1, max: 255 }),
      frames: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 8, maxLength: 8 }),
      cuts: fc.array(fc.integer({ min: 0, max: PAYLOAD_HOP_SAMPLES - 1 }), { minLength: 8, maxLength: 8 }),
      scale: fc.float({ min: Math.fround(1e-6), max: Math.fround(1e4), noNaN: true }),
      seed: fc.integer(),
    })
    .map(({ kr, mask, frames, cuts, scale, seed }) => {
      const next = lcg(seed);
      const units: RedundantUnit[] = [];
      for (let d = 1; d <= 8; d++) {
        if (!(mask & (1 << (d - 1)))) continue;
        const f = frames[d - 1]!;
        units.push({ distance: d, numFrames: f, codes: Uint16Array.from({ length: kr * f }, next), lengthSamples: f * PAYLOAD_HOP_SAMPLES - cuts[d - 1]!, scale: kind === "48k" ? scale : null });
      }
      return { numCodebooks: kr, units };
    });

const arbPayloadV2: fc.Arbitrary<FramePayload> = fc
  .record({
    kind: fc.constantFrom("24k" as const, "48k" as const),
    chunked: fc.boolean(),
    k: fc.integer({ min: 1, max: 32 }),
    f: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 8 }), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: MAX_PAYLOAD_FRAMES }), weight: 1 }),
    perFrame: fc.boolean(),
    noise: fc.option(fc.integer({ min: -127, max: 0 }), { freq: 5 }),
    cut: fc.integer({ min: 0, max: PAYLOAD_HOP_SAMPLES - 1 }),
    scale: fc.float({ min: Math.fround(1e-8), max: Math.fround(1e6), noNaN: true }),
    first: fc.boolean(),
    end: fc.boolean(),
    timestamp: fc.nat({ max: 2 ** 32 - 1 }),
    overlap: fc.integer({ min: 0, max: MAX_PAYLOAD_OVERLAP_SAMPLES }),
    track: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    redundancy: fc.option(fc.constant(0), { freq: 2 }),
    r24: arbRedundancy("24k"),
    r48: arbRedundancy("48k"),
    unknown: fc.option(fc.record({ type: fc.integer({ min: 4, max: 0x7f }), value: fc.uint8Array({ maxLength: 200 }) }), { freq: 4 }),
    seed: fc.integer(),
  })
  .map(({ kind, chunked, k, f, perFrame, noise, cut, scale, first, end, timestamp, overlap, track, redundancy, r24, r48, unknown, seed }) => {
    const next = lcg(seed);
    const mode = kind === "48k" || chunked ? "chunked" : "stream";
    const numCodebooks = noise !== null ? 0 : kind === "48k" ? Math.min(k, 16) : k;
    const table = perFrame && numCodebooks > 1 && f > 1 ? Uint8Array.from({ length: f }, (_, j) => (j === 0 ? numCodebooks : 1 + (next() % numCodebooks))) : null;
    const codes = Uint16Array.from({ length: numCodebooks * f }, (_, i) => (table && Math.floor(i / f) >= table[i % f]! ? 0 : next()));
    return {
      modelKind: kind,
      mode,
      numCodebooks,
      numFrames: f,
      codes,
      frameCodebooks: table,
      lengthSamples: f * PAYLOAD_HOP_SAMPLES - cut,
      scale: kind === "48k" && numCodebooks > 0 ? scale : null,
      firstOfStream: first,
      endOfStream: end,
      timestampSamples: timestamp,
      overlapSamples: mode === "chunked" ? overlap : 0,
      trackId: track,
      redundancy: redundancy === null ? null : kind === "48k" ? r48 : r24,
      comfortNoiseDb: noise,
      extensions: unknown ? [unknown] : [],
    } satisfies FramePayload;
  });

describe("version 2 properties (fast-check, seeded)", () => {
  test("decode(encode(p)) = p, and re-encoding the decoded payload gives the same bytes", () => {
    fc.assert(
      fc.property(arbPayloadV2, (p) => {
        const bytes = encodePayload(p);
        const d = decodePayload(bytes);
        expect([d.version, d.modelKind, d.mode, d.numCodebooks, d.numFrames, d.lengthSamples, d.firstOfStream, d.endOfStream, d.timestampSamples, d.overlapSamples, d.trackId, d.comfortNoiseDb]).toEqual([
          2, p.modelKind, p.mode, p.numCodebooks, p.numFrames, p.lengthSamples, p.firstOfStream, p.endOfStream, p.timestampSamples, p.overlapSamples, p.trackId, p.comfortNoiseDb,
        ]);
        expect(d.codes).toEqual(p.codes);
        const uniform = !p.frameCodebooks || p.frameCodebooks.every((x) => x === p.numCodebooks);
        expect(d.frameCodebooks).toEqual(uniform ? null : p.frameCodebooks);
        expect(d.scale).toBe(p.scale === null ? null : Math.fround(p.scale!));
        expect(d.extensions).toEqual(p.extensions);
        if (p.redundancy) {
          expect(d.redundancy!.numCodebooks).toBe(p.redundancy.numCodebooks);
          expect(d.redundancy!.units.map((u) => [u.distance, u.numFrames, u.lengthSamples, u.scale, [...u.codes]])).toEqual(
            p.redundancy.units.map((u) => [u.distance, u.numFrames, u.lengthSamples, u.scale === null ? null : Math.fround(u.scale!), [...u.codes]]),
          );
        } else expect(d.redundancy).toBeNull();
        expect(sameBytes(encodePayload({ ...d, codes: d.codes! }), bytes)).toBe(true);
      }),
      { seed: 20_261_205, numRuns: 300 },
    );
  });

  test("a mutated payload is refused with CodecError or decodes to the payload that re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(arbPayloadV2, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), (p, edits) => {
        const bytes = encodePayload(p);
        for (const [at, xor] of edits) bytes[at % bytes.length]! ^= xor;
        let decoded;
        try {
          decoded = decodePayload(bytes);
        } catch (e) {
          expect(isCodecError(e), String(e)).toBe(true);
          return;
        }
        expect(sameBytes(encodePayload({ ...decoded, codes: decoded.codes! }), bytes)).toBe(true);
      }),
      { seed: 17, numRuns: 1000 },
    );
  });

  test("truncated or extended payloads are refused (truncated / corrupt)", () => {
    fc.assert(
      fc.property(arbPayloadV2, fc.nat(), fc.integer({ min: 1, max: 8 }), (p, cut, extra) => {
        const bytes = encodePayload(p);
        expect(codeOf(() => decodePayload(bytes.subarray(0, cut % bytes.length)))).toBe("truncated");
        expect(codeOf(() => parsePayloadHeader(Uint8Array.of(...bytes, ...new Uint8Array(extra))))).toBe("corrupt");
      }),
      { seed: 23, numRuns: 300 },
    );
  });
});
