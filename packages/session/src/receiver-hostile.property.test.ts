import { join } from "node:path";
import { encodePayload } from "@encstream/codec";
import { splitIntoFragments } from "@encstream/packet";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, openTinyCodec, seededRandom } from "../test/support/tiny-codec.js";
import { makeFragId } from "./frag-id.js";
import { createFrameStreamDecoder } from "./frame-decoder.js";
import { DatagramQueue } from "./internal/datagram-queue.js";
import { ReceiverSession } from "./receiver-session.js";
import type { DatagramTransport, DatagramTransportStats, InboundDatagram, SendOutcome } from "./transport.js";

/*
 * A valid stream interleaved with arbitrary hostile datagrams from another source (random bytes,
 * forged headers with near seqs, the stream's id or others, first/end flags, huge totals, other
 * models' payloads), into a real ReceiverSession with the real tiny 24 kHz model (fast enough:
 * a 24-frame stream decodes in well under a second, so the real decoder is used, not a fake).
 * The output must equal the lossless output of the valid stream outside the frames the receiver
 * says it concealed (on a loaded machine a frame can come late), at its exact length, in one
 * stream; nothing throws.
 */

const FRAME_MS = 320 / 24;
const FRAMES = 24;
const STREAM_ID = 0x1234;
const K = 2;
const SENDER = { address: "10.0.0.1", port: 5000 };
const ATTACKER = { address: "10.0.0.66", port: 6666 };

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  codec = await openTinyCodec("tiny24", join(await makeTempDir("receiver-hostile"), "cache"));
});

afterAll(async () => {
  await codec?.release();
});

/** A transport the test feeds directly, choosing each datagram's source; sends (reports) are counted. */
class ScriptedTransport implements DatagramTransport {
  readonly #queue = new DatagramQueue<InboundDatagram>(65_536);
  #received = 0;
  #sent = 0;

  deliver(bytes: Uint8Array, from: { address: string; port: number }): void {
    this.#received++;
    this.#queue.push({ bytes: bytes.slice(), receivedAtMs: performance.now(), remoteAddress: from.address, remotePort: from.port });
  }

  async send(datagrams: readonly Uint8Array[]): Promise<SendOutcome> {
    this.#sent += datagrams.length;
    return "sent";
  }

  async close(): Promise<void> {
    this.#queue.end();
  }

  get stats(): DatagramTransportStats {
    return { datagramsReceived: this.#received, bytesReceived: 0, malformed: 0, dropped: 0, datagramsSent: this.#sent, bytesSent: 0 };
  }

  [Symbol.asyncIterator](): AsyncIterator<InboundDatagram> {
    return { next: () => this.#queue.next() };
  }
}

/** The valid stream's codes, one frame a unit. */
const random = seededRandom(1010);
const CODES = Array.from({ length: FRAMES }, () => Uint16Array.from({ length: K }, () => Math.floor(random() * 1024)));

function validDatagrams(seq: number): Uint8Array[] {
  const payload = encodePayload({
    modelKind: "24k",
    mode: "stream",
    numCodebooks: K,
    numFrames: 1,
    codes: CODES[seq]!,
    firstOfStream: seq === 0,
    endOfStream: seq === FRAMES - 1,
    timestampSamples: seq * 320,
  });
  return splitIntoFragments(payload, { seq, fragId: makeFragId(STREAM_ID, seq) });
}

/** What an attacker sends: each kind turned into datagrams given the seq the stream is at. */
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => () => [bytes]),
  fc
    .record({
      ahead: fc.integer({ min: -4, max: 6 }),
      ownId: fc.boolean(),
      first: fc.boolean(),
      end: fc.boolean(),
      frames: fc.constantFrom(1, 2, 1024),
      code: fc.integer({ min: 0, max: 1023 }),
    })
    .map((f) => (at: number) => {
      const seq = Math.max(0, at + f.ahead);
      const payload = encodePayload({
        modelKind: "24k",
        mode: "stream",
        numCodebooks: K,
        numFrames: f.frames,
        codes: new Uint16Array(K * f.frames).fill(f.code),
        firstOfStream: f.first,
        endOfStream: f.end,
        timestampSamples: seq * 320,
      });
      return splitIntoFragments(payload, { seq, fragId: makeFragId(f.ownId ? STREAM_ID : 0x4321, seq + 7) });
    }),
  fc
    .record({ seq: fc.nat(), total: fc.integer({ min: 0, max: 0xffff_ffff }), frags: fc.integer({ min: 0, max: 0xffff_ffff }), index: fc.nat() })
    .map((h) => () => {
      // any header values at all (huge totals, index past the count, zero fragments): written raw
      const bytes = new Uint8Array(44);
      const view = new DataView(bytes.buffer);
      [h.seq, h.total, 0, makeFragId(STREAM_ID, h.seq & 0xffff), h.frags, h.index].forEach((v, i) => view.setUint32(4 * i, v >>> 0));
      return [bytes];
    }),
  fc.record({ ahead: fc.integer({ min: 0, max: 4 }), end: fc.boolean() }).map((f) => (at: number) => {
    // another model's payload, in the stream's own id and seq range
    const payload = encodePayload({ modelKind: "48k", mode: "chunked", numCodebooks: 2, numFrames: 1, codes: new Uint16Array(2), scale: 0.5, firstOfStream: true, endOfStream: f.end, overlapSamples: 0 });
    return splitIntoFragments(payload, { seq: at + f.ahead, fragId: makeFragId(STREAM_ID, at + f.ahead) });
  }),
);

/** The lossless output of the valid stream, `concealed` frames played as missing. */
async function reference(concealed: ReadonlySet<number>): Promise<Float32Array> {
  const decoder = await createFrameStreamDecoder(codec);
  const parts: Float32Array[] = [];
  for (let seq = 0; seq < FRAMES; seq++) {
    const out = concealed.has(seq)
      ? await decoder.missing(1)
      : await decoder.decode({ codes: CODES[seq]!, numCodebooks: K, numFrames: 1, lengthSamples: 320, scale: null, hasOverlap: false });
    parts.push(out[0]!);
  }
  parts.push((await decoder.finish())[0]!);
  const whole = new Float32Array(FRAMES * 320);
  let at = 0;
  for (const p of parts) {
    const n = Math.min(p.length, whole.length - at);
    whole.set(p.subarray(0, n), at);
    at += n;
  }
  return whole;
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe("ReceiverSession under hostile datagrams", () => {
  test("a valid stream mixed with hostile datagrams from another source plays as its lossless output outside concealed frames; nothing throws", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: FRAMES - 1 }), hostile), { maxLength: 40 }), async (attacks) => {
        const transport = new ScriptedTransport();
        const blocks: Float32Array[] = [];
        const session = new ReceiverSession(transport, {
          codec,
          overlapRatio: 0.25,
          bufferFrames: 6,
          idleTimeoutMs: 5_000,
          sink: { write: async (audio) => void blocks.push(audio[0]!.slice()) },
        });
        const running = session.run();
        for (let seq = 0; seq < FRAMES; seq++) {
          for (const d of validDatagrams(seq)) transport.deliver(d, SENDER);
          for (const [at, make] of attacks) if (at === seq) for (const d of make(seq)) transport.deliver(d, ATTACKER);
          await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
        }
        const stats = await running; // rejects if anything threw
        const output = new Float32Array(blocks.reduce((n, b) => n + b.length, 0));
        let at = 0;
        for (const b of blocks) (output.set(b, at), (at += b.length));
        expect(stats.streams).toBe(1);
        expect(output.length).toBe(FRAMES * 320);
        const concealed = new Set<number>();
        for (;;) {
          const diff = firstDifference(output, await reference(concealed));
          if (diff < 0) break;
          const frame = Math.floor(diff / 320);
          expect(concealed.has(frame)).toBe(false);
          concealed.add(frame);
          expect(concealed.size).toBeLessThanOrEqual(stats.concealed);
        }
        expect(concealed.size).toBe(stats.concealed);
        expect(stats.played + stats.concealed).toBe(FRAMES);
      }),
      { numRuns: 12, seed: 20_261_205 },
    );
  }, 120_000);
});
