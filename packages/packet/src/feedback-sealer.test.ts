import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DatagramOpener } from "./datagram-opener.js";
import { DatagramSealer } from "./datagram-sealer.js";
import { FEEDBACK_OVERHEAD_BYTES, FeedbackOpener, FeedbackSealer, type FeedbackOpenResult } from "./feedback-sealer.js";
import type { StreamKey } from "./key-file.js";
import { encodePacket } from "./packet-header.js";

const KEY: StreamKey = { keyId: 7, key: Uint8Array.from({ length: 32 }, (_, i) => i) };
const OTHER: StreamKey = { keyId: 7, key: Uint8Array.from({ length: 32 }, (_, i) => 255 - i) };
const ROTATED: StreamKey = { keyId: 9, key: Uint8Array.from({ length: 32 }, (_, i) => (i * 5) & 0xff) };
const SALT = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const MESSAGE = new TextEncoder().encode("RR!");

// prettier-ignore
const FIXTURE = Uint8Array.of(
  0x45, 0x46,             // magic "EF"
  0x01,                   // version = 1
  0x07,                   // key_id = 7
  0x81, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // salt (01 02 … 08 given; the top bit set: feedback direction)
  0x00, 0x00, 0x00, 0x00, // counter = 0            (nonce = salt ‖ counter)
  0xb6, 0x61, 0x3a,       // "RR!" under AES-256-GCM (key 00 01 … 1f)
  0xac, 0x70, 0xc3, 0xde, 0x3f, 0x19, 0xd9, 0xb5, // tag over bytes 0..15 and the ciphertext
  0x88, 0x3c, 0xfb, 0x54, 0xa1, 0x24, 0xad, 0xb0,
);

function message(result: FeedbackOpenResult): Uint8Array {
  if (result.status !== "opened") throw new Error(`expected opened, got ${result.reason}`);
  return result.message;
}

describe("FeedbackSealer / FeedbackOpener", () => {
  test("the sealed bytes are the documented layout (fixture checked with node:crypto)", async () => {
    const sealer = await FeedbackSealer.create({ keys: [KEY], salt: SALT });
    expect(await sealer.seal(MESSAGE)).toEqual(FIXTURE);
    expect(FIXTURE.length).toBe(MESSAGE.length + FEEDBACK_OVERHEAD_BYTES);
    expect(sealer.sealed).toBe(1);
  });

  test("opens what it sealed, once; any key of the ring, chosen per message", async () => {
    const sealer = await FeedbackSealer.create({ keys: [KEY, ROTATED] });
    const opener = await FeedbackOpener.create({ keys: [ROTATED, KEY] });
    const a = await sealer.seal(MESSAGE);
    const b = await sealer.seal(MESSAGE, 9);
    expect(message(await opener.open(a))).toEqual(MESSAGE);
    expect(await opener.open(b)).toEqual({ status: "opened", message: MESSAGE, keyId: 9 });
    expect(await opener.open(a)).toEqual({ status: "rejected", reason: "replayed" });
    expect(opener.stats).toEqual({ opened: 2, rejected: 1 });
    await expect(sealer.seal(MESSAGE, 3)).rejects.toThrow(/^keyId/);
    await expect(sealer.seal(new Uint8Array(0))).rejects.toThrow(/^message.length/);
    await expect(sealer.seal(new Uint8Array(1025))).rejects.toThrow(/^message.length/);
  });

  test("refuses a wrong key, an unknown key id, and anything altered, truncated or extended", async () => {
    const opener = await FeedbackOpener.create({ keys: [KEY] });
    const wrong = await (await FeedbackSealer.create({ keys: [OTHER] })).seal(MESSAGE);
    expect(await opener.open(wrong)).toEqual({ status: "rejected", reason: "forged" });
    const unknown = await (await FeedbackSealer.create({ keys: [ROTATED] })).seal(MESSAGE);
    expect(await opener.open(unknown)).toEqual({ status: "rejected", reason: "unknown-key" });
    const sealer = await FeedbackSealer.create({ keys: [KEY] });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 2 }), async (plain, at, how) => {
        const sealed = await sealer.seal(plain);
        const bad =
          how === 0
            ? Uint8Array.from(sealed, (x, i) => (i === at % sealed.length ? x ^ (1 << (at % 8)) : x))
            : how === 1
              ? sealed.subarray(0, at % sealed.length)
              : Uint8Array.of(...sealed, at & 0xff);
        expect((await opener.open(bad)).status).toBe("rejected");
        // the original still opens: a refused datagram changed nothing
        expect(message(await opener.open(sealed))).toEqual(plain);
      }),
      { numRuns: 300, seed: 10 },
    );
  });

  test("the two directions never share a nonce: media salts have the top bit clear, feedback salts set, each opener refuses the other", async () => {
    for (let i = 0; i < 64; i++) {
      const media = await DatagramSealer.create({ key: KEY });
      expect(media.salt[0]! & 0x80).toBe(0);
    }
    await expect(DatagramSealer.create({ key: KEY, salt: Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0) })).rejects.toThrow(/^salt/);
    const feedback = await FeedbackSealer.create({ keys: [KEY], salt: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0) });
    const sealedFeedback = await feedback.seal(MESSAGE);
    expect(sealedFeedback[4]! & 0x80).toBe(0x80);

    // A media datagram dressed as feedback (same key, a media salt) is refused before decryption.
    const mediaOpener = await DatagramOpener.create({ keys: [KEY] });
    const plain = encodePacket({ seqNum: 1, totalLength: 3, hasOverlap: false, fragId: 5, totalFrags: 1, fragIndex: 0 }, MESSAGE);
    const sealedMedia = await (await DatagramSealer.create({ key: KEY })).seal(plain);
    const asFeedback = Uint8Array.of(0x45, 0x46, 1, 7, ...sealedMedia.subarray(26));
    expect(await (await FeedbackOpener.create({ keys: [KEY] })).open(asFeedback)).toEqual({ status: "rejected", reason: "malformed" });
    // And a media datagram whose salt has the feedback bit is refused by the media opener.
    const flipped = sealedMedia.slice();
    flipped[26]! |= 0x80;
    expect(await mediaOpener.open(flipped)).toEqual({ status: "rejected", reason: "malformed" });
    expect((await mediaOpener.open(sealedMedia)).status).toBe("opened");
  });

  test("never throws on random bytes", async () => {
    const opener = await FeedbackOpener.create({ keys: [KEY] });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1200 }), async (bytes) => {
        expect((await opener.open(bytes)).status).toBe("rejected");
      }),
      { numRuns: 500, seed: 11 },
    );
    expect(opener.stats.opened).toBe(0);
  });
});
