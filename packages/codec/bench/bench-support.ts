// Helpers for bench/run.ts: seeded random weights for a config, a safetensors writer (the WAV reader is test/support/wav.ts).
import * as ortNode from "onnxruntime-node";
import { mulberry32 } from "../src/internal/mulberry32.js";
import { nodeSessionOptions } from "../src/node/encodec-node.js";
import { buildQuantizerEncodeGraph } from "../src/onnx/encodec-graphs.js";
import { EncodecModel } from "../src/runtime/encodec-model.js";
import { describeArchitecture } from "../src/model/architecture.js";
import type { EncodecConfig } from "../src/config.js";
import type { RawTensor, TensorMap } from "../src/weights/raw-tensor.js";

/** A seeded uniform PRNG (mulberry32) with a normal sampler. */
export function rng(seed: number): { uniform: () => number; normal: () => number } {
  const uniform = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const tensor = (dims: number[], data: Float32Array): RawTensor => ({ dims, data, sourceDtype: "F32" });

/**
 * Seeded random weights for every tensor of `config`, initialized like PyTorch's defaults:
 * convolutions and LSTMs uniform in ±1/sqrt(fan_in), weight norm `g = ‖v‖`, GroupNorm weight 1
 * and bias 0, codebooks standard normal (replace them with {@link sampleCodebooks}).
 */
export function randomWeights(config: EncodecConfig, seed: number): TensorMap {
  const r = rng(seed);
  const out: TensorMap = new Map();
  const arch = describeArchitecture(config);
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * r.uniform() - 1) * bound);
  // fan_in of each conv: weight dims[1] × kernel (PyTorch's rule, also for [in, out, k] transposed weights)
  const fanIn = new Map<string, number>();
  for (const t of arch.tensors) {
    if (/\.conv\.weight(_v)?$/.test(t.name)) fanIn.set(t.name.replace(/\.weight(_v)?$/, ""), t.dims[1]! * t.dims[2]!);
  }
  for (const t of arch.tensors) {
    const n = t.dims.reduce((x, y) => x * y, 1);
    const base = t.name.replace(/\.(weight_g|weight_v|weight|bias)$/, "");
    let data: Float32Array;
    if (t.role === "ignored-buffer") continue;
    if (t.name.endsWith(".codebook.embed")) data = Float32Array.from({ length: n }, () => r.normal());
    else if (t.name.endsWith(".norm.weight")) data = new Float32Array(n).fill(1);
    else if (t.name.endsWith(".norm.bias")) data = new Float32Array(n);
    else if (t.name.includes(".lstm.")) data = uniform(n, 1 / Math.sqrt(t.dims[0]! / 4));
    else if (t.name.endsWith(".conv.weight_g")) continue; // set from weight_v below
    else data = uniform(n, 1 / Math.sqrt(fanIn.get(base) ?? 1));
    out.set(t.name, tensor([...t.dims], data));
    if (t.name.endsWith(".conv.weight_v")) {
      const rows = t.dims[0]!;
      const per = n / rows;
      const g = new Float32Array(rows);
      for (let i = 0; i < rows; i++) g[i] = Math.hypot(...data.subarray(i * per, (i + 1) * per));
      out.set(`${base}.weight_g`, tensor([rows, 1, 1], g));
    }
  }
  return out;
}

/** Serialize tensors as a `.safetensors` file (F32). */
export function writeSafetensors(tensors: TensorMap): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: "F32", shape: t.dims, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}

/**
 * Replace the codebooks of `tensors` with entries sampled from the residuals of real encoder
 * outputs, layer by layer as residual vector quantization sees them (each entry a residual
 * vector plus 30 % noise, so residuals never vanish). `embeddings` is `[F, D]` row-major.
 * `nearest(codebook, residual)` returns each residual row's nearest codeword index.
 */
export async function sampleCodebooks(
  config: EncodecConfig,
  tensors: TensorMap,
  embeddings: Float32Array,
  numFrames: number,
  nearest: (codebook: Float32Array, residual: Float32Array, numFrames: number) => Promise<Int32Array>,
  seed: number,
): Promise<void> {
  const r = rng(seed);
  const d = config.codebookDim;
  const n = config.codebookSize;
  const residual = embeddings.slice();
  const nq = describeArchitecture(config).numQuantizers;
  for (let layer = 0; layer < nq; layer++) {
    let sq = 0;
    for (const v of residual) sq += v * v;
    const rms = Math.sqrt(sq / residual.length);
    const codebook = new Float32Array(n * d);
    for (let k = 0; k < n; k++) {
      const j = Math.floor(r.uniform() * numFrames);
      for (let i = 0; i < d; i++) codebook[k * d + i] = residual[j * d + i]! + 0.3 * rms * r.normal();
    }
    const idx = await nearest(codebook, residual, numFrames);
    for (let f = 0; f < numFrames; f++) for (let i = 0; i < d; i++) residual[f * d + i]! -= codebook[idx[f]! * d + i]!;
    tensors.set(`quantizer.layers.${layer}.codebook.embed`, tensor([n, d], codebook));
  }
}

/** Full-size random weights with codebooks sampled from the encoder's residuals on `audio` (as bench/run.ts does). */
export async function makeSampledWeights(config: EncodecConfig, audio: Float32Array, seed: number): Promise<TensorMap> {
  const tensors = randomWeights(config, seed);
  const probe = await EncodecModel.create({ config, tensors, runtime: ortNode, sessionOptions: nodeSessionOptions({ intraOpNumThreads: 2 }) });
  const e = await probe.embed([audio]);
  await probe.release();
  const d = e.hiddenSize;
  const frameMajor = new Float32Array(e.numFrames * d);
  for (let t = 0; t < e.numFrames; t++) for (let i = 0; i < d; i++) frameMajor[t * d + i] = e.embeddings[i * e.numFrames + t]!;
  const nearest = async (codebook: Float32Array, residual: Float32Array, numFrames: number) => {
    const architecture = { ...describeArchitecture(config), numQuantizers: 1 };
    const one = new Map([["quantizer.layers.0.codebook.embed", { dims: [config.codebookSize, d], data: codebook, sourceDtype: "F32" as const }]]);
    const s = await ortNode.InferenceSession.create(buildQuantizerEncodeGraph({ architecture, tensors: one }, 1));
    const x = new Float32Array(residual.length);
    for (let t = 0; t < numFrames; t++) for (let i = 0; i < d; i++) x[i * numFrames + t] = residual[t * d + i]!;
    const out = await s.run({ embeddings: new ortNode.Tensor("float32", x, [1, d, numFrames]) });
    await s.release();
    return Int32Array.from(out.codes!.data as BigInt64Array, (v) => Number(v));
  };
  await sampleCodebooks(config, tensors, frameMajor, e.numFrames, nearest, seed + 1);
  return tensors;
}
