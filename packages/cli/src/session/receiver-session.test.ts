import { createSocket, type Socket } from "node:dgram";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePayload, type PayloadMode, type PayloadModelKind } from "@encstream/codec";
import { splitIntoFragments } from "@encstream/packet";
import { UdpReceiver } from "@encstream/transport-udp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, seededRandom } from "../../test/helpers.js";
import { isCliError } from "../errors.js";
import { openCodecSession, type CodecSession } from "./codec-session.js";
import { makeFragId } from "./frag-id.js";
import { ReceiverSession, type ReceiverSessionOptions } from "./receiver-session.js";

/*
 * The receiver's stream logic with hand-made streams of frame payloads on a real loopback socket
 * and the tiny 24 kHz model: gaps concealed in place, exact lengths, restarts, bad messages.
 * (test/e2e drives the whole command against a real sender.)
 */

const TINY24 = fileURLToPath(new URL("../../../codec/test/fixtures/tiny24", import.meta.url));
const FRAME_MS = 320 / 24;

let codec: CodecSession;
let client: Socket;

beforeAll(async () => {
  const dir = await makeTempDir("receiver-session");
  codec = await openCodecSession({ kind: "directory", path: TINY24 }, { cacheDir: join(dir, "cache") });
  client = createSocket("udp4");
});

afterAll(async () => {
  client?.close();
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
  });
  return splitIntoFragments(payload, { seq: spec.seq, fragId: makeFragId(spec.streamId, spec.seq) });
}

async function send(port: number, datagrams: readonly Uint8Array[]): Promise<void> {
  for (const d of datagrams) await new Promise<void>((resolve, reject) => client.send(d, port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A session on a fresh socket, its audio collected; `play` sends the stream(s) to it. */
async function receive(options: Partial<ReceiverSessionOptions>, play: (port: number) => Promise<void>) {
  const udp = await UdpReceiver.bind({ address: "127.0.0.1", port: 0 });
  const audio: Float32Array[] = [];
  const log: string[] = [];
  const session = new ReceiverSession(udp, {
    codec,
    overlapRatio: 0.25,
    bufferFrames: 2,
    idleTimeoutMs: 3_000,
    sink: { write: async (planar) => void audio.push(planar[0]!.slice()) },
    log: (line) => log.push(line),
    ...options,
  });
  const running = session.run();
  await play(udp.port);
  const stats = await running;
  return { stats, samples: audio.reduce((n, a) => n + a.length, 0), log };
}

describe("ReceiverSession", () => {
  test("lost frames (the first ones too) are concealed in place; the end-of-stream length is exact", async () => {
    const lost = new Set([0, 3, 4]);
    const { stats, samples } = await receive({}, async (port) => {
      for (let seq = 0; seq < 20; seq++) {
        if (!lost.has(seq)) await send(port, datagramsOf({ seq, streamId: 7, end: seq === 19, lengthSamples: seq === 19 ? 100 : 320 }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(19 * 320 + 100);
    expect(stats).toMatchObject({ played: 17, concealed: 3, lost: 3, late: 0, streams: 1, malformed: 0 });
  });

  test("frames the jitter buffer skips after an underrun are concealed, so the output keeps its timing", async () => {
    const { stats, samples } = await receive({}, async (port) => {
      for (let seq = 0; seq < 6; seq++) {
        await send(port, datagramsOf({ seq, streamId: 8 }));
        await sleep(FRAME_MS);
      }
      await sleep(200); // frames 6–8 never come; the buffer runs dry
      for (let seq = 9; seq < 15; seq++) {
        await send(port, datagramsOf({ seq, streamId: 8, end: seq === 14 }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(15 * 320);
    expect(stats.underruns).toBeGreaterThanOrEqual(1);
    expect(stats).toMatchObject({ played: 12, concealed: 3, lost: 3 });
  });

  test("a new stream id with the first-of-stream flag ends the current stream and starts the new one", async () => {
    const { stats, samples, log } = await receive({}, async (port) => {
      for (let seq = 0; seq < 10; seq++) {
        await send(port, datagramsOf({ seq, streamId: 0x0a0a })); // never ends: the sender died
        await sleep(FRAME_MS);
      }
      await sleep(100);
      for (let seq = 0; seq < 10; seq++) {
        await send(port, datagramsOf({ seq, streamId: 0x0b0b, end: seq === 9 }));
        await sleep(FRAME_MS);
      }
      await send(port, datagramsOf({ seq: 10, streamId: 0x0a0a })); // a straggler of the old stream
    });
    expect(log.some((line) => line === "stream 0b0b replaces stream 0a0a (the sender restarted)")).toBe(true);
    expect(stats).toMatchObject({ streams: 2, played: 20, concealed: 0, malformed: 0 });
    expect(samples).toBe(20 * 320);
  });

  test("a message that disagrees with its stream's format is dropped as malformed and concealed", async () => {
    const { stats, samples } = await receive({}, async (port) => {
      for (let seq = 0; seq < 8; seq++) {
        await send(port, datagramsOf({ seq, streamId: 9, numCodebooks: seq === 4 ? 4 : 2, end: seq === 7 }));
        await sleep(FRAME_MS);
      }
    });
    expect(samples).toBe(8 * 320);
    expect(stats).toMatchObject({ malformed: 1, played: 7, concealed: 1 });
  });

  test("a stream of another model kind is refused with CliError model-mismatch", async () => {
    const error = await receive({}, async (port) => {
      await send(port, datagramsOf({ seq: 0, streamId: 10, modelKind: "48k", mode: "chunked" }));
    }).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("model-mismatch");
  });

  test("with nothing received, the idle timeout ends the session", async () => {
    const started = performance.now();
    const { stats, samples } = await receive({ idleTimeoutMs: 300 }, async () => undefined);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(samples).toBe(0);
    expect(stats.streams).toBe(0);
  });
});
