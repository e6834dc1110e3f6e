import { join } from "node:path";
import { parsePayloadHeader } from "@encstream/codec";
import { decodePacket, Reassembler } from "@encstream/packet";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, openTinyCodec, sine } from "../test/support/tiny-codec.js";
import { streamIdOf } from "./frag-id.js";
import { createChunkedEncoder, createFrameStreamEncoder, type FrameEncoder } from "./frame-encoder.js";
import { createMemoryTransportPair, type MemoryTransport } from "./memory-transport.js";
import { runSenderSession, type AudioSource, type SentUnit } from "./sender-session.js";

/* What the sender puts on the wire, captured by the other side of an in-memory transport, with the tiny 24 kHz model. */

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  const dir = await makeTempDir("sender-session");
  codec = await openTinyCodec("tiny24", join(dir, "cache"));
});

afterAll(async () => {
  await codec?.release();
});

/** A source handing out `samples` of a sine in pieces of `piece` samples. */
function sineSource(samples: number, piece: number): AudioSource {
  const audio = sine(samples, 220, 24_000);
  let at = 0;
  return {
    read: async () => {
      if (at >= samples) return null;
      const out = [audio.slice(at, at + piece)];
      at += piece;
      return out;
    },
  };
}

async function capture(run: (transport: MemoryTransport) => Promise<unknown>) {
  const [sender, receiver] = createMemoryTransportPair();
  const datagrams: Uint8Array[] = [];
  const collecting = (async () => {
    for await (const d of receiver) datagrams.push(d.bytes);
  })();
  await run(sender);
  await sender.close();
  await receiver.close();
  await collecting;
  return datagrams;
}

describe("runSenderSession", () => {
  test("one stream id, a counter per message, the first and last units flagged, the last repeated 3 times", async () => {
    const encoder = createChunkedEncoder(codec, { chunkSamples: 2400, overlapRatio: 0.25, bandwidthKbps: 24 });
    const sent: SentUnit[] = [];
    let summary;
    const datagrams = await capture(async (transport) => {
      summary = await runSenderSession({
        source: sineSource(10_000, 1000),
        encoder,
        modelKind: "24k",
        sampleRateHz: 24_000,
        transport,
        pacing: "none",
        liveCapture: false,
        streamId: 0x4242,
        onUnitSent: (u) => sent.push(u),
      });
    });
    // 10 000 samples in 2400-sample chunks every 1800: starts 0, 1800, …, 7200 (5 chunks), the last 2800 long.
    expect(sent.map((u) => [u.seq, u.startSample, u.endSample, u.endOfStream])).toEqual([
      [0, 0, 2400, false],
      [1, 1800, 4200, false],
      [2, 3600, 6000, false],
      [3, 5400, 7800, false],
      [4, 7200, 9600, false],
      [5, 9000, 10_000, true],
    ]);
    expect(summary).toMatchObject({ streamId: 0x4242, units: 6, samples: 10_000, completed: true, refused: 0 });
    const packets = datagrams.map((d) => decodePacket(d));
    expect(new Set(packets.map((p) => streamIdOf(p.header.fragId)))).toEqual(new Set([0x4242]));
    expect(new Set(packets.map((p) => p.header.fragId & 0xffff))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    const perUnit = sent.map((u) => u.datagrams);
    expect(perUnit.slice(0, 5).every((n) => n === 2)).toBe(true); // 24 kbps chunks of 8 frames: 329 bytes
    expect(datagrams.length).toBe(perUnit.reduce((a, b) => a + b, 0) + 3 * perUnit[5]!);
    const reassembler = new Reassembler();
    const headers = datagrams.flatMap((d) => {
      const r = reassembler.push(d);
      return r.status === "complete" ? [{ seq: r.message.seq, overlap: r.message.hasOverlap, ...parsePayloadHeader(r.message.payload) }] : [];
    });
    expect(headers.map((h) => [h.seq, h.overlap, h.firstOfStream, h.endOfStream, h.lengthSamples])).toEqual([
      [0, false, true, false, 2400],
      [1, true, false, false, 2400],
      [2, true, false, false, 2400],
      [3, true, false, false, 2400],
      [4, true, false, false, 2400],
      [5, true, false, true, 1000],
    ]);
    expect(reassembler.stats.duplicate).toBe(3 * perUnit[5]!);
  });

  test("stopped at a unit boundary, the last unit is sent again with the end flag as a new message", async () => {
    const encoder = createChunkedEncoder(codec, { chunkSamples: 2400, overlapRatio: 0.25, bandwidthKbps: 6 });
    const stop = new AbortController();
    const sent: SentUnit[] = [];
    const datagrams = await capture((transport) =>
      runSenderSession({
        source: sineSource(24_000, 600),
        encoder,
        modelKind: "24k",
        sampleRateHz: 24_000,
        transport,
        signal: stop.signal,
        onUnitSent: (u) => {
          sent.push(u);
          if (u.seq === 2) stop.abort();
        },
      }),
    );
    expect(sent.map((u) => u.seq)).toEqual([0, 1, 2]);
    const packets = datagrams.map((d) => decodePacket(d));
    // Units 0–2, then unit 2 again as message 3 with the end flag, then 3 copies of that message.
    expect(packets.map((p) => [p.header.seqNum, p.header.fragId & 0xffff])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [2, 3],
      [2, 3],
      [2, 3],
      [2, 3],
    ]);
    const last = parsePayloadHeader(packets[3]!.payload);
    expect([last.endOfStream, last.lengthSamples]).toEqual([true, 2400]);
  });

  test("nobody listening: every send is refused, counted and reported, and the stream still runs to its end", async () => {
    const encoder = createChunkedEncoder(codec, { chunkSamples: 2400, overlapRatio: 0.25, bandwidthKbps: 6 });
    const [sender, receiver] = createMemoryTransportPair();
    await receiver.close();
    let reported = 0;
    const summary = await runSenderSession({
      source: sineSource(5000, 1000),
      encoder,
      modelKind: "24k",
      sampleRateHz: 24_000,
      transport: sender,
      pacing: "none",
      liveCapture: false,
      onRefused: () => reported++,
    });
    // 3 units (starts 0, 1800, 3600) and 3 repeats of the last: 6 sends, all refused.
    expect(summary).toMatchObject({ units: 3, completed: true, refused: 6, datagrams: 0, bytes: 0, samples: 5000 });
    expect(reported).toBe(6);
  });

  test("a live stream sender that fell 15 frames behind codes its overdue frames in one call", async () => {
    const inner = await createFrameStreamEncoder(codec, 6);
    const pushes: { samples: number; frames: number; atMs: number }[] = [];
    // Index in `pushes` of the first push after the stall (-1 before it). Counted in frames fed,
    // not pushes: a loaded machine may already batch a few frames before the stall.
    let afterStall = -1;
    let framesFed = 0;
    // The real stream encoder; once, after 20 frames, the thread is held for 200 ms (15 frames of audio), as a slow model call would.
    const encoder: FrameEncoder = {
      ...inner,
      nextBoundary: (fed) => inner.nextBoundary(fed),
      warmUp: () => inner.warmUp(),
      end: () => inner.end(),
      push: async (audio) => {
        const units = await inner.push(audio);
        pushes.push({ samples: audio[0]!.length, frames: units.length, atMs: performance.now() });
        framesFed += audio[0]!.length / 320;
        if (afterStall < 0 && framesFed >= 20) {
          afterStall = pushes.length;
          const until = performance.now() + 200;
          while (performance.now() < until);
        }
        return units;
      },
    };
    const sent: SentUnit[] = [];
    await capture((transport) =>
      runSenderSession({ source: sineSource(24_000, 960), encoder, modelKind: "24k", sampleRateHz: 24_000, transport, onUnitSent: (u) => sent.push(u) }),
    );
    // Every frame once, in order.
    expect(sent.map((u) => u.seq)).toEqual([...Array(75).keys()]);
    // The push after the stall took the ≥ 15 frames captured meanwhile in one piece, and they came out of that one call.
    expect(afterStall).toBeGreaterThan(0);
    const catchUp = pushes[afterStall]!;
    expect(catchUp.samples).toBeGreaterThanOrEqual(15 * 320);
    expect(catchUp.samples % 320).toBe(0);
    expect(catchUp.frames).toBe(catchUp.samples / 320);
    // Pushes stay whole frames, and after the catch-up fewer pushes than frames remain (how late
    // each frame left is the benchmark's business: bench/workers.ts in @encstream/cli).
    for (const p of pushes.slice(0, -1)) expect(p.samples % 320).toBe(0);
    expect(pushes.length).toBeLessThan(75);
  });

  test("a live sender whose first model call was slow does not hold the later frames back by it", async () => {
    const inner = await createFrameStreamEncoder(codec, 6);
    const encodedAt = new Map<number, number>();
    let slowed = false;
    // The real stream encoder; its first call that codes frames (the startup) takes 800 ms longer, as a cold model call may.
    const encoder: FrameEncoder = {
      ...inner,
      nextBoundary: (fed) => inner.nextBoundary(fed),
      warmUp: () => inner.warmUp(),
      end: async () => {
        const units = await inner.end();
        for (const u of units) encodedAt.set(u.seq, performance.now());
        return units;
      },
      push: async (audio) => {
        const units = await inner.push(audio);
        if (units.length > 0 && !slowed) {
          slowed = true;
          await new Promise((resolve) => setTimeout(resolve, 800));
        }
        for (const u of units) encodedAt.set(u.seq, performance.now());
        return units;
      },
    };
    const sent: SentUnit[] = [];
    await capture((transport) =>
      runSenderSession({ source: sineSource(60_000, 320), encoder, modelKind: "24k", sampleRateHz: 24_000, transport, onUnitSent: (u) => sent.push(u) }),
    );
    expect(sent.map((u) => u.seq)).toEqual([...Array(188).keys()]);
    // The frames after the catch-up from the slow call (from 1.5 s on). The schedule used to
    // start at the first send, so every frame was held until 800 ms after its capture, and the
    // capture loop with it (it then caught up in bursts: a median of ~480 ms here). Now each
    // leaves when encoded: its lateness is the encoding's, a few ms (the median, so that one
    // stall of a loaded machine cannot decide it).
    const later = sent.filter((u) => u.startSample >= 36_000);
    const lateness = later.map((u) => u.sentAtMs - u.capturedAtMs).sort((a, b) => a - b);
    expect(lateness[Math.floor(lateness.length / 2)]!).toBeLessThan(150);
    for (const u of later) {
      // Handed to the transport right after the encoder gave it out, and its reported lateness is from its capture.
      expect(u.sentAtMs).toBeGreaterThanOrEqual(encodedAt.get(u.seq)!);
      expect(u.behindScheduleMs).toBeCloseTo(Math.max(0, u.sentAtMs - u.capturedAtMs), 0);
    }
  });

  test("a live source that delivers its first audio 300 ms after it is opened (a capture device) sets the capture clock's start", async () => {
    const encoder = await createFrameStreamEncoder(codec, 6);
    const pushes: number[] = [];
    const counting: FrameEncoder = {
      ...encoder,
      nextBoundary: (fed) => encoder.nextBoundary(fed),
      warmUp: () => encoder.warmUp(),
      end: () => encoder.end(),
      push: async (audio) => {
        pushes.push(audio[0]!.length);
        return encoder.push(audio);
      },
    };
    // Like a microphone: nothing for 300 ms after the first read, then 320 samples every 13.3 ms of wall time.
    const audio = sine(36_000, 220, 24_000);
    let startedMs: number | undefined;
    let at = 0;
    const device: AudioSource = {
      read: async () => {
        if (startedMs === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          startedMs = performance.now();
        }
        if (at >= audio.length) return null;
        const dueMs = startedMs + ((at + 320) / 24_000) * 1000;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueMs - performance.now())));
        at += 320;
        return [audio.slice(at - 320, at)];
      },
    };
    const sent: SentUnit[] = [];
    await capture((transport) => runSenderSession({ source: device, encoder: counting, modelKind: "24k", sampleRateHz: 24_000, transport, onUnitSent: (u) => sent.push(u) }));
    expect(sent.map((u) => u.seq)).toEqual([...Array(113).keys()]);
    // With the clock started at the first read, the sender counted 300 ms of audio as captured
    // that the device had not delivered: it took itself for 22 frames behind, and asked for
    // several frames a call (its lateness 300 ms) for the whole stream. Started with the first
    // audio, it takes one frame a call: the frames of several-frame pushes are few (a stall of
    // a loaded machine may make one catch-up), and the median frame leaves soon after its capture.
    const batched = pushes.filter((n) => n > 320).reduce((sum, n) => sum + n / 320, 0);
    expect(batched).toBeLessThan(40);
    const lateness = sent.map((u) => u.sentAtMs - u.capturedAtMs).sort((a, b) => a - b);
    expect(lateness[Math.floor(lateness.length / 2)]!).toBeLessThan(150);
  });
});
