import { join } from "node:path";
import { encodePayload, type PayloadMode, type PayloadModelKind } from "@encstream/codec";
import { splitIntoFragments } from "@encstream/packet";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, openTinyCodec, seededRandom } from "../test/support/tiny-codec.js";
import { CATCH_UP_HEADROOM_UNITS } from "./constants.js";
import { isSessionError } from "./errors.js";
import { makeFragId } from "./frag-id.js";
import { createMemoryTransportPair, type MemoryTransport } from "./memory-transport.js";
import { ReceiverSession, type ReceiverSessionOptions } from "./receiver-session.js";
import { RedundancyHistory } from "./redundancy.js";

/*
 * The receiver's stream logic with hand-made streams of frame payloads over the in-memory
 * transport and the tiny 24 kHz model: gaps concealed in place, exact lengths, restarts, bad
 * messages. (The CLI's test/e2e drives the whole command over real UDP against a real sender.)
 */

const FRAME_MS = 320 / 24;

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  const dir = await makeTempDir("receiver-session");
  codec = await openTinyCodec("tiny24", join(dir, "cache"));
});

afterAll(async () => {
  await codec?.release();
});

interface FrameSpec {
  readonly seq: number;
  readonly streamId: number;
  readonly end?: boolean;
  readonly lengthSamples?: number;
  readonly numCodebooks?: number;
  readonly modelKind?: PayloadModelKind;
  readonly mode?: PayloadMode;
  /** Payload version: 2 (the default) carries the media timestamp `seq × 320`; 1 has none (fixed-size units). */
  readonly version?: 1 | 2;
}

const random = seededRandom(42);

/** The datagrams of one stream-mode frame (or a 48 kHz chunk, for the mismatch test). */
function datagramsOf(spec: FrameSpec): Uint8Array[] {
  const k = spec.numCodebooks ?? 2;
  const kind = spec.modelKind ?? "24k";
  const payload = encodePayload({
    modelKind: kind,
    mode: spec.mode ?? "stream",
    numCodebooks: k,
    numFrames: 1,
    codes: Uint16Array.from({ length: k }, () => Math.floor(random() * 1024)),
    ...(spec.lengthSamples !== undefined ? { lengthSamples: spec.lengthSamples } : {}),
    scale: kind === "48k" ? 0.5 : null,
    firstOfStream: spec.seq === 0,
    endOfStream: spec.end === true,
    ...(spec.version === 1 ? { version: 1 as const } : { timestampSamples: spec.seq * 320 }),
  });
  return splitIntoFragments(payload, { seq: spec.seq, fragId: makeFragId(spec.streamId, spec.seq) });
}

async function send(client: MemoryTransport, datagrams: readonly Uint8Array[]): Promise<void> {
  for (const d of datagrams) await client.send([d]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A session on a fresh transport pair, its audio collected; `play` sends the stream(s) to it from the other side. */
async function receive(options: Partial<ReceiverSessionOptions>, play: (client: MemoryTransport) => Promise<void>) {
  const [client, server] = createMemoryTransportPair();
  const audio: Float32Array[] = [];
  const log: string[] = [];
  const session = new ReceiverSession(server, {
    codec,
    overlapRatio: 0.25,
    bufferFrames: 2,
    idleTimeoutMs: 3_000,
    sink: { write: async (planar) => void audio.push(planar[0]!.slice()) },
    log: (line) => log.push(line),
    ...options,
  });
  const running = session.run();
  await play(client);
  const stats = await running;
  return { stats, samples: audio.reduce((n, a) => n + a.length, 0), log };
}

describe("ReceiverSession", () => {
  test.each([{ version: 2 as const }, { version: 1 as const }])("lost frames (the first ones too) are concealed in place; the end-of-stream length is exact (payload v$version)", async ({ version }) => {
    const lost = new Set([0, 3, 4]);
    const { stats, samples } = await receive({ bufferFrames: 20 }, async (client) => {
      for (let seq = 0; seq < 20; seq++) {
        if (!lost.has(seq)) await send(client, datagramsOf({ seq, streamId: 7, end: seq === 19, lengthSamples: seq === 19 ? 100 : 320, version }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(19 * 320 + 100);
    expect(stats).toMatchObject({ played: 17, concealed: 3, lost: 3, late: 0, streams: 1, malformed: 0 });
  });

  test("frames the jitter buffer skips after an underrun are concealed, so the output keeps its timing", async () => {
    const { stats, samples } = await receive({}, async (client) => {
      for (let seq = 0; seq < 6; seq++) {
        await send(client, datagramsOf({ seq, streamId: 8 }));
        await sleep(FRAME_MS);
      }
      await sleep(200); // frames 6–8 never come; the buffer runs dry
      for (let seq = 9; seq < 15; seq++) {
        await send(client, datagramsOf({ seq, streamId: 8, end: seq === 14 }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(15 * 320);
    expect(stats.underruns).toBeGreaterThanOrEqual(1);
    expect(stats).toMatchObject({ played: 12, concealed: 3, lost: 3 });
  });

  test("a new stream id takes over once the current stream is silent, with every unit it sent meanwhile", async () => {
    // The takeover silence (60 ms) is shorter than the new stream's 10 frames (133 ms), so the
    // straggler below always comes after the takeover, on a quiet machine as on a loaded one.
    const { stats, samples, log } = await receive({ bufferFrames: 8, takeoverSilenceMs: 60 }, async (client) => {
      for (let seq = 0; seq < 10; seq++) {
        await send(client, datagramsOf({ seq, streamId: 0x0a0a })); // never ends: the sender died
        await sleep(FRAME_MS);
      }
      // The restarted sender comes back at once: its first units wait for the takeover.
      for (let seq = 0; seq < 10; seq++) {
        await send(client, datagramsOf({ seq, streamId: 0x0b0b, end: seq === 9 }));
        await sleep(FRAME_MS);
      }
      await send(client, datagramsOf({ seq: 10, streamId: 0x0a0a })); // a straggler of the old stream
    });
    expect(log.some((line) => /^stream 0b0b replaces stream 0a0a \(silent for \d+ ms\)$/.test(line)), log.join("\n")).toBe(true);
    // The straggler came while the new stream was still buffered (8 frames): ignored, and counted.
    expect(stats).toMatchObject({ streams: 2, played: 20, concealed: 0, malformed: 0, afterEnd: 1 });
    expect(samples).toBe(20 * 320);
  });

  test("a stream whose end has arrived plays out to it: no takeover while it is buffered, however silent", async () => {
    // A sender that ran ahead of real time: the whole stream, end included, arrives at once and
    // then nothing more of it, while another stream id sends a credible start.
    const { stats, samples, log } = await receive({ bufferFrames: 24, takeoverSilenceMs: 60 }, async (client) => {
      for (let seq = 0; seq < 24; seq++) await send(client, datagramsOf({ seq, streamId: 0x0c0c, end: seq === 23 }));
      await sleep(100);
      for (let seq = 0; seq < 6; seq++) {
        await send(client, datagramsOf({ seq, streamId: 0x0d0d }));
        await sleep(FRAME_MS);
      }
    });
    expect(log.some((line) => /replaces/.test(line)), log.join("\n")).toBe(false);
    expect(stats).toMatchObject({ streams: 1, played: 24, concealed: 0 });
    expect(samples).toBe(24 * 320);
  });

  test("a message that disagrees with its stream's format is dropped as unfit and concealed", async () => {
    const { stats, samples } = await receive({ bufferFrames: 8 }, async (client) => {
      for (let seq = 0; seq < 8; seq++) {
        await send(client, datagramsOf({ seq, streamId: 9, ...(seq === 4 ? { mode: "chunked" as const } : {}), end: seq === 7 }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(8 * 320);
    expect(stats).toMatchObject({ unfit: 1, malformed: 0, played: 7, concealed: 1 });
  });

  test("K may change from frame to frame (adaptive bitrate): every frame is played", async () => {
    const { stats, samples } = await receive({}, async (client) => {
      for (let seq = 0; seq < 8; seq++) {
        await send(client, datagramsOf({ seq, streamId: 11, numCodebooks: [2, 4, 8, 1][seq % 4], end: seq === 7 }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(8 * 320);
    expect(stats).toMatchObject({ malformed: 0, played: 8, concealed: 0 });
  });

  test.each([
    { when: "after playout started (lost units popped as missing)", bufferFrames: 3 },
    { when: "before playout started (a gap before the first unit played)", bufferFrames: 16 },
  ])("--fec 1: a lost frame is rebuilt from the next payload's redundancy, $when; two lost in a row leave the first concealed", async ({ bufferFrames }) => {
    const history = new RedundancyHistory(1, 1);
    const lost = new Set([5, 9, 10]);
    const { stats, samples } = await receive({ bufferFrames }, async (client) => {
      for (let seq = 0; seq < 14; seq++) {
        const codes = Uint16Array.from({ length: 2 }, () => Math.floor(random() * 1024));
        const end = seq === 13;
        const payload = encodePayload({ modelKind: "24k", mode: "stream", numCodebooks: 2, numFrames: 1, codes, lengthSamples: 320, scale: null, firstOfStream: seq === 0, endOfStream: end, timestampSamples: seq * 320, redundancy: history.redundancyFor(seq) });
        history.add({ seq, codes, numCodebooks: 2, numFrames: 1, lengthSamples: 320, scale: null });
        if (!lost.has(seq)) await send(client, splitIntoFragments(payload, { seq, fragId: makeFragId(12, seq) }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(14 * 320);
    // 5 from 6, 10 from 11; 9's copy was in 10, lost too
    expect(stats).toMatchObject({ played: 11, recovered: 2, concealed: 1, lost: 3 });
  });

  test("a stream of another model kind is ignored and logged, never fatal", async () => {
    const { stats, samples, log } = await receive({ idleTimeoutMs: 400 }, async (client) => {
      await send(client, datagramsOf({ seq: 0, streamId: 10, modelKind: "48k", mode: "chunked" }));
    });
    expect(stats).toMatchObject({ mismatched: 1, streams: 0 });
    expect(samples).toBe(0);
    expect(log.join("\n")).toMatch(/ignoring stream 000a from .*: it carries 48 kHz stereo EnCodec codes, and the loaded model is 24 kHz with 1 channel\(s\)/);
  });

  test("with nothing received, the idle timeout ends the session", async () => {
    const started = performance.now();
    const { stats, samples } = await receive({ idleTimeoutMs: 300 }, async () => undefined);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(samples).toBe(0);
    expect(stats.streams).toBe(0);
  });

  // A live sender that was starved codes its overdue frames in one call and sends them at once
  // (up to 150 frames, 2 s). They used to be dropped for arriving more than the buffer's capacity
  // (2 × the prefill: 30 frames at the default 200 ms) ahead of playout, and concealed.
  test.each([
    ["while playing (a 100 ms stall, within the buffer)", 100],
    ["after the buffer ran dry (a 400 ms stall)", 400],
  ])("a catch-up burst of 150 frames %s is held and played, nothing concealed", async (_name, stallMs) => {
    const { stats, samples } = await receive({ bufferFrames: 15 }, async (client) => {
      for (let seq = 0; seq < 20; seq++) {
        await send(client, datagramsOf({ seq, streamId: 12 }));
        await sleep(FRAME_MS);
      }
      await sleep(stallMs);
      for (let seq = 20; seq < 170; seq++) await send(client, datagramsOf({ seq, streamId: 12 }));
      for (let seq = 170; seq < 180; seq++) {
        await sleep(FRAME_MS);
        await send(client, datagramsOf({ seq, streamId: 12, end: seq === 179 }));
      }
    });
    expect(samples).toBe(180 * 320);
    expect(stats).toMatchObject({ played: 180, concealed: 0, lost: 0, late: 0, tooFarAhead: 0 });
    expect(stats.capacityFrames).toBe(15 + CATCH_UP_HEADROOM_UNITS);
  });
});
