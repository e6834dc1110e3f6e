import { join } from "node:path";
import { encodePayload } from "@encstream/codec";
import { splitIntoFragments } from "@encstream/packet";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, openTinyCodec, seededRandom } from "../test/support/tiny-codec.js";
import { makeFragId } from "./frag-id.js";
import { createMemoryTransportPair } from "./memory-transport.js";
import { ReceiverSession, type ReceiverStats } from "./receiver-session.js";
import { RedundancyHistory } from "./redundancy.js";

/*
 * Timed playout (payload v2 in stream mode): messages whose frame count changes from message to
 * message, played by their media timestamps, against the offline decoding of the same frames
 * with the real tiny 24 kHz model. A lost message is concealed by exactly the frames it carried;
 * FEC rebuilds it; a timestamp its seq cannot have is dropped and counted.
 */

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  const dir = await makeTempDir("receiver-timed");
  codec = await openTinyCodec("tiny24", join(dir, "cache"));
});

afterAll(async () => {
  await codec?.release();
});

const MAX_K = 8;
const TOTAL_FRAMES = 40;
const LAST_LENGTH = 200;

/** The test stream's frames: codes at MAX_K codebooks, one array a frame. */
function makeFrames(seed: number): Uint16Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: TOTAL_FRAMES }, () => Uint16Array.from({ length: MAX_K }, () => Math.floor(random() * 1024)));
}

/** One message: frames [first, first + count) at K codebooks. */
interface Message {
  readonly seq: number;
  readonly firstFrame: number;
  readonly numFrames: number;
  readonly numCodebooks: number;
}

/** Cuts the frames into messages of the given sizes (cycled) and K (cycled). */
function cut(sizes: readonly number[], ks: readonly number[]): Message[] {
  const out: Message[] = [];
  for (let at = 0, i = 0; at < TOTAL_FRAMES; i++) {
    const numFrames = Math.min(sizes[i % sizes.length]!, TOTAL_FRAMES - at);
    out.push({ seq: i, firstFrame: at, numFrames, numCodebooks: ks[i % ks.length]! });
    at += numFrames;
  }
  return out;
}

/** Codebook-major codes of a message at K. */
function codesOf(frames: readonly Uint16Array[], m: Message, k = m.numCodebooks): Uint16Array {
  const codes = new Uint16Array(k * m.numFrames);
  for (let q = 0; q < k; q++) for (let f = 0; f < m.numFrames; f++) codes[q * m.numFrames + f] = frames[m.firstFrame + f]![q]!;
  return codes;
}

function lengthOf(m: Message): number {
  return m.firstFrame + m.numFrames === TOTAL_FRAMES ? (m.numFrames - 1) * 320 + LAST_LENGTH : m.numFrames * 320;
}

/** Every message's payload, as a sender writes it (timestamps, optional FEC of depth 1 at 2 codebooks). */
function payloadsOf(frames: readonly Uint16Array[], messages: readonly Message[], options: { fec?: boolean; timestamp?: (m: Message) => number } = {}): Uint8Array[] {
  const history = new RedundancyHistory(1, 2);
  return messages.map((m, i) => {
    const codes = codesOf(frames, m);
    const payload = encodePayload({
      modelKind: "24k",
      mode: "stream",
      numCodebooks: m.numCodebooks,
      numFrames: m.numFrames,
      codes,
      lengthSamples: lengthOf(m),
      scale: null,
      firstOfStream: i === 0,
      endOfStream: i === messages.length - 1,
      timestampSamples: options.timestamp?.(m) ?? m.firstFrame * 320,
      redundancy: options.fec === true ? history.redundancyFor(m.seq) : null,
    });
    history.add({ seq: m.seq, codes, numCodebooks: m.numCodebooks, numFrames: m.numFrames, lengthSamples: lengthOf(m), scale: null });
    return payload;
  });
}

/** Receives the payloads (those not `lost`, in `order` or seq order) sent at once over the memory transport; the whole output and the stats. */
async function receive(payloads: readonly Uint8Array[], lost: ReadonlySet<number> = new Set(), order?: readonly number[]): Promise<{ audio: Float32Array; stats: ReceiverStats }> {
  const [client, server] = createMemoryTransportPair();
  const parts: Float32Array[] = [];
  const session = new ReceiverSession(server, {
    codec,
    overlapRatio: 0.25,
    bufferFrames: 64,
    idleTimeoutMs: 3_000,
    sink: { write: async (planar) => void parts.push(planar[0]!.slice()) },
  });
  const running = session.run();
  for (const seq of order ?? payloads.keys()) {
    if (lost.has(seq)) continue;
    for (const d of splitIntoFragments(payloads[seq]!, { seq, fragId: makeFragId(0x5151, seq) })) await client.send([d]);
  }
  const stats = await running;
  const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    audio.set(p, at);
    at += p.length;
  }
  return { audio, stats };
}

/**
 * The offline decoding, one frame a call (the receiver decodes a timed stream's messages frame
 * by frame, so its audio does not depend on the grouping): each message's frames at its K,
 * `concealed` messages by their frames, `rebuilt` ones at 2 codebooks.
 */
async function decodeOffline(frames: readonly Uint16Array[], messages: readonly Message[], how: { concealed?: ReadonlySet<number>; rebuilt?: ReadonlySet<number> } = {}): Promise<Float32Array> {
  const decoder = await codec.createStreamDecoder();
  const parts: Float32Array[] = [];
  for (const m of messages) {
    if (how.concealed?.has(m.seq)) {
      parts.push((await decoder.pushMissing(m.numFrames))[0]!);
      continue;
    }
    const k = how.rebuilt?.has(m.seq) ? Math.min(2, m.numCodebooks) : m.numCodebooks;
    for (let j = 0; j < m.numFrames; j++) {
      const codes = frames[m.firstFrame + j]!.slice(0, k);
      parts.push((await decoder.push({ codes, numCodebooks: k, numFrames: 1, lengthSamples: Math.min(320, lengthOf(m) - j * 320) }))[0]!);
    }
  }
  parts.push((await decoder.end())[0]!);
  const total = (TOTAL_FRAMES - 1) * 320 + LAST_LENGTH;
  const out = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    const n = Math.min(p.length, total - at);
    out.set(p.subarray(0, n), at);
    at += n;
  }
  return out;
}

describe("timed playout: frames per message that change from message to message", () => {
  const frames = makeFrames(7);
  const variable = cut([1, 3, 2, 4, 1, 1, 5, 2], [8, 2, 4, 1, 8, 4]);
  const total = (TOTAL_FRAMES - 1) * 320 + LAST_LENGTH;

  test("a stream whose frames per message and K change every message decodes bit-identically to the same frames one per message, and offline", async () => {
    // the same frames, one a message, each at the K of the message it belongs to in `variable`
    const kOf = (frame: number) => variable.find((m) => frame >= m.firstFrame && frame < m.firstFrame + m.numFrames)!.numCodebooks;
    const single: Message[] = Array.from({ length: TOTAL_FRAMES }, (_, i) => ({ seq: i, firstFrame: i, numFrames: 1, numCodebooks: kOf(i) }));
    const a = await receive(payloadsOf(frames, variable));
    const b = await receive(payloadsOf(frames, single));
    expect(a.stats).toMatchObject({ played: variable.length, concealed: 0, malformed: 0, unfit: 0 });
    expect(b.stats).toMatchObject({ played: TOTAL_FRAMES, concealed: 0 });
    expect(a.audio.length).toBe(total);
    const offline = await decodeOffline(frames, variable);
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(offline.buffer))).toBe(true);
  });

  test.each([
    { what: "a lost message of 3 frames (popped as missing)", lost: [1] },
    { what: "two lost in a row, 2 and 4 frames", lost: [2, 3] },
    { what: "the first message, before anything was played", lost: [0] },
  ])("$what is concealed by exactly the frames it carried; the rest is bit-identical", async ({ lost }) => {
    const gone = new Set(lost);
    expect(variable[1]!.numFrames).toBe(3);
    const { audio, stats } = await receive(payloadsOf(frames, variable), gone);
    expect(audio.length).toBe(total);
    expect(stats).toMatchObject({ concealed: lost.length, lost: lost.length, played: variable.length - lost.length, recovered: 0 });
    const offline = await decodeOffline(frames, variable, { concealed: gone });
    expect(Buffer.from(audio.buffer).equals(Buffer.from(offline.buffer))).toBe(true);
  });

  test("messages that come before an earlier one, before playout starts, are all played: none late, none concealed", async () => {
    // the path reordered the stream's start: message 3 first, then 0, 1, 2 (the relay's impairment test saw this)
    const order = [3, 0, 1, 2, ...variable.keys()].filter((seq, i, all) => all.indexOf(seq) === i);
    const { audio, stats } = await receive(payloadsOf(frames, variable), new Set(), order);
    expect(stats).toMatchObject({ played: variable.length, concealed: 0, lost: 0, late: 0 });
    expect(audio.length).toBe(total);
    expect(Buffer.from(audio.buffer).equals(Buffer.from((await decodeOffline(frames, variable)).buffer))).toBe(true);
  });

  test("FEC rebuilds a lost 3-frame message from the next one's redundancy, at its 2 codebooks", async () => {
    const { audio, stats } = await receive(payloadsOf(frames, variable, { fec: true }), new Set([1]));
    expect(stats).toMatchObject({ recovered: 1, concealed: 0, lost: 1 });
    expect(audio.length).toBe(total);
    const offline = await decodeOffline(frames, variable, { rebuilt: new Set([1]) });
    expect(Buffer.from(audio.buffer).equals(Buffer.from(offline.buffer))).toBe(true);
  });

  test("a timestamp its seq cannot have is a bad payload: dropped, counted, concealed by its neighbours' timestamps", async () => {
    const bad = 4;
    const payloads = payloadsOf(frames, variable, { timestamp: (m) => (m.seq === bad ? 0xffff_0000 : m.firstFrame * 320) });
    const { audio, stats } = await receive(payloads);
    expect(stats).toMatchObject({ malformed: 1, concealed: 1, played: variable.length - 1 });
    expect(audio.length).toBe(total);
    const offline = await decodeOffline(frames, variable, { concealed: new Set([bad]) });
    expect(Buffer.from(audio.buffer).equals(Buffer.from(offline.buffer))).toBe(true);
  });
});
