import type { EncodecConfig } from "../config.js";
import { CodecError } from "../errors.js";
import type { RawTensor, TensorMap } from "../weights/raw-tensor.js";
import { describeArchitecture, type EncodecArchitecture } from "./architecture.js";

/**
 * Weights ready for the graph builders: weight norm folded, names in the Hugging Face layout with
 * plain convolution weights (`encoder.layers.0.conv.weight`, `.conv.bias`, `.norm.weight`,
 * `.norm.bias`, `*.lstm.weight_ih_l0`, `quantizer.layers.3.codebook.embed`).
 */
export interface PreparedWeights {
  readonly architecture: EncodecArchitecture;
  /** Tensors by name. Arrays may be shared with the input map where nothing was folded; do not mutate. */
  readonly tensors: ReadonlyMap<string, RawTensor>;
}

/** Newer PyTorch `parametrizations.weight_norm` spellings of `weight_g` / `weight_v`. */
const ALIASES: ReadonlyArray<readonly [string, string]> = [
  [".conv.weight_g", ".conv.parametrizations.weight.original0"],
  [".conv.weight_v", ".conv.parametrizations.weight.original1"],
];

function aliasOf(name: string): string | null {
  for (const [plain, alias] of ALIASES) if (name.endsWith(plain)) return name.slice(0, -plain.length) + alias;
  return null;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const fmt = (dims: readonly number[]) => `[${dims.join(", ")}]`;

/**
 * Fold weight normalization: `w = g · v / ‖v‖`, the norm taken over every dimension but the
 * first (also for transposed-convolution weights `[in, out, k]`, whose first dimension is `in`).
 * Computed in float64, rounded once to float32.
 */
export function foldWeightNorm(g: RawTensor, v: RawTensor): RawTensor {
  const rows = v.dims[0] ?? 0;
  const per = rows === 0 ? 0 : v.data.length / rows;
  const out = new Float32Array(v.data.length);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const base = r * per;
    for (let i = 0; i < per; i++) {
      const x = v.data[base + i]!;
      sum += x * x;
    }
    const factor = g.data[r]! / Math.sqrt(sum);
    for (let i = 0; i < per; i++) out[base + i] = v.data[base + i]! * factor;
  }
  return { dims: v.dims, data: out, sourceDtype: v.sourceDtype };
}

/**
 * Check a weights map against the architecture the config describes and fold weight norm.
 *
 * Every parameter must be present with its exact shape; the quantizer's training buffers
 * (`inited`, `cluster_size`, `embed_avg`) may be present and are ignored; any other tensor is an
 * error (it means the config does not describe these weights).
 *
 * @param config the parsed config
 * @param tensors weights by Hugging Face name (as read by `readSafetensors`, or converted from `.th`)
 * @throws CodecError `missing-tensor` / `shape-mismatch` / `unexpected-tensor`, naming the tensor (and both shapes)
 */
export function prepareWeights(config: EncodecConfig, tensors: TensorMap): PreparedWeights {
  const architecture = describeArchitecture(config);
  const consumed = new Set<string>();
  const found = new Map<string, RawTensor>();
  const missing: string[] = [];
  for (const expected of architecture.tensors) {
    let name = expected.name;
    let t = tensors.get(name);
    if (!t) {
      const alias = aliasOf(name);
      if (alias !== null && tensors.has(alias)) {
        name = alias;
        t = tensors.get(alias);
      }
    }
    if (!t) {
      if (expected.role === "parameter") missing.push(`${expected.name} ${fmt(expected.dims)}`);
      continue;
    }
    consumed.add(name);
    if (expected.role === "ignored-buffer") continue;
    if (!sameDims(t.dims, expected.dims)) {
      throw new CodecError("shape-mismatch", `tensor ${name} has shape ${fmt(t.dims)}, the config expects ${fmt(expected.dims)}`);
    }
    found.set(expected.name, t);
  }
  if (missing.length > 0) {
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : "";
    throw new CodecError("missing-tensor", `weights lack ${missing.length} tensor(s) the config expects: ${missing.slice(0, 5).join(", ")}${more}`);
  }
  const extra = [...tensors.keys()].filter((n) => !consumed.has(n));
  if (extra.length > 0) {
    const more = extra.length > 5 ? ` and ${extra.length - 5} more` : "";
    throw new CodecError("unexpected-tensor", `weights hold ${extra.length} tensor(s) the config does not describe: ${extra.slice(0, 5).join(", ")}${more}`);
  }
  const out = new Map<string, RawTensor>();
  for (const [name, t] of found) {
    if (name.endsWith(".conv.weight_v")) continue;
    if (name.endsWith(".conv.weight_g")) {
      const base = name.slice(0, -".weight_g".length);
      out.set(`${base}.weight`, foldWeightNorm(t, found.get(`${base}.weight_v`)!));
      continue;
    }
    // A view into a larger buffer (a whole weights file) is copied, so that the file's bytes are
    // not kept alive by the prepared weights.
    const view = t.data.byteLength !== t.data.buffer.byteLength;
    out.set(name, view ? { ...t, data: t.data.slice() } : t);
  }
  return { architecture, tensors: out };
}
