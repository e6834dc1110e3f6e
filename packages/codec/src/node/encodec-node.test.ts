import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fixturePath, loadGoldenFixture, maxAbsDiff, planar, referenceFrame, vector } from "../../test/support/fixtures.js";
import { loadEncodec, nodeSessionOptions } from "./encodec-node.js";

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "encstream-graphs-"));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

const graphFiles = async () => (await readdir(path.join(cacheDir, "graphs"))).filter((n) => n.endsWith(".onnx")).sort();

describe("loadEncodec", () => {
  test("first load builds and caches the graphs; a second load builds nothing, files untouched, same output", async () => {
    const f = loadGoldenFixture("tiny24");
    const first = await loadEncodec(fixturePath("tiny24"), { cacheDir, preloadBandwidthsKbps: [6] });
    expect(first.graphStats).toMatchObject({ built: 3, fromCache: 0 });
    const files = await graphFiles();
    expect(files).toHaveLength(3);
    const mtimes = await Promise.all(files.map(async (n) => (await stat(path.join(cacheDir, "graphs", n))).mtimeMs));
    const a = await first.encode(f.input, { bandwidthKbps: 6 });
    await first.release();

    const second = await loadEncodec(fixturePath("tiny24"), { cacheDir, preloadBandwidthsKbps: [6] });
    expect(second.graphStats).toMatchObject({ built: 0, fromCache: 3 });
    expect(await graphFiles()).toEqual(files);
    expect(await Promise.all(files.map(async (n) => (await stat(path.join(cacheDir, "graphs", n))).mtimeMs))).toEqual(mtimes);
    const b = await second.encode(f.input, { bandwidthKbps: 6 });
    expect(b.frames[0]!.codes).toEqual(a.frames[0]!.codes);
    // correctness of the cached graphs against the reference vectors
    const decoded = await second.decode({ ...b, frames: [referenceFrame(f, 6, 0)] });
    expect(maxAbsDiff(decoded[0]!, planar(vector(f, "decoded_bw6_0"))[0]!)).toBeLessThanOrEqual(2e-4);
    await second.release();
  });

  test("the original .th checkpoint loads to the same model (its own cache entries: keys follow the file's identity)", async () => {
    const f = loadGoldenFixture("tiny24");
    const thCache = path.join(cacheDir, "th"); // its own cache root: the other tests look at the folder model's files
    const th = await loadEncodec(fixturePath("tiny24/model.th"), { cacheDir: thCache });
    expect(th.graphStats).toMatchObject({ built: 2, fromCache: 0 });
    await th.release();
    const again = await loadEncodec(fixturePath("tiny24/model.th"), { cacheDir: thCache });
    expect(again.graphStats).toMatchObject({ built: 0, fromCache: 2 });
    const ref = await loadEncodec(fixturePath("tiny24"), { cacheDir });
    const [a, b] = [await again.encode(f.input, { bandwidthKbps: 6 }), await ref.encode(f.input, { bandwidthKbps: 6 })];
    expect(a.frames[0]!.codes).toEqual(b.frames[0]!.codes);
    await again.release();
    await ref.release();
  });

  test("{ config, tensors } with the raw config.json object", async () => {
    const f = loadGoldenFixture("tiny48");
    const { readFile } = await import("node:fs/promises");
    const raw = JSON.parse(await readFile(fixturePath("tiny48/config.json"), "utf8")) as unknown;
    const m = await loadEncodec({ config: raw, tensors: f.tensors }, { cacheGraphs: false });
    expect(m.graphStats).toMatchObject({ built: 2, fromCache: 0 });
    const out = await m.decodeSegment(referenceFrame(f, 12, 0));
    expect(maxAbsDiff(out[1]!, planar(vector(f, "decoded_seg0_bw12_0"))[1]!)).toBeLessThanOrEqual(2e-4);
    await m.release();
  });

  test("a corrupt cached graph is rebuilt and replaced", async () => {
    const files = await graphFiles();
    const encoderFile = files.find((n) => n.endsWith("-encoder.onnx"))!;
    await writeFile(path.join(cacheDir, "graphs", encoderFile), new Uint8Array([1, 2, 3, 4]));
    const m = await loadEncodec(fixturePath("tiny24"), { cacheDir });
    expect(m.graphStats).toMatchObject({ built: 1, fromCache: 1 });
    expect((await stat(path.join(cacheDir, "graphs", encoderFile))).size).toBeGreaterThan(1000);
    await m.release();
  });

  test("bad spec and options", async () => {
    await expect(loadEncodec(42 as unknown as string)).rejects.toThrow(TypeError);
    expect(() => nodeSessionOptions({ intraOpNumThreads: -1 })).toThrow(/intraOpNumThreads/);
    await expect(loadEncodec(path.join(cacheDir, "nope"))).rejects.toMatchObject({ code: "bad-file" });
  });
});
