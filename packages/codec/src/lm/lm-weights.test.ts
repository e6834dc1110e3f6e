import { describe, expect, test } from "vitest";
import type { TensorMap } from "../weights/raw-tensor.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readTorchCheckpoint } from "../weights/torch-checkpoint.js";
import { FULL_SIZE_LM, randomLmTensors } from "./internal/random-lm.js";
import { loadLmWeights, type LmWeights } from "./lm-weights.js";
import { arenaOf } from "./internal/lm-arena.js";
import { MatVecBank, wasmMatVecAvailable } from "./internal/simd-matvec.js";
import { StreamingLm } from "./streaming-lm.js";
import { codecError } from "../../test/support/codec-error.js";
import { fixtureBytes } from "../../test/support/fixtures.js";

const meta = (tiny: string) => JSON.parse(new TextDecoder().decode(fixtureBytes(`${tiny}/meta.json`))) as { lm: Record<string, number> };

const clone = (m: TensorMap): TensorMap => new Map([...m].map(([k, v]) => [k, { ...v, data: v.data.slice() }]));

describe("loadLmWeights", () => {
  test.each(["tiny24", "tiny48"])("%s: hyper-parameters inferred from lm.safetensors match meta.json", (tiny) => {
    const want = meta(tiny).lm;
    const w = loadLmWeights(readSafetensors(fixtureBytes(`${tiny}/lm.safetensors`)));
    expect(w.hyper).toEqual({
      dim: want.dim,
      numLayers: want.num_layers,
      numHeads: want.num_heads,
      hiddenDim: want.dim! * want.hidden_scale!,
      numCodebooks: want.n_q,
      cardinality: want.card,
      pastContext: want.past_context, // int(3.5 * 75) = 262, int(3.5 * 150) = 525, from n_q alone
      maxPeriod: 10000,
    });
    expect(w.layers).toHaveLength(want.num_layers!);
    expect(w.embeddings[0]!.length).toBe((want.card! + 1) * want.dim!);
  });

  test.each(["tiny24", "tiny48"])("%s: the original lm.th (read by readTorchCheckpoint) loads to the same weights", (tiny) => {
    const fromSt = loadLmWeights(readSafetensors(fixtureBytes(`${tiny}/lm.safetensors`)));
    const fromTh = loadLmWeights(readTorchCheckpoint(fixtureBytes(`${tiny}/lm.th`), "lm.th"));
    expect(fromTh.hyper).toEqual(fromSt.hyper);
    expect(fromTh.layers[1]!.linear2Weight).toEqual(fromSt.layers[1]!.linear2Weight);
    expect(fromTh.headBiases[3]).toEqual(fromSt.headBiases[3]);
  });

  test("a full-size model (dim 200, 5 layers, 32 codebooks) is recognized from shapes", () => {
    const w = loadLmWeights(randomLmTensors(FULL_SIZE_LM, 1), { frameRateHz: 75 });
    expect(w.hyper).toMatchObject({ dim: 200, numLayers: 5, hiddenDim: 800, numCodebooks: 32, pastContext: 262, numHeads: 8 });
  });

  test("options override heads and context; bad options are RangeErrors naming the option", () => {
    const t = readSafetensors(fixtureBytes("tiny24/lm.safetensors"));
    expect(loadLmWeights(t, { numHeads: 4, pastContext: 7 }).hyper).toMatchObject({ numHeads: 4, pastContext: 7 });
    expect(loadLmWeights(t, { frameRateHz: 50 }).hyper.pastContext).toBe(175);
    expect(() => loadLmWeights(t, { numHeads: 3 })).toThrow(/^options\.numHeads must divide/);
    expect(() => loadLmWeights(t, { pastContext: 0 })).toThrow(RangeError);
    expect(() => loadLmWeights(t, { frameRateHz: -1 })).toThrow(/^options\.frameRateHz/);
  });

  test("a model with an unusual codebook count needs the past context spelled out", () => {
    const t = randomLmTensors({ dim: 8, numLayers: 1, hiddenDim: 16, numCodebooks: 3, cardinality: 16 }, 2);
    expect(() => loadLmWeights(t)).toThrow(TypeError);
    expect(loadLmWeights(t, { pastContext: 4 }).hyper).toMatchObject({ numCodebooks: 3, cardinality: 16, pastContext: 4 });
  });

  test("a wrong shape names the tensor, the expected and the actual shape", () => {
    const t = clone(readSafetensors(fixtureBytes("tiny24/lm.safetensors")));
    t.set("transformer.layers.1.linear2.weight", { dims: [16, 32], data: new Float32Array(512), sourceDtype: "F32" });
    const e = codecError(() => loadLmWeights(t, { source: "lm.safetensors" }));
    expect(e.code).toBe("shape-mismatch");
    expect(e.message).toBe("lm.safetensors: tensor transformer.layers.1.linear2.weight should have shape [16, 64], has [16, 32]");
  });

  test("missing, unexpected and non-finite tensors are CodecErrors", () => {
    const base = readSafetensors(fixtureBytes("tiny24/lm.safetensors"));
    const missing = clone(base);
    missing.delete("linears.5.bias");
    expect(codecError(() => loadLmWeights(missing)).code).toBe("missing-tensor");
    const extra = clone(base);
    extra.set("encoder.layers.0.conv.weight", { dims: [1], data: new Float32Array(1), sourceDtype: "F32" });
    expect(codecError(() => loadLmWeights(extra)).code).toBe("unexpected-tensor");
    const nan = clone(base);
    nan.get("transformer.norm_in.bias")!.data[3] = Number.NaN;
    const e = codecError(() => loadLmWeights(nan));
    expect(e.code).toBe("corrupt");
    expect(e.message).toMatch(/transformer\.norm_in\.bias .* element 3/);
    const noEmb = clone(base);
    noEmb.delete("emb.0.weight");
    expect(codecError(() => loadLmWeights(noEmb)).code).toBe("missing-tensor");
  });

  test("the weights are held once: every array is a view of one block, the SIMD kernel reads its matrices there", () => {
    const tensors = readSafetensors(fixtureBytes("tiny24/lm.safetensors"));
    const w = loadLmWeights(tensors);
    const arrays = [w.normInWeight, w.normInBias, ...w.layers.flatMap((l) => Object.values(l) as Float32Array[]), ...w.embeddings, ...w.headWeights, ...w.headBiases];
    const block = arenaOf(w.normInWeight);
    expect(block).toBeDefined();
    for (const a of arrays) {
      expect(arenaOf(a)).toBe(block);
      expect(a.byteOffset % 16).toBe(0);
    }
    // Copied from the tensors (which the caller may drop), values unchanged.
    expect(w.layers[1]!.linear1Weight).not.toBe(tensors.get("transformer.layers.1.linear1.weight")!.data);
    expect(w.layers[1]!.linear1Weight).toEqual(tensors.get("transformer.layers.1.linear1.weight")!.data);
    // Loading tensors that already lie in a block keeps them where they are.
    const again = loadLmWeights(new Map([...tensors].map(([name]) => [name, { ...tensors.get(name)!, data: pick(w, name) }])));
    expect(again.headWeights[2]).toBe(w.headWeights[2]);
    const bank = new MatVecBank([{ weight: w.headWeights[0]!, bias: w.headBiases[0]!, rows: w.hyper.cardinality, cols: w.hyper.dim }], block);
    expect(bank.inPlace).toBe(wasmMatVecAvailable());
    expect(block!.memory !== null).toBe(wasmMatVecAvailable());
  });

  test("numCodebooks loads the first codebooks only; their probabilities are the whole model's, bit for bit", () => {
    const tensors = readSafetensors(fixtureBytes("tiny24/lm.safetensors"));
    const all = loadLmWeights(tensors);
    const some = loadLmWeights(tensors, { numCodebooks: 3 });
    expect(some.hyper).toEqual({ ...all.hyper, numCodebooks: 3 });
    expect(some.embeddings).toHaveLength(3);
    expect(some.headWeights).toHaveLength(3);
    const a = new StreamingLm(all, 3);
    const b = new StreamingLm(some, 3);
    for (const prev of [null, [1, 2, 3], [1023, 0, 512]]) expect(b.step(prev)).toEqual(a.step(prev));
    expect(() => new StreamingLm(some, 4)).toThrow(RangeError);
    expect(() => loadLmWeights(tensors, { numCodebooks: 0 })).toThrow(/^options\.numCodebooks must be an integer in \[1, /);
    expect(() => loadLmWeights(tensors, { numCodebooks: all.hyper.numCodebooks + 1 })).toThrow(RangeError);
  });
});

/** The array of `w` that holds tensor `name`. */
function pick(w: LmWeights, name: string): Float32Array {
  const keys: Record<string, keyof LmWeights["layers"][number]> = {
    "self_attn.in_proj_weight": "inProjWeight",
    "self_attn.in_proj_bias": "inProjBias",
    "self_attn.out_proj.weight": "outProjWeight",
    "self_attn.out_proj.bias": "outProjBias",
    "linear1.weight": "linear1Weight",
    "linear1.bias": "linear1Bias",
    "linear2.weight": "linear2Weight",
    "linear2.bias": "linear2Bias",
    "norm1.weight": "norm1Weight",
    "norm1.bias": "norm1Bias",
    "norm2.weight": "norm2Weight",
    "norm2.bias": "norm2Bias",
  };
  if (name === "transformer.norm_in.weight") return w.normInWeight;
  if (name === "transformer.norm_in.bias") return w.normInBias;
  let m = /^transformer\.layers\.(\d+)\.(.+)$/.exec(name);
  if (m) return w.layers[Number(m[1])]![keys[m[2]!]!];
  m = /^(emb|linears)\.(\d+)\.(weight|bias)$/.exec(name);
  if (!m) throw new Error(`no array for ${name}`);
  const k = Number(m[2]);
  return m[1] === "emb" ? w.embeddings[k]! : m[3] === "weight" ? w.headWeights[k]! : w.headBiases[k]!;
}
