// Hostile model files are refused from what they declare, before anything is inflated or
// parsed: a zip bomb `.th`, a zip of thousands of entries, a safetensors header of a million
// entries, tensors adding up to more than any EnCodec model.
import { zipSync } from "fflate";
import { describe, expect, test } from "vitest";
import { isCodecError } from "../errors.js";
import { fixtureBytes } from "../../test/support/fixtures.js";
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_WEIGHT_ELEMENTS, MAX_ZIP_ENTRIES } from "./limits.js";
import { readSafetensors } from "./safetensors.js";
import { readTorchCheckpoint } from "./torch-checkpoint.js";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isCodecError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe("bad-file");
    return (error as Error).message;
  }
  throw new Error("expected a bad-file CodecError");
}

function safetensors(header: unknown, dataBytes = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe("model files are bounded before they are inflated or parsed", () => {
  test("the real tiny checkpoints and safetensors still load", () => {
    expect(readTorchCheckpoint(fixtureBytes("tiny24/model.th"), "model.th").size).toBeGreaterThan(10);
    expect(readTorchCheckpoint(fixtureBytes("tiny48/lm.th"), "lm.th").size).toBeGreaterThan(10);
    expect(readSafetensors(fixtureBytes("tiny24/model.safetensors"), "model.safetensors").size).toBeGreaterThan(10);
  });

  test("a zip bomb .th (32 MiB of zeros deflated to a few KiB) is refused from its declared sizes", () => {
    const bomb = zipSync(
      { "archive/data.pkl": Uint8Array.of(0x80, 0x02, 0x7d, 0x2e), "archive/data/0": new Uint8Array(32 * 1024 * 1024) },
      { level: 9 },
    );
    expect(bomb.length).toBeLessThan(100_000);
    const before = process.memoryUsage().arrayBuffers;
    expect(refusal(() => readTorchCheckpoint(bomb, "bomb.th"))).toMatch(/^bomb\.th: deflated entries would inflate from \d+ to 33554436 bytes .*zip bomb/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  test("a zip listing more entries than a checkpoint can have is refused before extraction", () => {
    const files: Record<string, Uint8Array> = { "archive/data.pkl": Uint8Array.of(0x80, 0x02, 0x7d, 0x2e) };
    for (let i = 0; i <= MAX_ZIP_ENTRIES; i++) files[`archive/data/${i}`] = new Uint8Array(0);
    expect(refusal(() => readTorchCheckpoint(zipSync(files, { level: 0 }), "many.th"))).toMatch(/^many\.th: the zip lists \d+ entries/);
  });

  test("a safetensors header of a million entries is refused before JSON parsing", () => {
    const bytes = new Uint8Array(8 + 64);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_SAFETENSORS_HEADER_BYTES + 1), true);
    const big = new Uint8Array(8 + MAX_SAFETENSORS_HEADER_BYTES + 1);
    big.set(bytes.subarray(0, 8));
    expect(refusal(() => readSafetensors(big, "huge.safetensors"))).toMatch(/^huge\.safetensors: safetensors header of 2097153 bytes is beyond/);
  });

  test("a safetensors header under the size bound but with too many entries is refused before any tensor", () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 5_000; i++) header[`t${i}`] = { dtype: "F32", shape: [0], data_offsets: [0, 0] };
    expect(refusal(() => readSafetensors(safetensors(header), "many.safetensors"))).toMatch(/lists 5000 entries, more than an EnCodec model's 4096/);
  });

  test("tensors declaring more elements than any EnCodec model are refused", () => {
    const header = { a: { dtype: "F32", shape: [MAX_WEIGHT_ELEMENTS + 1], data_offsets: [0, 4 * (MAX_WEIGHT_ELEMENTS + 1)] } };
    expect(refusal(() => readSafetensors(safetensors(header), "wide.safetensors"))).toMatch(/more than 67108864 elements/);
  });
});
