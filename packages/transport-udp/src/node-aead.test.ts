import { createWebCryptoAead, DatagramOpener, DatagramSealer, encodePacket, splitIntoFragments, type StreamKey } from "@encstream/packet";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createNodeAead } from "./node-aead.js";

const KEY: StreamKey = { keyId: 3, key: Uint8Array.from({ length: 32 }, (_, i) => i * 7) };
const SALT = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);

describe("createNodeAead", () => {
  test("seals the same bytes as WebCrypto, and each opens the other's", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.nat(), async (frame, seq) => {
        const datagram = splitIntoFragments(frame, { seq, fragId: seq ^ 0x5555, mtuBytes: 190 })[0]!;
        const viaNode = await (await DatagramSealer.create({ key: KEY, salt: SALT, aead: createNodeAead })).seal(datagram);
        const viaWeb = await (await DatagramSealer.create({ key: KEY, salt: SALT, aead: createWebCryptoAead })).seal(datagram);
        expect(viaNode).toEqual(viaWeb);
        const nodeOpener = await DatagramOpener.create({ keys: [KEY], aead: createNodeAead });
        const webOpener = await DatagramOpener.create({ keys: [KEY] });
        const a = await nodeOpener.open(viaWeb);
        const b = await webOpener.open(viaNode);
        expect(a.status === "opened" && a.datagram).toEqual(datagram);
        expect(b.status === "opened" && b.datagram).toEqual(datagram);
      }),
      { numRuns: 100 },
    );
  });

  test("a flipped bit, a wrong key or a short input: null, never a throw", () => {
    const aead = createNodeAead(KEY.key);
    const nonce = new Uint8Array(12);
    const aad = encodePacket({ seqNum: 1, totalLength: 0, hasOverlap: false, fragId: 1, totalFrags: 1, fragIndex: 0 }, new Uint8Array(0));
    const sealed = aead.encrypt(nonce, aad, Uint8Array.of(1, 2, 3)) as Uint8Array;
    expect(aead.decrypt(nonce, aad, sealed)).toEqual(Uint8Array.of(1, 2, 3));
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = sealed.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(aead.decrypt(nonce, aad, bad)).toBeNull();
    }
    expect(createNodeAead(new Uint8Array(32)).decrypt(nonce, aad, sealed)).toBeNull();
    expect(aead.decrypt(nonce, aad, sealed.subarray(0, 15))).toBeNull();
    expect(aead.decrypt(nonce, aad.subarray(1), sealed)).toBeNull();
  });

  test("misuse throws naming the key", () => {
    expect(() => createNodeAead(new Uint8Array(16))).toThrow(/^key must be 32 bytes/);
    expect(() => createNodeAead("k" as unknown as Uint8Array)).toThrow(TypeError);
  });
});
