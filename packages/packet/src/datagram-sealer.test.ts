import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SECURE_OVERHEAD_BYTES } from "./constants.js";
import { DatagramOpener, type OpenResult } from "./datagram-opener.js";
import { DatagramSealer, sealedLength } from "./datagram-sealer.js";
import { splitIntoFragments } from "./fragmenter.js";
import type { StreamKey } from "./key-file.js";
import { decodeSealedHeader, encodePacket } from "./packet-header.js";
import { isPacketError } from "./errors.js";

const KEY: StreamKey = { keyId: 7, key: Uint8Array.from({ length: 32 }, (_, i) => i) };
const OTHER: StreamKey = { keyId: 7, key: Uint8Array.from({ length: 32 }, (_, i) => 255 - i) };
const SALT = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

/** Frame 7, one fragment, overlap, frag_id 0xdeadbeef, payload "abc": the README's example. */
const PLAIN = encodePacket(
  { seqNum: 7, totalLength: 3, hasOverlap: true, fragId: 0xdeadbeef, totalFrags: 1, fragIndex: 0 },
  new TextEncoder().encode("abc"),
);

// prettier-ignore
const SEALED_FIXTURE = Uint8Array.of(
  0x00, 0x00, 0x00, 0x07, // seq_num = 7            (the seed header, in clear)
  0x00, 0x00, 0x00, 0x03, // total_length = 3 (plaintext bytes)
  0x00, 0x00, 0x00, 0x01, // has_overlap = 1
  0xde, 0xad, 0xbe, 0xef, // frag_id
  0x00, 0x00, 0x00, 0x01, // total_frags = 1
  0x00, 0x00, 0x00, 0x00, // frag_index = 0
  0x01,                   // version = 1
  0x07,                   // key_id = 7
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // salt
  0x00, 0x00, 0x00, 0x00, // counter = 0            (nonce = salt ‖ counter)
  0xeb, 0x7d, 0x4d,       // "abc" under AES-256-GCM (key 00 01 … 1f)
  0xab, 0x51, 0x2f, 0xcc, 0xeb, 0xff, 0x36, 0x3c, // tag over bytes 0..37 and the ciphertext
  0x91, 0xe7, 0xab, 0x1a, 0xf4, 0x50, 0x98, 0xd7,
);

function opened(result: OpenResult): Extract<OpenResult, { status: "opened" }> {
  if (result.status !== "opened") throw new Error(`expected opened, got ${result.reason}`);
  return result;
}

describe("DatagramSealer / DatagramOpener", () => {
  test("the sealed bytes are the documented layout (fixture checked with node:crypto)", async () => {
    const sealer = await DatagramSealer.create({ key: KEY, salt: SALT });
    const sealed = await sealer.seal(PLAIN);
    expect(sealed).toEqual(SEALED_FIXTURE);
    expect(sealed.length).toBe(sealedLength(PLAIN.length));
    expect(sealedLength(24)).toBe(24 + SECURE_OVERHEAD_BYTES);
  });

  test("decodeSealedHeader reads the clear header of a sealed datagram and checks it", () => {
    expect(decodeSealedHeader(SEALED_FIXTURE)).toEqual({ seqNum: 7, totalLength: 3, hasOverlap: true, fragId: 0xdeadbeef, totalFrags: 1, fragIndex: 0 });
    const codeOf = (bytes: Uint8Array) => {
      try {
        decodeSealedHeader(bytes);
      } catch (error) {
        return isPacketError(error) ? error.code : "other";
      }
      return "none";
    };
    expect(codeOf(SEALED_FIXTURE.subarray(0, 53))).toBe("truncated");
    expect(codeOf(Uint8Array.of(...SEALED_FIXTURE.subarray(0, 24), 2, ...SEALED_FIXTURE.subarray(25)))).toBe("bad-field");
    expect(codeOf(Uint8Array.of(...SEALED_FIXTURE, 0))).toBe("bad-length");
    expect(codeOf(PLAIN)).toBe("truncated");
  });

  test("open gives back the seed datagram, key id, salt and counter", async () => {
    const opener = await DatagramOpener.create({ keys: [KEY] });
    const result = opened(await opener.open(SEALED_FIXTURE));
    expect(result).toEqual({ status: "opened", datagram: PLAIN, keyId: 7, salt: "0102030405060708", counter: 0 });
    expect(opener.stats).toEqual({ opened: 1, malformed: 0, unknownKey: 0, replayed: 0, tooOld: 0, forged: 0 });
  });

  test("counters count every datagram; repeats of the same datagram seal differently", async () => {
    const sealer = await DatagramSealer.create({ key: KEY });
    const a = await sealer.seal(PLAIN);
    const b = await sealer.seal(PLAIN);
    expect(sealer.sealed).toBe(2);
    expect(a).not.toEqual(b);
    const opener = await DatagramOpener.create({ keys: [KEY] });
    expect(opened(await opener.open(b)).counter).toBe(1);
    expect(opened(await opener.open(a)).counter).toBe(0); // reordered within the window
  });

  test("two sealers draw different salts", async () => {
    const a = await DatagramSealer.create({ key: KEY });
    const b = await DatagramSealer.create({ key: KEY });
    expect(a.salt).not.toEqual(b.salt);
  });

  test("a replay is refused before decryption, also racing its original", async () => {
    const opener = await DatagramOpener.create({ keys: [KEY] });
    const [first, second] = await Promise.all([opener.open(SEALED_FIXTURE), opener.open(SEALED_FIXTURE)]);
    expect([first!.status, second!.status].sort()).toEqual(["opened", "rejected"]);
    expect((await opener.open(SEALED_FIXTURE)).status).toBe("rejected");
    expect(opener.stats).toMatchObject({ opened: 1, replayed: 2 });
  });

  test("a datagram behind the replay window is too old", async () => {
    const sealer = await DatagramSealer.create({ key: KEY });
    const opener = await DatagramOpener.create({ keys: [KEY], replayWindowDatagrams: 64 });
    const old = await sealer.seal(PLAIN);
    for (let i = 0; i < 64; i++) await sealer.seal(PLAIN);
    opened(await opener.open(await sealer.seal(PLAIN))); // counter 65
    expect(await opener.open(old)).toEqual({ status: "rejected", reason: "too-old" });
  });

  test.each([
    ["a wrong key with the same id", [OTHER], "forged"],
    ["no key of that id", [{ keyId: 8, key: KEY.key }], "unknown-key"],
  ] as const)("%s: %s", async (_name, keys, reason) => {
    const opener = await DatagramOpener.create({ keys });
    expect(await opener.open(SEALED_FIXTURE)).toEqual({ status: "rejected", reason });
  });

  test("a key ring opens datagrams of each of its keys", async () => {
    const other = { keyId: 9, key: OTHER.key };
    const opener = await DatagramOpener.create({ keys: [other, KEY] });
    const a = await (await DatagramSealer.create({ key: KEY })).seal(PLAIN);
    const b = await (await DatagramSealer.create({ key: other })).seal(PLAIN);
    expect(opened(await opener.open(a)).keyId).toBe(7);
    expect(opened(await opener.open(b)).keyId).toBe(9);
  });

  test("an unsealed (seed) datagram is refused", async () => {
    const opener = await DatagramOpener.create({ keys: [KEY] });
    const seed = splitIntoFragments(new Uint8Array(100).fill(1), { seq: 1, fragId: 1 })[0]!;
    expect((await opener.open(seed)).status).toBe("rejected");
    expect(opener.stats.opened).toBe(0);
  });

  test("a forgotten run is still refused as replayed; a forgery never creates a window", async () => {
    const opener = await DatagramOpener.create({ keys: [KEY], maxTrackedSalts: 2, retiredSalts: 8 });
    const first = await DatagramSealer.create({ key: KEY });
    const old = await first.seal(PLAIN);
    opened(await opener.open(await first.seal(PLAIN)));
    for (let run = 0; run < 2; run++) opened(await opener.open(await (await DatagramSealer.create({ key: KEY })).seal(PLAIN)));
    expect(await opener.open(old)).toEqual({ status: "rejected", reason: "replayed" });
  });

  test("misuse throws naming the parameter", async () => {
    await expect(DatagramSealer.create({ key: { keyId: 256, key: KEY.key } })).rejects.toThrow(/^key.keyId/);
    await expect(DatagramSealer.create({ key: { keyId: 1, key: new Uint8Array(16) } })).rejects.toThrow(/^key.key must be 32 bytes/);
    await expect(DatagramSealer.create({ key: KEY, salt: new Uint8Array(4) })).rejects.toThrow(/^salt/);
    await expect(DatagramOpener.create({ keys: [] })).rejects.toThrow(/^keys/);
    await expect(DatagramOpener.create({ keys: [KEY, KEY] })).rejects.toThrow(/repeated/);
    await expect(DatagramOpener.create({ keys: [KEY], replayWindowDatagrams: 100 })).rejects.toThrow(/^sizeDatagrams/);
    const sealer = await DatagramSealer.create({ key: KEY });
    await expect(sealer.seal(new Uint8Array(10))).rejects.toThrow(/^datagram must be a valid seed datagram/);
  });
});

describe("properties (fast-check): no altered, truncated, replayed or foreign datagram opens", () => {
  const frames = fc.record({
    frame: fc.uint8Array({ minLength: 0, maxLength: 600 }),
    seq: fc.nat(),
    fragId: fc.nat(),
    hasOverlap: fc.boolean(),
  });

  test("any bit flipped anywhere: rejected, and a later untouched copy still opens", async () => {
    await fc.assert(
      fc.asyncProperty(frames, fc.nat(), fc.integer({ min: 0, max: 7 }), async (f, at, bit) => {
        const sealer = await DatagramSealer.create({ key: KEY });
        const opener = await DatagramOpener.create({ keys: [KEY] });
        const datagram = splitIntoFragments(f.frame, { seq: f.seq, fragId: f.fragId, hasOverlap: f.hasOverlap, mtuBytes: 190 })[0]!;
        const sealed = await sealer.seal(datagram);
        const bad = sealed.slice();
        bad[at % bad.length]! ^= 1 << bit;
        expect((await opener.open(bad)).status).toBe("rejected");
        expect(opened(await opener.open(sealed)).datagram).toEqual(datagram);
      }),
      { numRuns: 300 },
    );
  });

  test("any truncation or extension: rejected", async () => {
    await fc.assert(
      fc.asyncProperty(frames, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), async (f, cut, extra) => {
        const sealer = await DatagramSealer.create({ key: KEY });
        const opener = await DatagramOpener.create({ keys: [KEY] });
        const datagram = splitIntoFragments(f.frame, { seq: f.seq, fragId: f.fragId, mtuBytes: 190 })[0]!;
        const sealed = await sealer.seal(datagram);
        expect((await opener.open(sealed.subarray(0, cut % sealed.length))).status).toBe("rejected");
        const longer = new Uint8Array(sealed.length + extra.length);
        longer.set(sealed);
        longer.set(extra, sealed.length);
        expect((await opener.open(longer)).status).toBe("rejected");
        expect(opener.stats.opened).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  test("a stream replayed in any order after its delivery: 0 accepted; wrong key: 0 accepted", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 20 }), fc.integer(), async (list, seed) => {
        const sealer = await DatagramSealer.create({ key: KEY });
        const opener = await DatagramOpener.create({ keys: [KEY] });
        const stranger = await DatagramOpener.create({ keys: [OTHER] });
        const sealed: Uint8Array[] = [];
        for (const f of list) sealed.push(await sealer.seal(splitIntoFragments(f.frame, { seq: f.seq, fragId: f.fragId, mtuBytes: 190 })[0]!));
        for (const s of sealed) opened(await opener.open(s));
        const shuffled = sealed.map((s, i) => ({ s, k: (i * 2654435761 + seed) >>> 0 })).sort((a, b) => a.k - b.k);
        for (const { s } of shuffled) {
          expect((await opener.open(s)).status).toBe("rejected");
          expect((await stranger.open(s)).status).toBe("rejected");
        }
        expect(opener.stats.opened).toBe(list.length);
        expect(stranger.stats.opened).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  test("random bytes: never opened", async () => {
    const opener = await DatagramOpener.create({ keys: [KEY] });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (bytes) => {
        expect((await opener.open(bytes)).status).toBe("rejected");
      }),
      { numRuns: 2_000 },
    );
    expect(opener.stats.opened).toBe(0);
  });
});
