import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  createFrameStreamEncoder,
  createLmPayloadEncoder,
  createMemoryTransportPair,
  ReceiverSession,
  runSenderSession,
  type AudioSource,
} from "../src/index.js";
import { makeTempDir, openTinyCodec, sine } from "./support/tiny-codec.js";

/*
 * A sender session and a receiver session joined by the in-memory transport, with the tiny
 * 24 kHz model in frame-exact stream mode and its language model: the receiver's output is the
 * stream decoder's output for the encoder's own frames, sample for sample, at the input's length.
 */

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  codec = await openTinyCodec("tiny24", join(await makeTempDir("send-receive"), "cache"));
});

afterAll(async () => {
  await codec?.release();
});

function sourceOf(audio: Float32Array, piece: number): AudioSource {
  let at = 0;
  return {
    read: async () => {
      if (at >= audio.length) return null;
      at += piece;
      return [audio.slice(at - piece, at)];
    },
  };
}

describe("send → receive over the in-memory transport", () => {
  test("LM-coded frame-exact stream: bit-identical to decoding the encoder's frames, exact length", async () => {
    const input = sine(24_000 / 2 + 123, 330, 24_000, 0.4);
    // The reference: the same encoder and decoder, without the network.
    const refEncoder = await codec.createStreamEncoder({ bandwidthKbps: 6 });
    const frames = [...(await refEncoder.push([input])), ...(await refEncoder.end())];
    const refDecoder = await codec.createStreamDecoder();
    const parts: Float32Array[][] = [];
    for (const frame of frames) parts.push(await refDecoder.push(frame));
    parts.push(await refDecoder.end());
    const reference = new Float32Array(input.length);
    let at = 0;
    for (const [mono] of parts) {
      reference.set(mono!.subarray(0, Math.max(0, input.length - at)), at);
      at += mono!.length;
    }

    const lm = await codec.lm();
    expect(lm).not.toBeNull();
    const encoder = await createFrameStreamEncoder(codec, 6);
    const [senderSide, receiverSide] = createMemoryTransportPair();
    const received: Float32Array[] = [];
    const receiver = new ReceiverSession(receiverSide, {
      codec,
      overlapRatio: 0.25,
      bufferFrames: 8,
      idleTimeoutMs: 5_000,
      sink: { write: async (audio) => void received.push(audio[0]!.slice()) },
    });
    const receiving = receiver.run();
    const sent = await runSenderSession({
      source: sourceOf(input, 1000),
      encoder,
      modelKind: codec.modelKind,
      sampleRateHz: codec.sampleRateHz,
      transport: senderSide,
      lmCoder: createLmPayloadEncoder(lm!, encoder.numCodebooks, "stream"),
      liveCapture: false,
    });
    const stats = await receiving;
    expect(sent).toMatchObject({ units: frames.length, samples: input.length, completed: true, refused: 0 });
    expect(stats).toMatchObject({ played: frames.length, concealed: 0, lost: 0, malformed: 0, undecodable: 0, streams: 1, samplesOut: input.length });
    const output = new Float32Array(input.length);
    at = 0;
    for (const block of received) {
      output.set(block, at);
      at += block.length;
    }
    expect(at).toBe(input.length);
    let firstDifference = -1;
    for (let i = 0; i < input.length && firstDifference < 0; i++) if (output[i] !== reference[i]) firstDifference = i;
    expect(firstDifference).toBe(-1);
  });
});
