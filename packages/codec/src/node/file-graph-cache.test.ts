// FileGraphCache: atomic writes, reads, pathOf (sessions opened from the file), weights as external data.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { FileGraphCache } from "./file-graph-cache.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "encstream-graph-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("pathOf: the file of a stored key, undefined for a missing or empty entry", async () => {
  const cache = new FileGraphCache(path.join(dir, "graphs"));
  expect(await cache.pathOf("encodec-abc-encoder")).toBeUndefined();
  await cache.write("encodec-abc-encoder", new Uint8Array([1, 2, 3]));
  expect(await cache.pathOf("encodec-abc-encoder")).toBe(cache.fileFor("encodec-abc-encoder"));
  expect(await cache.read("encodec-abc-encoder")).toEqual(new Uint8Array([1, 2, 3]));
  writeFileSync(cache.fileFor("encodec-abc-decode"), new Uint8Array(0));
  expect(await cache.pathOf("encodec-abc-decode")).toBeUndefined();
  expect(await cache.pathOf("bad key!")).toBeUndefined();
});

test("a model is stored as a small graph file and a weights file; sessions from pathOf and from read give the original's output", async () => {
  const { GraphBuilder } = await import("../onnx/graph-builder.js");
  const { OnnxDataType } = await import("../onnx/onnx-proto.js");
  const ort = await import("onnxruntime-node");
  const g = new GraphBuilder("m");
  const x = g.input("x", OnnxDataType.FLOAT, [1, 128]);
  const w = new Float32Array(128 * 128).map((_, i) => Math.sin(i));
  g.output(g.op("MatMul", [x, g.initializer("w", w, [128, 128])]), "y", OnnxDataType.FLOAT, [1, 128]);
  const bytes = g.toModelBytes({ producerVersion: "test" });
  const run = async (source: string | Uint8Array) => {
    const s = typeof source === "string" ? await ort.InferenceSession.create(source) : await ort.InferenceSession.create(source);
    const y = (await s.run({ x: new ort.Tensor("float32", new Float32Array(128).fill(0.5), [1, 128]) })).y!.data;
    await s.release();
    return y;
  };
  const cache = new FileGraphCache(path.join(dir, "models"));
  await cache.write("encodec-abc-m", bytes);
  expect(statSync(cache.fileFor("encodec-abc-m")).size).toBeLessThan(1000);
  expect(statSync(cache.weightsFileFor("encodec-abc-m")).size).toBe(128 * 128 * 4);
  const expected = await run(bytes);
  expect(await run((await cache.pathOf("encodec-abc-m"))!)).toEqual(expected);
  expect(await run((await cache.read("encodec-abc-m"))!)).toEqual(expected);

  // a graph file without its weights file (an older cache's single-file graph, an interrupted write) is missing
  rmSync(cache.weightsFileFor("encodec-abc-m"));
  expect(await cache.pathOf("encodec-abc-m")).toBeUndefined();
  expect(await cache.read("encodec-abc-m")).toBeUndefined();
  // a truncated weights file: read fails (undefined), so the graph is rebuilt
  await cache.write("encodec-abc-m", bytes);
  writeFileSync(cache.weightsFileFor("encodec-abc-m"), new Uint8Array(100));
  expect(await cache.read("encodec-abc-m")).toBeUndefined();
});
