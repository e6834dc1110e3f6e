// StreamingCodec footprint on the tiny 24 kHz golden model (onnxruntime-node): sessions only for
// the sides asked, one session a side for both phases (startup and step) stream after stream, and
// weights read on demand (loadTensors + modelKey) — not at all when every graph is cached.
import * as ortNode from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import type { GraphCache } from "../src/runtime/graph-cache.js";
import type { OrtRuntime } from "../src/runtime/ort-types.js";
import { concatCodeBlocks } from "../src/streaming/code-blocks.js";
import { createStreamDecoder } from "../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../src/streaming/stream-encoder.js";
import { StreamingCodec, type StreamingCodecOptions } from "../src/streaming/streaming-codec.js";
import { loadGoldenFixture } from "./support/fixtures.js";

const f = loadGoldenFixture("tiny24");
const audio = f.input[0]!.subarray(0, 320 * 30 + 100);

/** onnxruntime-node, counting the sessions that are open. */
function countingRuntime(): { runtime: OrtRuntime; live: () => number; opened: () => number } {
  let live = 0;
  let opened = 0;
  const create = async (...args: Parameters<typeof ortNode.InferenceSession.create>) => {
    const session = await (ortNode.InferenceSession.create as (...a: unknown[]) => Promise<ortNode.InferenceSession>)(...args);
    live++;
    opened++;
    const release = session.release.bind(session);
    session.release = async () => {
      live--;
      await release();
    };
    return session;
  };
  const runtime = { Tensor: ortNode.Tensor, InferenceSession: { create } } as unknown as OrtRuntime;
  return { runtime, live: () => live, opened: () => opened };
}

function mapCache(): GraphCache & { size: () => number } {
  const m = new Map<string, Uint8Array>();
  return { read: async (k) => m.get(k), write: async (k, b) => void m.set(k, b), size: () => m.size };
}

/** Codes and audio of `audio` streamed in 5-frame pushes through one encoder and one decoder. */
async function roundTrip(encCodec: StreamingCodec, decCodec: StreamingCodec): Promise<{ codes: number[]; audio: Float32Array }> {
  const encoder = await createStreamEncoder(encCodec, { bandwidthKbps: 6 });
  const decoder = createStreamDecoder(decCodec);
  const codes: number[] = [];
  const out: Float32Array[] = [];
  for (let pos = 0; pos < audio.length; pos += 1600) {
    const frames = await encoder.push([audio.subarray(pos, pos + 1600)]);
    frames.forEach((fr) => codes.push(...fr.codes));
    if (frames.length > 0) out.push((await decoder.push(concatCodeBlocks(frames)))[0]!);
  }
  const last = await encoder.end();
  last.forEach((fr) => codes.push(...fr.codes));
  if (last.length > 0) out.push((await decoder.push(concatCodeBlocks(last)))[0]!);
  out.push((await decoder.end())[0]!);
  const joined = new Float32Array(out.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of out) {
    joined.set(a, o);
    o += a.length;
  }
  return { codes, audio: joined };
}

describe("StreamingCodec footprint", () => {
  test("sides: an encoder-only codec opens no decoder session and refuses a stream decoder", async () => {
    const c = countingRuntime();
    const codec = await StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: c.runtime, sides: ["encoder"], preloadBandwidthsKbps: [6] });
    expect(c.live()).toBe(1); // the encoder at 6 kbps: one session for the first and the step calls
    expect(() => createStreamDecoder(codec)).toThrow(/without the decoder side/);
    await codec.release();
    expect(c.live()).toBe(0);
    const d = countingRuntime();
    const decoderOnly = await StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: d.runtime, sides: ["decoder"] });
    expect(d.live()).toBe(1);
    await expect(createStreamEncoder(decoderOnly, { bandwidthKbps: 6 })).rejects.toThrow(/without the encoder side/);
    await decoderOnly.release();
    await expect(StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: ortNode, sides: [] })).rejects.toThrow(RangeError);
  });

  test("one session a side for both phases: stream after stream, the same codes and audio, nothing opened or released between streams", async () => {
    const reference = await StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: ortNode });
    const want = await roundTrip(reference, reference);
    await reference.release();
    const cache = mapCache();
    // One side per codec (a sender, a receiver); the deprecated options change nothing.
    const codecFor = async (side: "encoder" | "decoder", extra: Partial<StreamingCodecOptions>) => {
      const c = countingRuntime();
      const codec = await StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: c.runtime, graphCache: cache, sides: [side], ...extra, ...(side === "encoder" ? { preloadBandwidthsKbps: [6] } : {}) });
      expect(c.live()).toBe(1);
      return { codec, live: c.live, opened: c.opened };
    };
    const enc = await codecFor("encoder", { oneSessionAtATime: true });
    const dec = await codecFor("decoder", { releaseStartupSessions: true });
    for (let stream = 0; stream < 3; stream++) {
      const got = await roundTrip(enc.codec, dec.codec);
      expect(got.codes).toEqual(want.codes);
      expect(got.audio).toEqual(want.audio);
      expect([enc.live(), dec.live(), enc.opened(), dec.opened()]).toEqual([1, 1, 1, 1]);
    }
    await Promise.all([enc.codec.release(), dec.codec.release()]);
    expect([enc.live(), dec.live()]).toEqual([0, 0]);
  });

  test("loadTensors + modelKey: the weights are read once to build, and not at all when every graph is cached", async () => {
    const cache = mapCache();
    const modelKey = "ab".repeat(16);
    let reads = 0;
    const options: StreamingCodecOptions = {
      config: f.config,
      runtime: ortNode,
      graphCache: cache,
      modelKey,
      loadTensors: async () => {
        reads++;
        return f.tensors;
      },
      preloadBandwidthsKbps: [6],
    };
    const built = await StreamingCodec.create(options);
    expect(reads).toBe(1);
    expect(cache.size()).toBe(2); // the decoder's and the 6 kbps encoder's graphs, each both phases
    const want = await roundTrip(built, built);
    await built.release();
    const cached = await StreamingCodec.create({ ...options, loadTensors: () => Promise.reject(new Error("weights read on a cache hit")) });
    const got = await roundTrip(cached, cached);
    expect(got.codes).toEqual(want.codes);
    expect(got.audio).toEqual(want.audio);
    await cached.release();
    await expect(StreamingCodec.create({ ...options, modelKey: "not-hex" })).rejects.toThrow(RangeError);
  });
});
