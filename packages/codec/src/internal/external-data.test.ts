// splitExternalData / inlineExternalData: ONNX Runtime opens the split model from its path with
// the same results as the original, and inlining gives back a model that opens from bytes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, expect, test } from "vitest";
import { GraphBuilder } from "../onnx/graph-builder.js";
import { inlineExternalData, splitExternalData } from "./external-data.js";
import { OnnxDataType } from "../onnx/onnx-proto.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "encstream-external-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** y = x·W + b with a 64×64 W (16 KiB: moved), a 64-value b (256 bytes: kept) and a 3000-byte c (moved at minBytes 1000). */
function model(): Uint8Array {
  const g = new GraphBuilder("ext");
  const x = g.input("x", OnnxDataType.FLOAT, [1, 64]);
  const w = new Float32Array(64 * 64).map((_, i) => Math.sin(i * 0.37));
  const b = new Float32Array(64).map((_, i) => i / 64);
  const c = new Float32Array(750).map((_, i) => Math.cos(i));
  const y = g.op("Add", [g.op("MatMul", [x, g.initializer("w", w, [64, 64])]), g.initializer("b", b, [64])]);
  const s = g.op("ReduceSum", [g.initializer("c", c, [750])], {});
  g.output(g.op("Add", [y, s]), "y", OnnxDataType.FLOAT, [1, 64]);
  return g.toModelBytes({ producerVersion: "test" });
}

const feeds = () => ({ x: new ort.Tensor("float32", new Float32Array(64).map((_, i) => (i % 7) - 3), [1, 64]) });
async function run(source: string | Uint8Array): Promise<Float32Array> {
  const session = typeof source === "string" ? await ort.InferenceSession.create(source) : await ort.InferenceSession.create(source);
  const out = (await session.run(feeds())).y!.data as Float32Array;
  await session.release();
  return out;
}

test("split: large initializers move to page-aligned offsets of the data file; the model opens from its path with identical output", async () => {
  const original = model();
  const split = splitExternalData(original, "ext.weights", { minBytes: 1000 });
  expect(split.movedTensors).toBe(2); // w and c; b (256 bytes) stays
  expect(split.model.length).toBeLessThan(1500);
  // w (16 384 bytes) at 0, c (3 000 bytes) at the next page, 16 384
  expect(split.data.length).toBe(16_384 + 3000);
  expect(new Float32Array(split.data.buffer, split.data.byteOffset + 16_384, 750)[1]).toBe(Math.fround(Math.cos(1)));
  writeFileSync(path.join(dir, "ext.onnx"), split.model);
  writeFileSync(path.join(dir, "ext.weights"), split.data);
  expect(await run(path.join(dir, "ext.onnx"))).toEqual(await run(original));

  // the default threshold (4096 bytes) keeps c in the model
  expect(splitExternalData(original, "ext.weights").movedTensors).toBe(1);
});

test("inline: the split model with its data read back opens from bytes with identical output", async () => {
  const original = model();
  const split = splitExternalData(original, "ext2.weights", { minBytes: 1000, alignBytes: 64 });
  expect(split.data.length).toBe(16_384 + 3000); // 16 384 is a multiple of 64 too
  const reads: string[] = [];
  const inlined = inlineExternalData(split.model, (location, offset, length) => {
    reads.push(`${location}@${offset}+${length}`);
    return split.data.subarray(offset, offset + length);
  });
  expect(reads).toEqual(["ext2.weights@0+16384", "ext2.weights@16384+3000"]);
  expect(inlined.length).toBeGreaterThan(19_000);
  expect(await run(inlined)).toEqual(await run(original));
  // a model without external data is returned unchanged in meaning
  expect(await run(inlineExternalData(original, () => { throw new Error("not called"); }))).toEqual(await run(original));
});

test("bad input", () => {
  const original = model();
  expect(() => splitExternalData(original, "../x.weights")).toThrow(RangeError);
  expect(() => splitExternalData(original, "a/b")).toThrow(/location must be a bare file name/);
  expect(() => splitExternalData(original, "x", { alignBytes: 0 })).toThrow(/alignBytes/);
  expect(() => splitExternalData(original, "x", { minBytes: 1.5 })).toThrow(/minBytes/);
  const split = splitExternalData(original, "x.weights");
  expect(() => inlineExternalData(split.model, () => new Uint8Array(3))).toThrow(/read 3 bytes of x.weights at 0, expected 16384/);
  expect(() => inlineExternalData(split.model, () => { throw new Error("gone"); })).toThrow("gone");
  // bytes that are not a protobuf message
  expect(() => splitExternalData(new Uint8Array([0xff, 0xff, 0xff]), "x.weights")).toThrow();
});
