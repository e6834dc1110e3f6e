// Fuzz: 120 000 random and mutated datagrams into decodePacket and Reassembler.push.
// Seeded (mulberry32) so a failure reproduces; plain checks in the loop keep it to ~1-2 s.
import { describe, expect, test } from "vitest";
import { HEADER_BYTES } from "./constants.js";
import { isPacketError, PacketError, type PacketErrorCode } from "./errors.js";
import { splitIntoFragments } from "./fragmenter.js";
import { decodePacket, encodePacket } from "./packet-header.js";
import { Reassembler, type PushResult } from "./reassembler.js";

const DATAGRAMS = 120_000;
const MAX_MESSAGE_BYTES = 2_048;
const MAX_PENDING_MESSAGES = 16;

/** mulberry32: a tiny seeded PRNG giving uint32s. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

describe("fuzz (seeded)", () => {
  test(`${DATAGRAMS} random and mutated datagrams: only PacketErrors, push never throws, memory bounded`, () => {
    const next = prng(0x5eed_f022);
    const below = (n: number) => next() % n;
    const randomBytes = (length: number) => Uint8Array.from({ length }, () => next() & 0xff);

    // Valid datagrams to mutate: frames up to 3 KiB (some above the 2 KiB limit), few frag_ids
    // so that mutations collide with messages being reassembled.
    const valid: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const frame = randomBytes(below(i % 10 === 0 ? 3_000 : 1_000));
      const mtuBytes = HEADER_BYTES + 1 + below(300);
      const fragments = splitIntoFragments(frame, { seq: next(), fragId: below(64), hasOverlap: below(2) === 1, mtuBytes });
      valid.push(...fragments.slice(0, 20));
    }
    const pick = () => valid[below(valid.length)]!;
    const interesting = (bytes: Uint8Array, at: number): number => {
      const current = bytes.length >= at + 4 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(at) : 0;
      const choices = [0, 1, 2, current - 1, current + 1, 0xffff_ffff, 0x8000_0000, MAX_MESSAGE_BYTES + 1, next()];
      return choices[below(choices.length)]! >>> 0;
    };

    const mutate = (): Uint8Array => {
      switch (below(8)) {
        case 0: // pure noise, sometimes header-sized
          return randomBytes(below(2) ? below(64) : below(400));
        case 1: // a valid datagram unchanged
          return pick();
        case 2: {
          // bit flips
          const bytes = pick().slice();
          for (let flips = 1 + below(8); flips > 0; flips--) bytes[below(bytes.length)]! ^= 1 << below(8);
          return bytes;
        }
        case 3: // truncation
          return pick().slice(0, below(pick().length + 1));
        case 4: {
          // overwrite one or two header fields with edge values
          const bytes = pick().slice();
          const view = new DataView(bytes.buffer);
          for (let n = 1 + below(2); n > 0; n--) {
            const at = 4 * below(6);
            view.setUint32(at, interesting(bytes, at));
          }
          return bytes;
        }
        case 5: {
          // extension with junk
          const base = pick();
          const bytes = new Uint8Array(base.length + 1 + below(200));
          bytes.set(base);
          bytes.set(randomBytes(bytes.length - base.length), base.length);
          return bytes;
        }
        case 6: {
          // the header of one datagram on the payload of another
          const head = pick();
          const body = pick();
          const bytes = new Uint8Array(HEADER_BYTES + body.length - HEADER_BYTES);
          bytes.set(head.subarray(0, HEADER_BYTES));
          bytes.set(body.subarray(HEADER_BYTES), HEADER_BYTES);
          return bytes;
        }
        default: {
          // a plausible random header: small counts, lengths around the limit
          const payload = randomBytes(below(300));
          const bytes = new Uint8Array(HEADER_BYTES + payload.length);
          const view = new DataView(bytes.buffer);
          const totalFrags = 1 + below(40);
          view.setUint32(0, next());
          view.setUint32(4, below(2 * MAX_MESSAGE_BYTES));
          view.setUint32(8, below(3));
          view.setUint32(12, below(64));
          view.setUint32(16, totalFrags);
          view.setUint32(20, below(totalFrags + 1));
          bytes.set(payload, HEADER_BYTES);
          return bytes;
        }
      }
    };

    const reassembler = new Reassembler({
      maxMessageBytes: MAX_MESSAGE_BYTES,
      maxPendingMessages: MAX_PENDING_MESSAGES,
      maxAgeMs: 50,
      completedHistory: 32,
    });
    const bound = MAX_PENDING_MESSAGES * 2 * MAX_MESSAGE_BYTES;
    const failures: string[] = [];
    const outcomes: Record<PushResult["status"], number> = { complete: 0, accepted: 0, duplicate: 0, malformed: 0, refused: 0 };
    const reasons = new Map<PacketErrorCode, number>();
    const decodeCodes = new Map<PacketErrorCode, number>();
    let decoded = 0;
    let maxHeldBytes = 0;

    for (let i = 0; i < DATAGRAMS && failures.length < 5; i++) {
      const bytes = mutate();
      let decodeCode: PacketErrorCode | undefined;
      try {
        const packet = decodePacket(bytes);
        decoded++;
        // Anything that decodes re-encodes to the very same bytes.
        const again = encodePacket(packet.header, packet.payload);
        if (again.length !== bytes.length || again.some((b, k) => b !== bytes[k])) {
          failures.push(`#${i}: decode/encode changed the bytes`);
        }
      } catch (error) {
        if (!(error instanceof PacketError) || !isPacketError(error)) {
          failures.push(`#${i}: decodePacket threw ${String(error)}`);
          continue;
        }
        decodeCode = error.code;
        decodeCodes.set(error.code, (decodeCodes.get(error.code) ?? 0) + 1);
      }

      let result: PushResult;
      try {
        result = reassembler.push(bytes, i / 20);
      } catch (error) {
        failures.push(`#${i}: push threw ${String(error)}`);
        continue;
      }
      outcomes[result.status]++;
      if (result.status === "malformed") reasons.set(result.reason, (reasons.get(result.reason) ?? 0) + 1);
      if (decodeCode !== undefined && !(result.status === "malformed" && result.reason === decodeCode)) {
        failures.push(`#${i}: decode said ${decodeCode}, push said ${JSON.stringify(result)}`);
      }
      if (result.status === "complete" && result.message.payload.length > MAX_MESSAGE_BYTES) {
        failures.push(`#${i}: delivered ${result.message.payload.length} bytes`);
      }
      if (reassembler.heldBytes > bound || reassembler.heldMessages > MAX_PENDING_MESSAGES) {
        failures.push(`#${i}: holding ${reassembler.heldMessages} messages, ${reassembler.heldBytes} bytes`);
      }
      maxHeldBytes = Math.max(maxHeldBytes, reassembler.heldBytes);
    }

    expect(failures).toEqual([]);
    const stats = reassembler.stats;
    expect(stats.received).toBe(DATAGRAMS);
    expect(outcomes.complete + outcomes.accepted + outcomes.duplicate + outcomes.malformed).toBe(DATAGRAMS);
    expect(stats).toMatchObject({
      completed: outcomes.complete,
      duplicate: outcomes.duplicate,
      malformed: outcomes.malformed,
    });
    // Not vacuous: every path was taken.
    // (No source and no expected seq here, so nothing is ever refused.)
    expect(outcomes.refused).toBe(0);
    for (const [status, count] of Object.entries(outcomes)) if (status !== "refused") expect(count).toBeGreaterThan(100);
    for (const code of ["truncated", "bad-field", "bad-length", "too-large", "inconsistent"] as const) {
      expect(reasons.get(code) ?? 0, code).toBeGreaterThan(100);
    }
    for (const code of ["truncated", "bad-field", "bad-length"] as const) {
      expect(decodeCodes.get(code) ?? 0, code).toBeGreaterThan(100);
    }
    expect(decoded).toBeGreaterThan(DATAGRAMS / 4);
    expect(stats.expired).toBeGreaterThan(100);
    expect(maxHeldBytes).toBeGreaterThan(0);
    expect(maxHeldBytes).toBeLessThanOrEqual(bound);
  });
});
