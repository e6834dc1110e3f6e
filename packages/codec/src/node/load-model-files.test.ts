import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModelFiles } from "./load-model-files.js";
import { codecRejection } from "../../test/support/codec-error.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/", import.meta.url));
const fx = (p: string): string => path.join(fixtures, p);
const configOf = async (model: string): Promise<unknown> => JSON.parse(await readFile(fx(`${model}/config.json`), "utf8"));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "encstream-load-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh folder under the test's temp dir holding copies of the given fixture files (target name → fixture path). */
async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [target, from] of Object.entries(files)) await copyFile(fx(from), path.join(dir, target));
  return dir;
}

describe("loadModelFiles", () => {
  test.each(["tiny24", "tiny48"])("%s: an HF folder (config.json + model.safetensors) loads as is", async (model) => {
    const dir = await folder(`hf-${model}`, { "config.json": `${model}/config.json`, "model.safetensors": `${model}/model.safetensors` });
    const m = await loadModelFiles(dir);
    expect(m.source).toBe(path.join(dir, "model.safetensors"));
    expect(m.configSource).toBe(path.join(dir, "config.json"));
    expect(m.hfConfig).toEqual(await configOf(model));
    expect(m.tensors.get("encoder.layers.0.conv.bias")?.dims).toEqual([4]);
  });

  test("a .th path uses the config.json beside it and maps names", async () => {
    const m = await loadModelFiles(fx("tiny48/model.th"));
    expect(m.source).toBe(fx("tiny48/model.th"));
    expect(m.configSource).toBe(fx("tiny48/config.json"));
    expect(m.tensors.has("encoder.layers.0.norm.weight")).toBe(true);
    expect([...m.tensors.keys()].some((n) => n.includes(".model."))).toBe(false);
  });

  test.each(["tiny24", "tiny48"])("%s: a folder with only an original checkpoint derives the config", async (model) => {
    const dir = await folder(`orig-${model}`, { "encodec_x-d7cc33bc.th": `${model}/model.th`, "encodec_lm_x-1608e3c0.th": `${model}/lm.th` });
    const m = await loadModelFiles(dir);
    expect(m.source).toBe(path.join(dir, "encodec_x-d7cc33bc.th"));
    expect(m.configSource).toBeNull();
    expect(m.hfConfig).toEqual(await configOf(model));
  });

  test("hints reach a derived config", async () => {
    const dir = await folder("hints", { "model.th": "tiny24/model.th", "lm.th": "tiny24/lm.th" });
    const m = await loadModelFiles(dir, { hints: { use_causal_conv: false } });
    expect(m.hfConfig).toMatchObject({ use_causal_conv: false, num_filters: 4 });
  });

  test("a missing path, an empty folder and ambiguous checkpoints are CodecErrors naming the path", async () => {
    const missing = path.join(tmp, "nope");
    expect((await codecRejection(loadModelFiles(missing))).message).toContain(missing);
    const empty = await folder("empty", {});
    expect((await codecRejection(loadModelFiles(empty))).message).toMatch(/no model\.safetensors, model\.th/);
    const two = await folder("two", { "a.th": "tiny24/model.th", "b.th": "tiny24/model.th" });
    expect((await codecRejection(loadModelFiles(two))).message).toMatch(/several checkpoints \(a\.th, b\.th\)/);
  });

  test("a config.json that does not match the weights is a shape-mismatch naming both files", async () => {
    const dir = await folder("mismatch", { "config.json": "tiny48/config.json", "model.safetensors": "tiny24/model.safetensors" });
    const e = await codecRejection(loadModelFiles(dir));
    expect(e.code).toBe("shape-mismatch");
    expect(e.message).toContain(path.join(dir, "config.json"));
    expect(e.message).toContain(path.join(dir, "model.safetensors"));
    expect(e.message).toMatch(/audio_channels is 2 in config\.json, 1 in the weights/);
  });

  test("a config.json without optional fields falls back to transformers' defaults", async () => {
    const dir = await folder("sparse", { "model.safetensors": "tiny24/model.safetensors" });
    await writeFile(path.join(dir, "config.json"), JSON.stringify({ num_filters: 4, hidden_size: 16, codebook_dim: null }));
    expect((await loadModelFiles(dir)).hfConfig).toEqual({ num_filters: 4, hidden_size: 16, codebook_dim: null });
  });

  test("a config.json asking for more codebooks than the weights hold, or invalid, is refused", async () => {
    const dir = await folder("codebooks", { "model.safetensors": "tiny24/model.safetensors" });
    await writeFile(path.join(dir, "config.json"), JSON.stringify({ ...((await configOf("tiny24")) as object), target_bandwidths: [1.5, 48] }));
    const e = await codecRejection(loadModelFiles(dir));
    expect(e.code).toBe("shape-mismatch");
    expect(e.message).toMatch(/target_bandwidths need 64 codebooks, the weights have 32/);
    await writeFile(path.join(dir, "config.json"), JSON.stringify({ num_filters: "four" }));
    const bad = await codecRejection(loadModelFiles(dir));
    expect(bad.code).toBe("bad-config");
    expect(bad.message).toContain(path.join(dir, "config.json"));
  });

  test("corrupt files are CodecErrors naming the file", async () => {
    const dir = await folder("corrupt", { "model.safetensors": "tiny24/model.safetensors", "config.json": "tiny24/config.json" });
    const weights = path.join(dir, "model.safetensors");
    await writeFile(weights, (await readFile(weights)).subarray(0, 5000));
    const e = await codecRejection(loadModelFiles(dir));
    expect(e.message).toContain(weights);

    await writeFile(path.join(dir, "config.json"), "{ not json");
    await copyFile(fx("tiny24/model.safetensors"), weights);
    const c = await codecRejection(loadModelFiles(dir));
    expect(c.code).toBe("bad-config");
    expect(c.message).toContain(path.join(dir, "config.json"));

    const th = path.join(tmp, "cut.th");
    await writeFile(th, (await readFile(fx("tiny24/model.th"))).subarray(0, 100_000));
    expect((await codecRejection(loadModelFiles(th))).message).toContain(th);
  });

  test("maxBytes bounds the weights file before reading", async () => {
    const e = await codecRejection(loadModelFiles(fx("tiny24/model.safetensors"), { maxBytes: 1024 }));
    expect(e.message).toMatch(/over the 1024-byte limit/);
  });
});
