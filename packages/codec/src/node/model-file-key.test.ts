// modelFileKey: the graph cache identity of a model on disk, computed without reading the weights.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { isCodecError } from "../errors.js";
import { fixturePath } from "../../test/support/fixtures.js";
import { modelFileKey } from "./model-file-key.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "encstream-file-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = new Uint8Array(readFileSync(fixturePath("tiny24/config.json")));

describe("modelFileKey", () => {
  test("an untouched file keeps its key; rewriting its weights (same size, same header) changes it", async () => {
    const file = path.join(dir, "model.safetensors");
    copyFileSync(fixturePath("tiny24/model.safetensors"), file);
    const first = await modelFileKey(file, config);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await modelFileKey(file, config)).toBe(first);
    const bytes = new Uint8Array(readFileSync(file));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01; // one weight bit, in the data after the header
    await new Promise((r) => setTimeout(r, 5));
    writeFileSync(file, bytes);
    const second = await modelFileKey(file, config);
    expect(second).not.toBe(first);
    expect(await modelFileKey(file, config)).toBe(second);
  });

  test("a copy of the same weights elsewhere, another config.json, or no config.json give other keys", async () => {
    const a = path.join(dir, "a.safetensors");
    const b = path.join(dir, "b.safetensors");
    copyFileSync(fixturePath("tiny24/model.safetensors"), a);
    copyFileSync(fixturePath("tiny24/model.safetensors"), b);
    const key = await modelFileKey(a, config);
    expect(await modelFileKey(b, config)).not.toBe(key);
    const other = new TextEncoder().encode(new TextDecoder().decode(config).replace('"normalize": false', '"normalize": true'));
    expect(other).not.toEqual(config);
    expect(await modelFileKey(a, other)).not.toBe(key);
    expect(await modelFileKey(a, null)).not.toBe(key);
    expect(await modelFileKey(a, null, "hints-1")).not.toBe(await modelFileKey(a, null, "hints-2"));
  });

  test("a missing file is a CodecError bad-file naming it", async () => {
    const missing = path.join(dir, "missing.safetensors");
    const error = await modelFileKey(missing, config).catch((e: unknown) => e);
    expect(isCodecError(error) && error.code === "bad-file" && error.message.includes(missing)).toBe(true);
  });
});
