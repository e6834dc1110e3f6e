import { join } from "node:path";
import { parsePayloadHeader } from "@encstream/codec";
import { DatagramOpener, DatagramSealer, encodePacket, FeedbackOpener, FeedbackSealer, type StreamKey } from "@encstream/packet";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, openTinyCodec, sine } from "../test/support/tiny-codec.js";
import { createFrameStreamEncoder } from "./frame-encoder.js";
import { createMemoryTransportPair } from "./memory-transport.js";
import { encodeReport } from "./receiver-report.js";
import { ReceiverSession } from "./receiver-session.js";
import { SenderResilience } from "./sender-resilience.js";
import { runSenderSession, type AudioSource } from "./sender-session.js";
import type { DatagramTransport } from "./transport.js";

/*
 * Receiver reports steer a sender's bitrate (`--bandwidth auto`). With a key, the sender must
 * read only reports sealed with it: a keyed sender (tiny 24 kHz model, stream mode, adaptive
 * from 6 kbps down to 1.5 kbps) gets, for every 8th unit it sends, a report claiming 60 % loss
 * and a starved path. Sealed with the key, those reports bring K down (the control: the test
 * can fail); in clear, sealed with a wrong key, replayed, or sealed in the media direction,
 * they change nothing, and each is counted.
 */

const KEY: StreamKey = { keyId: 3, key: Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff) };
const WRONG: StreamKey = { keyId: 3, key: Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + 1) & 0xff) };

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  const dir = await makeTempDir("report-auth");
  codec = await openTinyCodec("tiny24", join(dir, "cache"));
});

afterAll(async () => {
  await codec?.release();
});

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

/** A hostile report: heavy loss, a starved path (or, `good`, a clean path). */
function badNews(streamId: number, index: number, highestSeq: number, good = false): Uint8Array {
  return encodeReport({
    streamId,
    reportIndex: index & 0xffff,
    lossFraction: good ? 0 : 0.6,
    cumulativeLost: good ? 0 : 40 * index,
    highestSeq,
    jitterMs: good ? 0 : 80,
    echoTimestamp: 0,
    echoDelayMs: 0,
    bytesReceived: good ? 10_000 : 20,
    intervalMs: 250,
  });
}

type Forge = (report: Uint8Array) => Promise<Uint8Array[]>;

/** Runs the keyed sender with reports made by `forge` coming back; returns K per unit and the sender's path stats. */
async function keyedRun(forge: Forge) {
  const [sender, receiver] = createMemoryTransportPair();
  const encoder = await createFrameStreamEncoder(codec, 6);
  const resilience = new SenderResilience({
    modelKind: "24k",
    mode: "stream",
    maxCodebooks: encoder.numCodebooks,
    framesPerUnit: 1,
    unitMs: 320 / 24,
    overlapSamples: 0,
    mtuBytes: 220,
    adaptive: { minCodebooks: 2 },
  });
  const opener = await DatagramOpener.create({ keys: [KEY] });
  const ks: number[] = [];
  let backSent = 0;
  const reading = (async () => {
    let units = 0;
    for await (const d of receiver) {
      const opened = await opener.open(d.bytes);
      if (opened.status !== "opened") continue;
      const header = parsePayloadHeader(opened.datagram.subarray(24));
      ks.push(header.numCodebooks);
      const view = new DataView(opened.datagram.buffer, opened.datagram.byteOffset, 24);
      if (++units % 8 === 0) {
        const back = await forge(badNews(view.getUint32(12) >>> 16, units / 8, view.getUint32(0)));
        backSent += back.length;
        await receiver.send(back, sender.endpoint);
      }
    }
  })();
  await runSenderSession({
    source: sineSource(36_000, 960),
    encoder,
    modelKind: "24k",
    sampleRateHz: 24_000,
    transport: sender,
    sealer: await DatagramSealer.create({ key: KEY }),
    feedbackOpener: await FeedbackOpener.create({ keys: [KEY] }),
    resilience,
  });
  await sender.close();
  await receiver.close();
  await reading;
  return { ks, stats: resilience.stats, backSent };
}

describe("receiver reports, keyed", () => {
  test("control: reports sealed with the key are read and bring the bitrate down", async () => {
    const sealer = await FeedbackSealer.create({ keys: [KEY] });
    const { ks, stats } = await keyedRun(async (report) => [await sealer.seal(report)]);
    expect(stats.reports).toBeGreaterThan(5);
    expect(stats.unauthenticatedReports).toBe(0);
    expect(Math.min(...ks)).toBeLessThan(8);
  });

  test("a keyed receiver session seals its reports; the keyed sender reads every one and refuses none", async () => {
    const [senderSide, receiverSide] = createMemoryTransportPair();
    const encoder = await createFrameStreamEncoder(codec, 6);
    const resilience = new SenderResilience({ modelKind: "24k", mode: "stream", maxCodebooks: 8, framesPerUnit: 1, unitMs: 320 / 24, overlapSamples: 0, mtuBytes: 220 });
    const backs: Uint8Array[] = [];
    const receiverTransport: DatagramTransport = {
      send: (datagrams, to) => {
        backs.push(...datagrams);
        return receiverSide.send(datagrams, to);
      },
      [Symbol.asyncIterator]: () => receiverSide[Symbol.asyncIterator](),
      close: () => receiverSide.close(),
      get stats() {
        return receiverSide.stats;
      },
    };
    const receiver = new ReceiverSession(receiverTransport, {
      codec,
      overlapRatio: 0.25,
      bufferFrames: 4,
      idleTimeoutMs: 5_000,
      opener: await DatagramOpener.create({ keys: [KEY] }),
      // a key ring whose first key is not the stream's
      reportSealer: await FeedbackSealer.create({ keys: [{ ...WRONG, keyId: 10 }, KEY] }),
      sink: { write: async () => undefined },
    });
    const receiving = receiver.run();
    await runSenderSession({
      source: sineSource(24_000, 960),
      encoder,
      modelKind: "24k",
      sampleRateHz: 24_000,
      transport: senderSide,
      sealer: await DatagramSealer.create({ key: KEY }),
      feedbackOpener: await FeedbackOpener.create({ keys: [KEY] }),
      resilience,
    });
    const stats = await receiving;
    await senderSide.close();
    expect(stats.reportsSent).toBeGreaterThan(2);
    // sealed (36-byte report + 32), with the stream's key id (3), not the sealer's first key
    for (const b of backs) expect([b.length, b[0], b[1], b[3]]).toEqual([68, 0x45, 0x46, 3]);
    expect(resilience.stats.reports).toBe(stats.reportsSent);
    expect(resilience.stats.unauthenticatedReports).toBe(0);
  });

  test("forged ones (in clear, wrong key, media direction, replayed) change nothing, and are counted", async () => {
    const wrong = await FeedbackSealer.create({ keys: [WRONG] });
    const genuine = await FeedbackSealer.create({ keys: [KEY] });
    // One genuine report (a clean path's), recorded: its replays must all be refused but the first.
    const recorded = await genuine.seal(badNews(0, 0, 0, true));
    const mediaSealer = await DatagramSealer.create({ key: KEY });
    const { ks, stats, backSent } = await keyedRun(async (report) => {
      const asMedia = await mediaSealer.seal(encodePacket({ seqNum: 1, totalLength: report.length, hasOverlap: false, fragId: 1, totalFrags: 1, fragIndex: 0 }, report));
      return [report, await wrong.seal(report), asMedia, recorded];
    });
    expect(backSent).toBeGreaterThan(20);
    // The recorded genuine report is read once, its replays refused.
    expect(stats.reports).toBe(1);
    expect(stats.unauthenticatedReports).toBe(backSent - stats.reports);
    expect(new Set(ks)).toEqual(new Set([8]));
  });
});
