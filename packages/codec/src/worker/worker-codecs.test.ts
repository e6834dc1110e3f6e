// Worker codecs on the tiny golden models: codes and audio bit-identical to the same calls on the
// calling thread, errors as the codec's classes, bounded calls in flight, clean shutdown.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fixturePath, loadGoldenFixture } from "../../test/support/fixtures.js";
import { CodecError, isCodecError } from "../errors.js";
import { loadEncodec } from "../node/encodec-node.js";
import { mulberry32 } from "../internal/mulberry32.js";
import { decodeChunk, encodeChunk } from "../streaming/chunk-codec.js";
import type { StreamDecoderLike, StreamEncoderLike } from "../streaming/codec-interfaces.js";
import { loadStreamingCodec } from "../streaming/node/load-streaming-codec.js";
import { createStreamDecoder } from "../streaming/stream-decoder.js";
import { createStreamEncoder } from "../streaming/stream-encoder.js";
import type { StreamFrame } from "../streaming/stream-types.js";
import type { StreamingCodec } from "../streaming/streaming-codec.js";
import { createWorkerChunkCoder } from "./worker-chunk-coder.js";
import type { WorkerStreamDecoder } from "./worker-stream-decoder.js";
import type { WorkerStreamEncoder } from "./worker-stream-encoder.js";
import { createWorkerStreamDecoder, createWorkerStreamEncoder, WorkerStreamingCodec } from "./worker-streaming-codec.js";

const tiny24 = loadGoldenFixture("tiny24");
const NO_CACHE = { cacheGraphs: false } as const;

/** The same pushes on both encoders: seeded random piece sizes (0 to 3 frames), then end(). */
async function encodeInPieces(encoder: StreamEncoderLike, audio: Float32Array, seed: number): Promise<{ frames: StreamFrame[]; buffered: number[] }> {
  const rand = mulberry32(seed);
  const frames: StreamFrame[] = [];
  const buffered: number[] = [];
  for (let at = 0; at < audio.length; ) {
    const n = Math.min(audio.length - at, Math.floor(rand() * 960));
    const piece = audio.subarray(at, at + n);
    frames.push(...(await encoder.push([piece])));
    expect(piece.length).toBe(n); // the caller's audio is copied, never transferred away
    buffered.push(encoder.bufferedSamples, encoder.frameCount);
    at += n;
  }
  frames.push(...(await encoder.end()));
  return { frames, buffered };
}

/** Decode frames in blocks of 1–3 with a loss every 17th frame; the concatenated output. */
async function decodeWithLosses(decoder: StreamDecoderLike, frames: readonly StreamFrame[]): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let i = 0; i < frames.length; ) {
    if (i % 17 === 5) {
      parts.push(...(await decoder.pushMissing(2)));
      i += 2;
      continue;
    }
    const block = frames.slice(i, i + 1 + (i % 3));
    const k = block[0]!.numCodebooks;
    const codes = new Uint16Array(k * block.length);
    block.forEach((fr, j) => fr.codes.forEach((c, q) => (codes[q * block.length + j] = c)));
    const lengthSamples = block.reduce((s, fr) => s + fr.lengthSamples, 0);
    parts.push(...(await decoder.push({ codes, numCodebooks: k, numFrames: block.length, lengthSamples })));
    i += block.length;
  }
  parts.push(...(await decoder.end()));
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe("worker stream encoder and decoder (tiny24)", () => {
  let codec: StreamingCodec;
  let encoder: WorkerStreamEncoder;
  let decoder: WorkerStreamDecoder;
  beforeAll(async () => {
    [codec, encoder, decoder] = await Promise.all([
      loadStreamingCodec({ config: tiny24.config, tensors: tiny24.tensors }, NO_CACHE),
      createWorkerStreamEncoder(fixturePath("tiny24"), { bandwidthKbps: 6, ...NO_CACHE }),
      createWorkerStreamDecoder({ config: tiny24.config, tensors: tiny24.tensors }, NO_CACHE),
    ]);
  });
  afterAll(async () => {
    await Promise.all([codec?.release(), encoder?.close(), decoder?.close()]);
  });

  test.each([1, 2])("codes, counters and decoded audio equal the calling thread's bit for bit (seed %i)", async (seed) => {
    const audio = tiny24.input[0]!;
    const local = await createStreamEncoder(codec, { bandwidthKbps: 6 });
    expect([encoder.numCodebooks, encoder.hopSamples, encoder.startupFrames]).toEqual([local.numCodebooks, local.hopSamples, local.startupFrames]);
    const want = await encodeInPieces(local, audio, seed);
    const got = await encodeInPieces(encoder, audio, seed);
    expect(got.frames.length).toBe(Math.ceil(audio.length / 320));
    expect(got.frames).toEqual(want.frames);
    expect(got.buffered).toEqual(want.buffered);
    const wantAudio = await decodeWithLosses(createStreamDecoder(codec), want.frames);
    const gotAudio = await decodeWithLosses(decoder, got.frames);
    expect(gotAudio.length).toBe(audio.length);
    expect(Buffer.from(gotAudio.buffer).equals(Buffer.from(wantAudio.buffer))).toBe(true);
  });

  test("K changing per frame (blocks with a per-frame K table) decodes as on the calling thread, bit for bit", async () => {
    const rand = mulberry32(3);
    const f = 24;
    const table = Uint8Array.from({ length: f }, () => 1 + Math.floor(rand() * 8));
    table[0] = 8;
    const codes = Uint16Array.from({ length: 8 * f }, () => Math.floor(rand() * 1024));
    const blocks = [0, 10, 17].map((at, i, all) => {
      const end = all[i + 1] ?? f;
      const n = end - at;
      const sub = new Uint16Array(8 * n);
      for (let q = 0; q < 8; q++) sub.set(codes.subarray(q * f + at, q * f + end), q * n);
      return { codes: sub, numCodebooks: 8, numFrames: n, frameCodebooks: table.slice(at, end) };
    });
    const local = createStreamDecoder(codec);
    const want: Float32Array[] = [];
    const got: Float32Array[] = [];
    for (const b of blocks) {
      want.push(...(await local.push(b)));
      got.push(...(await decoder.push(b)));
    }
    want.push(...(await local.end()));
    got.push(...(await decoder.end()));
    const join = (parts: Float32Array[]) => Float32Array.from(parts.flatMap((p) => [...p]));
    expect(join(got).length).toBe(f * 320);
    expect(Buffer.from(join(got).buffer).equals(Buffer.from(join(want).buffer))).toBe(true);
  });

  test("several frames in one push: one call codes them all, as on the calling thread", async () => {
    const audio = tiny24.input[0]!.subarray(0, 320 * 20);
    const local = await createStreamEncoder(codec, { bandwidthKbps: 6 });
    const want = [...(await local.push([audio.subarray(0, 320 * 8)])), ...(await local.push([audio.subarray(320 * 8)]))];
    const got = [...(await encoder.push([audio.subarray(0, 320 * 8)])), ...(await encoder.push([audio.subarray(320 * 8)]))];
    expect(got.map((f) => f.index)).toEqual([...Array(20).keys()]);
    expect(got).toEqual(want);
    encoder.reset();
    expect([encoder.frameCount, encoder.bufferedSamples]).toEqual([0, 0]);
  });

  test("errors: checked here as on the calling thread; the worker's own come back as CodecError", async () => {
    expect(() => encoder.push([new Float32Array(10), new Float32Array(10)])).toThrow(RangeError);
    const bad = { codes: Uint16Array.of(5000, 1, 2, 3, 4, 5, 6, 7), numCodebooks: 8, numFrames: 1 };
    const error = (() => {
      try {
        void decoder.push(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CodecError);
    expect(isCodecError(error) && error.code).toBe("corrupt");
    expect(decoder.numCodebooks).toBeNull(); // nothing was sent
    await expect(createWorkerStreamEncoder(fixturePath("tiny24"), { bandwidthKbps: 7, ...NO_CACHE })).rejects.toThrow(RangeError);
    const missing = await createWorkerStreamDecoder(path.join(tmpdir(), "no-such-encstream-model"), NO_CACHE).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CodecError);
    expect((missing as Error).message).toContain("no-such-encstream-model");
    const tiny48 = await createWorkerStreamDecoder(fixturePath("tiny48"), NO_CACHE).catch((e: unknown) => e);
    expect(isCodecError(tiny48) && tiny48.code).toBe("unsupported");
    const decoderOnly = await WorkerStreamingCodec.create(fixturePath("tiny24"), { sides: ["decoder"], ...NO_CACHE });
    try {
      const wrongSide = await decoderOnly.createStreamEncoder({ bandwidthKbps: 6 }).catch((e: unknown) => e);
      expect(isCodecError(wrongSide) && wrongSide.code).toBe("worker-failed");
      expect((wrongSide as Error).message).toMatch(/without the encoder side/);
    } finally {
      await decoderOnly.release();
    }
  });
});

test("one WorkerStreamingCodec: interleaved encoders and decoders keep their own state; released means released", async () => {
  const [local, shared] = await Promise.all([
    loadStreamingCodec({ config: tiny24.config, tensors: tiny24.tensors }, NO_CACHE),
    WorkerStreamingCodec.create(fixturePath("tiny24"), NO_CACHE),
  ]);
  try {
    expect([shared.sampleRateHz, shared.encoderStartupFrames, shared.decoderStartupFrames, shared.numQuantizersForBandwidth(12)]).toEqual([
      local.sampleRateHz,
      local.encoderStartupFrames,
      local.decoderStartupFrames,
      local.numQuantizersForBandwidth(12),
    ]);
    await expect(shared.createStreamEncoder({ bandwidthKbps: 5 })).rejects.toThrow(RangeError);
    const audio = [tiny24.input[0]!.subarray(0, 9600), tiny24.input[0]!.subarray(20_000, 29_600)];
    const [a, b] = await Promise.all([shared.createStreamEncoder({ bandwidthKbps: 6 }), shared.createStreamEncoder({ bandwidthKbps: 12 })]);
    const [da, db] = await Promise.all([shared.createStreamDecoder(), shared.createStreamDecoder({ concealFadeFrames: 2 })]);
    const wantCodes = await Promise.all([6, 12].map(async (bw, i) => {
      const e = await createStreamEncoder(local, { bandwidthKbps: bw });
      return [...(await e.push([audio[i]!.subarray(0, 4800)])), ...(await e.push([audio[i]!.subarray(4800)])), ...(await e.end())];
    }));
    const got: StreamFrame[][] = [[], []];
    for (const at of [0, 4800]) {
      const [fa, fb] = await Promise.all([a.push([audio[0]!.subarray(at, at + 4800)]), b.push([audio[1]!.subarray(at, at + 4800)])]);
      got[0]!.push(...fa);
      got[1]!.push(...fb);
    }
    got[0]!.push(...(await a.end()));
    got[1]!.push(...(await b.end()));
    expect(got).toEqual(wantCodes);
    const wantAudio = [await decodeWithLosses(createStreamDecoder(local), wantCodes[0]!), await decodeWithLosses(createStreamDecoder(local, { concealFadeFrames: 2 }), wantCodes[1]!)];
    const gotAudio = await Promise.all([decodeWithLosses(da, got[0]!), decodeWithLosses(db, got[1]!)]);
    gotAudio.forEach((x, i) => expect(Buffer.from(x.buffer).equals(Buffer.from(wantAudio[i]!.buffer))).toBe(true));
    await a.close();
    await expect(a.push([audio[0]!])).rejects.toThrow(/no stream encoder/);
  } finally {
    await Promise.all([local.release(), shared.release()]);
  }
  const error = await shared.createStreamDecoder().catch((e: unknown) => e);
  expect(isCodecError(error) && error.code).toBe("worker-failed");
});

describe.each(["tiny24", "tiny48"] as const)("worker chunk coder (%s)", (name) => {
  test("encodeChunk / decodeChunk equal the calling thread's bit for bit; errors as CodecError; closed means closed", async () => {
    const f = loadGoldenFixture(name);
    const [model, coder] = await Promise.all([loadEncodec({ config: f.config, tensors: f.tensors }, NO_CACHE), createWorkerChunkCoder(fixturePath(name), NO_CACHE)]);
    try {
      expect([coder.sampleRateHz, coder.channels, coder.hopLengthSamples, coder.normalize]).toEqual([model.sampleRateHz, model.channels, model.hopLengthSamples, model.config.normalize]);
      expect(coder.numQuantizersForBandwidth(12)).toBe(model.numQuantizersForBandwidth(12));
      expect(() => coder.numQuantizersForBandwidth(7)).toThrow(RangeError);
      for (const [from, length] of [[0, 6000], [3000, Math.round(0.25 * f.config.sampleRateHz) + 7]] as const) {
        const audio = f.input.map((c) => c.subarray(from, from + length));
        const want = await encodeChunk(model, audio, { bandwidthKbps: 6 });
        const got = await coder.encodeChunk(audio, { bandwidthKbps: 6 });
        expect(got).toEqual(want);
        const wantAudio = await decodeChunk(model, want);
        const gotAudio = await coder.decodeChunk(got);
        expect(gotAudio.length).toBe(f.config.audioChannels);
        gotAudio.forEach((ch, c) => expect(Buffer.from(ch.buffer, ch.byteOffset, ch.byteLength).equals(Buffer.from(wantAudio[c]!.buffer, wantAudio[c]!.byteOffset, wantAudio[c]!.byteLength))).toBe(true));
      }
      const chunk = await coder.encodeChunk(f.input.map((c) => c.subarray(0, 1000)), { bandwidthKbps: 6 }); // 4 frames
      const corrupt = await coder.decodeChunk({ ...chunk, lengthSamples: 960 }).catch((e: unknown) => e);
      expect(corrupt).toBeInstanceOf(CodecError);
      expect((corrupt as CodecError).code).toBe("corrupt");
      await expect(coder.encodeChunk(f.input, { bandwidthKbps: 7 })).rejects.toThrow(RangeError);
    } finally {
      await Promise.all([model.release(), coder.close()]);
    }
    const closed = await coder.decodeChunk({ codes: new Uint16Array(2), numCodebooks: 2, numFrames: 1, lengthSamples: 320, scale: null }).catch((e: unknown) => e);
    expect(isCodecError(closed) && closed.code).toBe("worker-failed");
  });
});

test("calls in flight are bounded by maxQueuedCalls", async () => {
  const encoder = await createWorkerStreamEncoder(fixturePath("tiny24"), { bandwidthKbps: 6, maxQueuedCalls: 2, ...NO_CACHE });
  try {
    const piece = [tiny24.input[0]!.subarray(0, 320 * 8)];
    const first = encoder.push(piece);
    const second = encoder.push(piece);
    await expect(encoder.push(piece)).rejects.toThrow(/maxQueuedCalls \(2\)/);
    expect((await first).length + (await second).length).toBe(16);
  } finally {
    await encoder.close();
  }
});

test("the worker's young generation is bounded (youngGenerationMb): a 1 MiB worker codes the same frames; out-of-range values throw", async () => {
  const audio = tiny24.input[0]!.subarray(0, 320 * 40);
  const here = await loadStreamingCodec(fixturePath("tiny24"), NO_CACHE);
  const encoder = await createWorkerStreamEncoder(fixturePath("tiny24"), { bandwidthKbps: 6, youngGenerationMb: 1, ...NO_CACHE });
  try {
    const inThread = await createStreamEncoder(here, { bandwidthKbps: 6 });
    const expected = [...(await inThread.push([audio])), ...(await inThread.end())];
    const got = [...(await encoder.push([audio])), ...(await encoder.end())];
    expect(got.map((f) => Array.from(f.codes))).toEqual(expected.map((f) => Array.from(f.codes)));
    expect(got.length).toBe(40);
  } finally {
    await Promise.all([encoder.close(), here.release()]);
  }
  for (const youngGenerationMb of [0, 1.5, 257, Number.NaN]) {
    await expect(createWorkerStreamEncoder(fixturePath("tiny24"), { bandwidthKbps: 6, youngGenerationMb, ...NO_CACHE })).rejects.toThrow(RangeError);
  }
});

test("a process that never closes its worker codecs still exits (idle workers do not hold it)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "encstream-worker-exit-"));
  try {
    const script = path.join(dir, "never-close.mjs");
    const nodeEntry = pathToFileURL(fileURLToPath(new URL("../../dist/node.js", import.meta.url))).href;
    writeFileSync(
      script,
      [
        `import { createWorkerStreamEncoder, createWorkerStreamDecoder } from ${JSON.stringify(nodeEntry)};`,
        `const opts = { cacheGraphs: false };`,
        `const enc = await createWorkerStreamEncoder(${JSON.stringify(fixturePath("tiny24"))}, { bandwidthKbps: 6, ...opts });`,
        `const dec = await createWorkerStreamDecoder(${JSON.stringify(fixturePath("tiny24"))}, opts);`,
        `const frames = await enc.push([new Float32Array(320 * 8)]);`,
        `const audio = await dec.push({ codes: new Uint16Array(frames[0].numCodebooks), numCodebooks: frames[0].numCodebooks, numFrames: 1 });`,
        `console.log("frames", frames.length, "audio", audio[0].length);`,
      ].join("\n"),
    );
    const run = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 20_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("frames 8 audio 0");
    expect(run.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.each(["int8", "int4"] as const)("precision crosses to the worker: %s codes in a worker equal those on the calling thread", async (precision) => {
  const quantized = { ...NO_CACHE, precision };
  const [codec, encoder] = await Promise.all([
    loadStreamingCodec({ config: tiny24.config, tensors: tiny24.tensors }, quantized),
    createWorkerStreamEncoder(fixturePath("tiny24"), { bandwidthKbps: 6, ...quantized }),
  ]);
  try {
    const audio = tiny24.input[0]!;
    const want = await encodeInPieces(await createStreamEncoder(codec, { bandwidthKbps: 6 }), audio, 4);
    const got = await encodeInPieces(encoder, audio, 4);
    expect(got.frames).toEqual(want.frames);
    const float32 = await loadStreamingCodec({ config: tiny24.config, tensors: tiny24.tensors }, NO_CACHE);
    const exact = await encodeInPieces(await createStreamEncoder(float32, { bandwidthKbps: 6 }), audio, 4);
    await float32.release();
    expect(got.frames).not.toEqual(exact.frames); // the quantized graphs really ran in the worker
  } finally {
    await Promise.all([codec.release(), encoder.close()]);
  }
});
