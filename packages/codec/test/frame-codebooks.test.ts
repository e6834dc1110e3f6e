// Per-frame bitrate (K changing every frame) on the tiny golden models, on onnxruntime-node and
// onnxruntime-web (wasm). The reference is "each frame decoded at its K offline": the offline
// quantizer-decode graph run on each frame alone with exactly its K codebooks, the embeddings
// joined, then the offline SEANet decoder graph. Offline decode (EncodecModel, decodeChunk) of
// a mixed-K block must equal it bit for bit; the stream decoder must equal its offline decode of
// the same mixed-K codes as a constant-K stream does (the streaming tolerance), and bit for bit
// where the runtime makes streaming exact.
import { createRequire } from "node:module";
import path from "node:path";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isCodecError } from "../src/errors.js";
import { mulberry32 } from "../src/internal/mulberry32.js";
import { prepareWeights } from "../src/model/prepare-weights.js";
import { buildDecoderGraph, buildQuantizerDecodeGraph, GRAPH_IO } from "../src/onnx/encodec-graphs.js";
import { EncodecModel, type EncodedFrame } from "../src/runtime/encodec-model.js";
import type { OrtRuntime, OrtSession } from "../src/runtime/ort-types.js";
import { decodeChunk } from "../src/streaming/chunk-codec.js";
import { concatCodeBlocks } from "../src/streaming/code-blocks.js";
import { createStreamDecoder } from "../src/streaming/stream-decoder.js";
import type { CodeBlock } from "../src/streaming/stream-types.js";
import { StreamingCodec } from "../src/streaming/streaming-codec.js";
import { loadGoldenFixture, type TinyModel } from "./support/fixtures.js";
import { joinPlanar, maxAbsDiffRange } from "./support/streaming-support.js";

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.wasmPaths = `${path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web"))}/`;

const RUNTIMES: ReadonlyArray<readonly [string, OrtRuntime]> = [
  ["onnxruntime-node", ortNode],
  ["onnxruntime-web (wasm)", ortWeb],
];
const HOP = 320;
/** Stream decode against offline decode of the same codes (as test/streaming.test.ts). */
const DECODE_TOLERANCE = 1e-4;
const measured: string[] = [];
afterAll(() => console.log(`per-frame K measurements:\n${measured.join("\n")}`));

/** Each frame's codes decoded at its own K by the offline quantizer-decode graph, joined, then the offline decoder graph. */
async function decodeEachFrameAtItsK(runtime: OrtRuntime, quantizer: OrtSession, decoder: OrtSession, block: EncodedFrame): Promise<Float32Array[]> {
  const { codes, numCodebooks: k, numFrames: f } = block;
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let j = 0; j < f; j++) {
    const kj = block.frameCodebooks ? block.frameCodebooks[j]! : k;
    const ids = BigInt64Array.from({ length: kj }, (_, q) => BigInt(codes[q * f + j]!));
    const out = await quantizer.run({ [GRAPH_IO.codes]: new runtime.Tensor("int64", ids, [1, kj, 1]) });
    const emb = out[GRAPH_IO.embeddings]!;
    dim = (emb.dims as number[])[1]!;
    parts.push(emb.data as Float32Array);
  }
  const joined = new Float32Array(dim * f);
  for (let j = 0; j < f; j++) for (let d = 0; d < dim; d++) joined[d * f + j] = parts[j]![d]!;
  const out = await decoder.run({ [GRAPH_IO.embeddings]: new runtime.Tensor("float32", joined, [1, dim, f]) });
  const audio = out[GRAPH_IO.audio]!;
  const t = (audio.dims as number[])[2]!;
  const data = audio.data as Float32Array;
  return Array.from({ length: (audio.dims as number[])[1]! }, (_, c) => data.slice(c * t, (c + 1) * t));
}

/** A block of `f` frames with random codes and a K per frame drawn from 1..nq (every value of K appears). */
function mixedBlock(nq: number, f: number, seed: number): EncodedFrame {
  const rnd = mulberry32(seed);
  const table = Uint8Array.from({ length: f }, (_, j) => (j < nq ? nq - j : 1 + Math.floor(rnd() * nq)));
  const codes = new Uint16Array(nq * f);
  for (let i = 0; i < codes.length; i++) codes[i] = Math.floor(rnd() * 1024); // rows beyond a frame's K hold junk, never read
  return { codes, numCodebooks: nq, numFrames: f, scale: null, frameCodebooks: table };
}

describe.each(RUNTIMES)("per-frame K on %s", (rtName, runtime) => {
  describe.each(["tiny24", "tiny48"] as const)("%s", (name: TinyModel) => {
    const fx = loadGoldenFixture(name);
    let model: EncodecModel;
    let quantizer: OrtSession;
    let decoder: OrtSession;

    beforeAll(async () => {
      model = await EncodecModel.create({ config: fx.config, tensors: fx.tensors, runtime });
      const prepared = prepareWeights(fx.config, fx.tensors);
      quantizer = (await runtime.InferenceSession.create(buildQuantizerDecodeGraph(prepared))) as unknown as OrtSession;
      decoder = (await runtime.InferenceSession.create(buildDecoderGraph(prepared))) as unknown as OrtSession;
    });
    afterAll(async () => {
      await model?.release();
      await quantizer?.release();
      await decoder?.release();
    });

    test("offline decode and decodeChunk of a block whose K changes every frame equal each frame decoded at its K, bit for bit", async () => {
      const nq = fx.meta.n_q;
      const f = 3 * nq;
      const block = mixedBlock(nq, f, 11);
      const reference = await decodeEachFrameAtItsK(runtime, quantizer, decoder, block);
      const offline = await model.decodeSegment(block);
      expect(offline[0]!.length).toBe(f * HOP);
      expect(maxAbsDiffRange(offline, reference)).toBe(0);
      const length = f * HOP - 77;
      const chunk = await decodeChunk(model, { ...block, lengthSamples: length });
      expect(maxAbsDiffRange(chunk, reference.map((ch) => ch.subarray(0, length)))).toBe(0);
      // not vacuous: the same codes at a constant K decode differently
      const constant = await model.decodeSegment({ ...block, frameCodebooks: null });
      expect(maxAbsDiffRange(constant, reference)).toBeGreaterThan(1e-3);
    });

    test("rows beyond a frame's K are not read: a code ≥ 1024 there is accepted, one within K is corrupt", async () => {
      const block = mixedBlock(fx.meta.n_q, 4, 3);
      const table = Uint8Array.of(1, 1, 1, 1);
      const codes = block.codes.slice();
      codes[block.numFrames * 1] = 4000; // codebook 1 of frame 0: beyond its K = 1
      const a = await model.decodeSegment({ ...block, codes, frameCodebooks: table });
      const b = await model.decodeSegment({ codes: block.codes.slice(0, 4), numCodebooks: 1, numFrames: 4, scale: null });
      expect(maxAbsDiffRange(a, b)).toBe(0);
      codes[0] = 4000;
      await expect(model.decodeSegment({ ...block, codes, frameCodebooks: table })).rejects.toSatisfy((e: unknown) => isCodecError(e) && e.code === "corrupt");
      await expect(model.decodeSegment({ ...block, frameCodebooks: Uint8Array.of(1, 2, 0, 1) })).rejects.toThrow(/^frame.frameCodebooks\[2\] must be in \[1, /);
    });
  });

  describe("tiny24 stream decoder", () => {
    const fx = loadGoldenFixture("tiny24");
    let model: EncodecModel;
    let codec: StreamingCodec;
    beforeAll(async () => {
      model = await EncodecModel.create({ config: fx.config, tensors: fx.tensors, runtime });
      codec = await StreamingCodec.create({ config: fx.config, tensors: fx.tensors, runtime });
    });
    afterAll(async () => {
      await model?.release();
      await codec?.release();
    });

    test("a stream whose K changes every frame (pushed frame by frame, and in blocks with a K table) decodes as its offline decode", async () => {
      const nq = fx.meta.n_q;
      const f = 120;
      const block = mixedBlock(nq, f, 5);
      const length = f * HOP - 100;
      const offline = await decodeChunk(model, { ...block, lengthSamples: length });
      // frame by frame: each push has its own K (numCodebooks = that frame's K)
      const frames: CodeBlock[] = Array.from({ length: f }, (_, j) => {
        const kj = block.frameCodebooks![j]!;
        return { codes: Uint16Array.from({ length: kj }, (_, q) => block.codes[q * f + j]!), numCodebooks: kj, numFrames: 1, lengthSamples: j === f - 1 ? HOP - 100 : HOP };
      });
      const dec = createStreamDecoder(codec);
      const parts: Float32Array[][] = [];
      for (const fr of frames) parts.push(await dec.push(fr));
      parts.push(await dec.end());
      const byFrame = joinPlanar(parts, 1);
      // the same frames joined into blocks of 1–7 frames (concatCodeBlocks builds the K tables)
      const rnd = mulberry32(9);
      const dec2 = createStreamDecoder(codec);
      const parts2: Float32Array[][] = [];
      for (let j = 0; j < f; ) {
        const n = Math.min(f - j, 1 + Math.floor(rnd() * 7));
        parts2.push(await dec2.push(concatCodeBlocks(frames.slice(j, j + n))));
        j += n;
      }
      parts2.push(await dec2.end());
      const byBlock = joinPlanar(parts2, 1);
      expect(byFrame[0]!.length).toBe(length);
      expect(byBlock[0]!.length).toBe(length);
      const errFrame = maxAbsDiffRange(byFrame, offline);
      const errBlock = maxAbsDiffRange(byBlock, offline);
      expect(errFrame).toBeLessThanOrEqual(DECODE_TOLERANCE);
      expect(errBlock).toBeLessThanOrEqual(DECODE_TOLERANCE);
      if (runtime === ortWeb) expect([errFrame, errBlock]).toEqual([0, 0]); // streaming is bit-exact on the WebAssembly runtime
      measured.push(`${rtName}: stream decoder, K changing every frame (1–${nq}), against offline: frame by frame ${errFrame.toExponential(1)}, in blocks ${errBlock.toExponential(1)}`);
    });
  });
});
