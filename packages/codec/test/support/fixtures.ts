import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEncodecConfig, type EncodecConfig } from "../../src/config.js";
import type { RawTensor, TensorMap } from "../../src/weights/raw-tensor.js";
import { readSafetensors } from "../../src/weights/safetensors.js";
import type { EncodedFrame } from "../../src/runtime/encodec-model.js";

/** Absolute path of a file under test/fixtures. */
export const fixturePath = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));

/** The bytes of a file under test/fixtures. */
export const fixtureBytes = (p: string): Uint8Array => new Uint8Array(readFileSync(fixturePath(p)));

/** The tiny golden models. */
export const TINY_MODELS = ["tiny24", "tiny48"] as const;
export type TinyModel = (typeof TINY_MODELS)[number];

/** What meta.json says about a tiny model. */
export interface FixtureMeta {
  sample_rate: number;
  channels: number;
  n_q: number;
  bandwidths: number[];
  input_samples: number;
  segment_length: number | null;
  segment_stride: number | null;
  [key: string]: unknown;
}

export interface GoldenFixture {
  name: TinyModel;
  config: EncodecConfig;
  tensors: TensorMap;
  vectors: TensorMap;
  meta: FixtureMeta;
  /** The input audio, planar. */
  input: Float32Array[];
}

const cache = new Map<TinyModel, GoldenFixture>();

/** Read a tiny model's config, weights, vectors and meta (memoized per process). */
export function loadGoldenFixture(name: TinyModel): GoldenFixture {
  let f = cache.get(name);
  if (!f) {
    const vectors = readSafetensors(readFileSync(fixturePath(`${name}/vectors.safetensors`)), `${name}/vectors.safetensors`);
    const input = vectors.get("input")!;
    const [c, t] = input.dims as [number, number];
    f = {
      name,
      config: parseEncodecConfig(JSON.parse(readFileSync(fixturePath(`${name}/config.json`), "utf8")), `${name}/config.json`),
      tensors: readSafetensors(readFileSync(fixturePath(`${name}/model.safetensors`)), `${name}/model.safetensors`),
      vectors,
      meta: JSON.parse(readFileSync(fixturePath(`${name}/meta.json`), "utf8")) as FixtureMeta,
      input: Array.from({ length: c }, (_, i) => input.data.slice(i * t, (i + 1) * t)),
    };
    cache.set(name, f);
  }
  return f;
}

/** `1.5` → `"1_5"`, `6` → `"6_0"`: the bandwidth spelling of the vector names. */
export const bwKey = (bw: number): string => bw.toFixed(1).replace(".", "_");

/** A named vector, or a thrown error naming it. */
export function vector(f: GoldenFixture, name: string): RawTensor {
  const t = f.vectors.get(name);
  if (!t) throw new Error(`${f.name}/vectors.safetensors has no ${name}`);
  return t;
}

/** Number of segments the reference produced at a bandwidth. */
export function segmentCount(f: GoldenFixture, bw: number): number {
  return f.meta[`segments_bw${bwKey(bw)}`] as number;
}

/** The reference codes (and scale) of one segment, as an {@link EncodedFrame}. */
export function referenceFrame(f: GoldenFixture, bw: number, seg: number): EncodedFrame {
  const codes = vector(f, `codes_bw${bwKey(bw)}_seg${seg}`);
  const scale = f.vectors.get(`scale_bw${bwKey(bw)}_seg${seg}`);
  const [, k, n] = codes.dims as [number, number, number];
  return { codes: Uint16Array.from(codes.data), numCodebooks: k, numFrames: n, scale: scale ? scale.data[0]! : null };
}

/** Planar channels of a `[1, C, T]` vector. */
export function planar(t: RawTensor): Float32Array[] {
  const [, c, n] = t.dims as [number, number, number];
  return Array.from({ length: c }, (_, i) => t.data.subarray(i * n, (i + 1) * n));
}

/** Largest absolute difference between two equally long arrays (Infinity when lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
