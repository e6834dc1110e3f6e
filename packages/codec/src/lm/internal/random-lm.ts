import { mulberry32 } from "../../internal/mulberry32.js";
import type { RawTensor, TensorMap } from "../../weights/raw-tensor.js";

/** Shape of a language model to generate. */
export interface RandomLmShape {
  dim: number;
  numLayers: number;
  hiddenDim: number;
  numCodebooks: number;
  cardinality: number;
}

/** The published models' shape: dim 200, 5 layers, hidden 800, 32 codebooks of 1024. */
export const FULL_SIZE_LM: RandomLmShape = { dim: 200, numLayers: 5, hiddenDim: 800, numCodebooks: 32, cardinality: 1024 };

/**
 * Seeded random LM tensors with the `LMModel` state-dict names, initialized like PyTorch's
 * defaults (uniform +-1/sqrt(fan_in) for linear layers, N(0,1)-like embeddings, unit LayerNorm
 * gains). For tests and benchmarks: the numbers have no meaning, the shapes and cost do.
 */
export function randomLmTensors(shape: RandomLmShape, seed: number): TensorMap {
  const rnd = mulberry32(seed);
  const map: TensorMap = new Map();
  const uniform = (dims: number[], bound: number): RawTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (2 * rnd() - 1) * bound;
    return { dims, data, sourceDtype: "F32" };
  };
  const gaussianish = (dims: number[]): RawTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    // Sum of three uniforms: mean 0, variance 1, cheap and deterministic.
    for (let i = 0; i < n; i++) data[i] = (rnd() + rnd() + rnd() - 1.5) * 2;
    return { dims, data, sourceDtype: "F32" };
  };
  const constant = (dims: number[], v: number): RawTensor => ({ dims, data: new Float32Array(dims[0]!).fill(v), sourceDtype: "F32" });
  const { dim, hiddenDim: hid, cardinality: card } = shape;
  const bd = 1 / Math.sqrt(dim);
  const bh = 1 / Math.sqrt(hid);
  map.set("transformer.norm_in.weight", constant([dim], 1));
  map.set("transformer.norm_in.bias", constant([dim], 0));
  for (let l = 0; l < shape.numLayers; l++) {
    const p = `transformer.layers.${l}.`;
    map.set(`${p}self_attn.in_proj_weight`, uniform([3 * dim, dim], Math.sqrt(6 / (4 * dim))));
    map.set(`${p}self_attn.in_proj_bias`, uniform([3 * dim], 0.02));
    map.set(`${p}self_attn.out_proj.weight`, uniform([dim, dim], bd));
    map.set(`${p}self_attn.out_proj.bias`, uniform([dim], 0.02));
    map.set(`${p}linear1.weight`, uniform([hid, dim], bd));
    map.set(`${p}linear1.bias`, uniform([hid], bd));
    map.set(`${p}linear2.weight`, uniform([dim, hid], bh));
    map.set(`${p}linear2.bias`, uniform([dim], bh));
    map.set(`${p}norm1.weight`, constant([dim], 1));
    map.set(`${p}norm1.bias`, constant([dim], 0));
    map.set(`${p}norm2.weight`, constant([dim], 1));
    map.set(`${p}norm2.bias`, constant([dim], 0));
  }
  for (let k = 0; k < shape.numCodebooks; k++) {
    map.set(`emb.${k}.weight`, gaussianish([card + 1, dim]));
    map.set(`linears.${k}.weight`, uniform([card, dim], bd));
    map.set(`linears.${k}.bias`, uniform([card], bd));
  }
  return map;
}

/**
 * Codes with structure a language model can learn from: per codebook a Markov chain that mostly
 * stays near its previous code and sometimes jumps, like real EnCodec codes. Codebook-major
 * `[numCodebooks, numFrames]`.
 */
export function markovCodes(numCodebooks: number, numFrames: number, cardinality: number, seed: number): Uint16Array {
  const rnd = mulberry32(seed);
  const out = new Uint16Array(numCodebooks * numFrames);
  for (let k = 0; k < numCodebooks; k++) {
    let c = Math.floor(rnd() * cardinality);
    for (let t = 0; t < numFrames; t++) {
      const u = rnd();
      if (u < 0.3) {
        // stay
      } else if (u < 0.8) {
        c = (c + Math.floor(rnd() * 17) - 8 + cardinality) % cardinality;
      } else {
        c = Math.floor(rnd() * cardinality);
      }
      out[k * numFrames + t] = c;
    }
  }
  return out;
}
