import { mkdir, mkdtemp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadLmWeights, readSafetensors, type StreamingCodec } from "@encstream/codec";
import { loadEncodec, loadStreamingCodec } from "@encstream/codec/node";
import { createSessionCodec, type SessionCodec } from "../../src/index.js";

/** The codec package's tiny models (random weights, real architectures). */
export const FIXTURES_DIR = fileURLToPath(new URL("../../../codec/test/fixtures/", import.meta.url));

/** A temporary directory under the package's `.tmp` (ignored by git). */
export async function makeTempDir(prefix: string): Promise<string> {
  const root = fileURLToPath(new URL("../../.tmp/", import.meta.url));
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${prefix}-`));
}

/** A session codec over a tiny model on onnxruntime-node, with its streaming codec and LM; `release` frees it. */
export async function openTinyCodec(name: "tiny24" | "tiny48", cacheDir: string): Promise<SessionCodec & { release(): Promise<void> }> {
  const dir = join(FIXTURES_DIR, name);
  const model = await loadEncodec(dir, { cacheDir });
  let streaming: Promise<StreamingCodec> | undefined;
  const codec = createSessionCodec({
    model,
    streaming: () => (streaming ??= loadStreamingCodec(dir, { cacheDir })),
    lm: async () => {
      const bytes = new Uint8Array(await readFile(join(dir, "lm.safetensors")));
      return loadLmWeights(readSafetensors(bytes, "lm.safetensors"), { frameRateHz: model.frameRateHz });
    },
  });
  return {
    ...codec,
    release: async () => {
      const s = await streaming?.catch(() => undefined);
      await Promise.all([s?.release(), model.release()]);
    },
  };
}

/** A deterministic PRNG in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `frames` samples of a sine of `frequencyHz` at `sampleRateHz`. */
export function sine(frames: number, frequencyHz: number, sampleRateHz: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz);
  return out;
}
