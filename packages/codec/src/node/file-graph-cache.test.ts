// FileGraphCache: atomic writes, reads, and pathOf (sessions opened from the file).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
