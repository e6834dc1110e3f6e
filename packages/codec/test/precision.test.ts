// The int8 and int4 precisions end to end on the tiny golden models (onnxruntime-node): offline
// codes and audio against float32, frame-by-frame streaming against float32 offline, and the graph
// cache keeping the precisions apart. Measured figures are printed at the end (bench/precision.ts
// makes the README's table on the full-size model).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, test } from "vitest";
import { loadEncodec } from "../src/node/encodec-node.js";
import { EncodecModel, type EncodedAudio } from "../src/runtime/encodec-model.js";
import { concatCodeBlocks } from "../src/streaming/code-blocks.js";
import { createStreamDecoder } from "../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../src/streaming/stream-encoder.js";
import { StreamingCodec } from "../src/streaming/streaming-codec.js";
import { makeSampledWeights } from "../bench/bench-support.js";
import { parseEncodecConfig } from "../src/config.js";
import { fixturePath, loadGoldenFixture, TINY_MODELS, type TinyModel } from "./support/fixtures.js";
import { joinPlanar, snrDb, streamFrameByFrame } from "./support/streaming-support.js";

type Quantized = "int8" | "int4";
type Floors = Record<TinyModel | "tiny24 streaming", { codes: number; firstCodebook: number; decodeSnrDb: number; endToEndSnrDb: number }>;

/**
 * Floors for int8 against float32 at 6 kbps, below the values measured on onnxruntime-node 1.30
 * (printed at the end; AVX-512 VNNI CPU). Residual quantization amplifies small differences: a
 * later codebook quantizes what the earlier ones left, so its codes flip first, and codebook 1
 * agrees most. A broken int8 graph agrees on ~0.1 % of codes (1 in 1024) with an SNR below 0 dB.
 */
const INT8_FLOORS: Floors = {
  // measured: 52.1 %, 92.0 %, 44.0 dB, 29.7 dB
  tiny24: { codes: 0.35, firstCodebook: 0.8, decodeSnrDb: 34, endToEndSnrDb: 22 },
  // measured: 91.5 %, 97.1 %, 37.7 dB, 14.3 dB (non-causal, GroupNorm, normalized 1 s segments)
  tiny48: { codes: 0.75, firstCodebook: 0.88, decodeSnrDb: 29, endToEndSnrDb: 8 },
  // measured: 40.2 %, 73.5 %, -, 29.4 dB. Codebook 1 agrees less than offline because the step graphs' quantizer
  // computes its distances in int8 (tiny24's codebooks leave many near-ties; the full-size model's agree at 100 %).
  "tiny24 streaming": { codes: 0.35, firstCodebook: 0.6, decodeSnrDb: 0, endToEndSnrDb: 22 },
};

/**
 * Floors for int4 against float32, set the same way (measured figures beside them). int4 is int8
 * with 4-bit weights in the LSTMs and the frame-rate convolutions (every tiny model's widest
 * layers are some of them), so it sits a little below int8.
 */
const INT4_FLOORS: Floors = {
  // measured: 12.7 %, 60.2 %, 26.3 dB, 21.0 dB. tiny24's 4-bit convolutions are its encoder's last downsampling one and
  // its decoder's first upsampling one (64 channels); 4-bit LSTMs alone left codes 50.6 % equal.
  tiny24: { codes: 0.05, firstCodebook: 0.35, decodeSnrDb: 22, endToEndSnrDb: 16 },
  // measured: 62.0 %, 83.6 %, 22.6 dB, 8.1 dB
  tiny48: { codes: 0.45, firstCodebook: 0.7, decodeSnrDb: 18, endToEndSnrDb: 5 },
  // measured: 9.8 %, 47.8 %, -, 21.0 dB
  "tiny24 streaming": { codes: 0.04, firstCodebook: 0.3, decodeSnrDb: 0, endToEndSnrDb: 16 },
};

const FLOORS: Record<Quantized, Floors> = { int8: INT8_FLOORS, int4: INT4_FLOORS };
const QUANTIZED: readonly Quantized[] = ["int8", "int4"];

const measured: string[] = [];
afterAll(() => console.log(`int8 and int4 vs float32:\n${measured.join("\n")}`));

/** Share of equal codes, overall and in the first codebook. */
function agreement(a: EncodedAudio, b: EncodedAudio): [number, number] {
  let same = 0;
  let total = 0;
  let first = 0;
  let firstTotal = 0;
  a.frames.forEach((fa, s) => {
    const fb = b.frames[s]!;
    for (let i = 0; i < fa.codes.length; i++) {
      total++;
      if (fa.codes[i] === fb.codes[i]) same++;
      if (i < fa.numFrames) {
        firstTotal++;
        if (fa.codes[i] === fb.codes[i]) first++;
      }
    }
  });
  return [same / total, first / firstTotal];
}

describe.each(QUANTIZED.flatMap((precision) => TINY_MODELS.map((name) => [name, precision] as const)))("%s, %s against float32 (offline)", (name: TinyModel, precision: Quantized) => {
  const f = loadGoldenFixture(name);
  test("codes mostly agree; the quantized model decodes float32's codes and its own close to float32", async () => {
    const [m32, m8] = await Promise.all([
      EncodecModel.create({ config: f.config, tensors: f.tensors, runtime: ort }),
      EncodecModel.create({ config: f.config, tensors: f.tensors, runtime: ort, precision }),
    ]);
    try {
      expect(m32.precision).toBe("float32");
      expect(m8.precision).toBe(precision);
      const c32 = await m32.encode(f.input, { bandwidthKbps: 6 });
      const c8 = await m8.encode(f.input, { bandwidthKbps: 6 });
      const [all, first] = agreement(c32, c8);
      const a32 = await m32.decode(c32);
      const decodeSnr = snrDb(a32, await m8.decode(c32));
      const endToEndSnr = snrDb(a32, await m8.decode(c8));
      measured.push(`${name} ${precision} offline 6 kbps: codes ${(all * 100).toFixed(1)} % equal (codebook 1: ${(first * 100).toFixed(1)} %), decode SNR ${decodeSnr.toFixed(1)} dB, end to end ${endToEndSnr.toFixed(1)} dB`);
      const floor = FLOORS[precision][name];
      expect(all).toBeGreaterThanOrEqual(floor.codes);
      expect(first).toBeGreaterThanOrEqual(floor.firstCodebook);
      expect(decodeSnr).toBeGreaterThanOrEqual(floor.decodeSnrDb);
      expect(endToEndSnr).toBeGreaterThanOrEqual(floor.endToEndSnrDb);
      // a quantized precision is approximate, not a copy of float32
      expect(decodeSnr).toBeLessThan(120);
    } finally {
      await Promise.all([m32.release(), m8.release()]);
    }
  });
});

test.each(QUANTIZED)("tiny24 frame by frame in %s: codes and audio close to float32 offline", async (precision) => {
  const f = loadGoldenFixture("tiny24");
  const audio = f.input[0]!;
  const [m32, codec] = await Promise.all([
    EncodecModel.create({ config: f.config, tensors: f.tensors, runtime: ort }),
    StreamingCodec.create({ config: f.config, tensors: f.tensors, runtime: ort, precision }),
  ]);
  try {
    expect(codec.precision).toBe(precision);
    const encoder = await createStreamEncoder(codec, { bandwidthKbps: 6 });
    const frames = [];
    for (let pos = 0; pos < audio.length; pos += 320) frames.push(...(await encoder.push([audio.subarray(pos, pos + 320)])));
    frames.push(...(await encoder.end()));
    const offline = await m32.encode([audio], { bandwidthKbps: 6 });
    const streamed = concatCodeBlocks(frames);
    const asAudio: EncodedAudio = { ...offline, frames: [{ ...streamed, scale: null }] };
    const [all, first] = agreement(offline, asAudio);
    const decoder = createStreamDecoder(codec);
    const parts = [];
    for (const fr of frames) parts.push(await decoder.push(fr));
    parts.push(await decoder.end());
    const snr = snrDb(await m32.decode(offline), joinPlanar(parts, 1));
    measured.push(`tiny24 ${precision} streaming 6 kbps: codes ${(all * 100).toFixed(1)} % equal to float32 offline (codebook 1: ${(first * 100).toFixed(1)} %), end to end SNR ${snr.toFixed(1)} dB`);
    expect(frames).toHaveLength(offline.frames[0]!.numFrames);
    const floor = FLOORS[precision]["tiny24 streaming"];
    expect(all).toBeGreaterThanOrEqual(floor.codes);
    expect(first).toBeGreaterThanOrEqual(floor.firstCodebook);
    expect(snr).toBeGreaterThanOrEqual(floor.endToEndSnrDb);
  } finally {
    await Promise.all([m32.release(), codec.release()]);
  }
});

/** Floors of the 32-filter model, frame by frame against offline in the same precision (measured figures beside them). */
const WIDE_FLOORS: Record<Quantized, { codes: number; firstCodebook: number; snrDb: number }> = {
  // Measured: 20.2 % of codes equal, codebook 1 78.8 %, 57.6 dB (the random decoder's output is mostly its biases).
  // Each convolution's context prepended on the wrong side of its input gave 3.0 %, 11.5 % and 32.9 dB.
  int8: { codes: 0.12, firstCodebook: 0.6, snrDb: 45 },
  // Measured: 54.8 %, 85.0 %, 57.6 dB.
  int4: { codes: 0.35, firstCodebook: 0.65, snrDb: 45 },
};

test.each(QUANTIZED)("a model with quantized convolutions (channels 32 to 512, random weights): frame by frame in %s close to offline in the same precision", async (precision) => {
  // With 32 filters (channels 32 to 512) every convolution but the first and last runs quantized (INT8_MIN_CHANNELS), and
  // the LSTM too, so this drives the time-major step graphs' convolutions; in int4 the four frame-rate ones have 4-bit weights.
  const f = loadGoldenFixture("tiny24");
  const raw = JSON.parse(readFileSync(fixturePath("tiny24/config.json"), "utf8")) as Record<string, unknown>;
  const config = parseEncodecConfig({ ...raw, num_filters: 32, hidden_size: 64, codebook_dim: 64 });
  const audio = f.input[0]!;
  const tensors = await makeSampledWeights(config, audio, 7); // codebooks sampled from the encoder's residuals, so that codes are not all alike
  const [m8, codec] = await Promise.all([
    EncodecModel.create({ config, tensors, runtime: ort, precision }),
    StreamingCodec.create({ config, tensors, runtime: ort, precision }),
  ]);
  try {
    const { frames, out } = await streamFrameByFrame(codec, audio, 6);
    const offline = await m8.encode([audio], { bandwidthKbps: 6 });
    const streamed = concatCodeBlocks(frames);
    const [all, first] = agreement(offline, { ...offline, frames: [{ ...streamed, scale: null }] });
    const snr = snrDb(await m8.decode(offline), out);
    measured.push(`32-filter model, ${precision} streaming against ${precision} offline: codes ${(all * 100).toFixed(1)} % equal (codebook 1: ${(first * 100).toFixed(1)} %), SNR ${snr.toFixed(1)} dB`);
    // Activations are quantized per call: one frame's range in streaming, the whole input's offline, and the
    // later codebooks flip first; the step graphs' quantizer computes its distances in int8, offline's in float32.
    const floor = WIDE_FLOORS[precision];
    expect(frames).toHaveLength(offline.frames[0]!.numFrames);
    expect(first).toBeGreaterThanOrEqual(floor.firstCodebook);
    expect(all).toBeGreaterThanOrEqual(floor.codes);
    expect(snr).toBeGreaterThanOrEqual(floor.snrDb);
  } finally {
    await Promise.all([m8.release(), codec.release()]);
  }
});

test("the graph cache keeps the precisions' graphs apart; a bad precision is a RangeError", async () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), "encstream-precision-"));
  try {
    const dir = fixturePath("tiny24");
    const open = async (precision?: Quantized) => {
      const model = await loadEncodec(dir, { cacheDir, ...(precision ? { precision } : {}) });
      const stats = model.graphStats;
      await model.release();
      return stats;
    };
    expect((await open()).built).toBe(2);
    expect((await open("int8")).built).toBe(2); // not float32's graphs from the cache
    expect(await open("int8")).toMatchObject({ built: 0, fromCache: 2 });
    expect((await open("int4")).built).toBe(2); // nor int8's
    expect(await open("int4")).toMatchObject({ built: 0, fromCache: 2 });
    expect(await open()).toMatchObject({ built: 0, fromCache: 2 });
    await expect(loadEncodec(dir, { cacheDir, precision: "bf16" as "int8" })).rejects.toThrow(RangeError);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
