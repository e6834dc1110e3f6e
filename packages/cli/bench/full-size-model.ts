// The full-size encodec_24khz architecture with seeded random weights, written once as a model
// folder (config.json + model.safetensors) for the benchmarks (latency.ts, workers.ts).
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeArchitecture, parseEncodecConfig, publishedHfConfig } from "@encstream/codec";

/** The full-size encodec_24khz architecture with seeded random weights, as a model folder. */
export async function writeFullSizeModel(dir: string): Promise<void> {
  if (existsSync(join(dir, "model.safetensors"))) return;
  await mkdir(dir, { recursive: true });
  const json = publishedHfConfig("encodec_24khz");
  const arch = describeArchitecture(parseEncodecConfig(json));
  let state = 12_345;
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
  const header: Record<string, unknown> = {};
  const blobs: Float32Array[] = [];
  let offset = 0;
  const fanIn = (dims: readonly number[]) => (dims.length >= 3 ? (dims[1] as number) * (dims[2] as number) : (dims[1] ?? dims[0] ?? 1));
  const vNorms = new Map<string, Float32Array>();
  const ordered = arch.tensors.filter((t) => t.role === "parameter").sort((a, b) => (a.name.endsWith("weight_g") ? 1 : 0) - (b.name.endsWith("weight_g") ? 1 : 0));
  for (const t of ordered) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (t.name.endsWith(".weight_g")) {
      data.set(vNorms.get(t.name.replace(/_g$/, "_v")) ?? new Float32Array(n).fill(1));
    } else if (t.name.endsWith("codebook.embed")) {
      for (let i = 0; i < n; i++) data[i] = 2 * uniform() - 1;
    } else if (t.name.endsWith(".norm.weight")) {
      data.fill(1);
    } else if (!t.name.endsWith(".norm.bias")) {
      const bound = 1 / Math.sqrt(t.name.includes(".lstm.") ? (t.dims[0] as number) / 4 : fanIn(t.dims));
      for (let i = 0; i < n; i++) data[i] = (2 * uniform() - 1) * bound;
      if (t.name.endsWith(".weight_v")) {
        const rows = t.dims[0] as number;
        const per = n / rows;
        const norms = new Float32Array(rows);
        for (let r = 0; r < rows; r++) norms[r] = Math.hypot(...data.subarray(r * per, (r + 1) * per));
        vNorms.set(t.name, norms);
      }
    }
    header[t.name] = { dtype: "F32", shape: t.dims, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
    blobs.push(data);
  }
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (text.length % 8)) % 8);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const blob of blobs) {
    out.set(new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength), at);
    at += blob.byteLength;
  }
  await writeFile(join(dir, "model.safetensors"), out);
  await writeFile(join(dir, "config.json"), JSON.stringify(json, null, 2));
}

