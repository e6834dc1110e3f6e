import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { arenaOf } from "../lm/internal/lm-arena.js";
import { loadLmWeights, type LmWeights } from "../lm/lm-weights.js";
import { StreamingLm } from "../lm/streaming-lm.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readTorchCheckpoint } from "../weights/torch-checkpoint.js";
import { codecRejection } from "../../test/support/codec-error.js";
import { fixtureBytes, fixturePath } from "../../test/support/fixtures.js";
import { readLmWeightsFile } from "./lm-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "encstream-lm-file-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every array of `w`, in a fixed order. */
const arraysOf = (w: LmWeights): Float32Array[] => [
  w.normInWeight,
  w.normInBias,
  ...w.layers.flatMap((l) => Object.values(l) as Float32Array[]),
  ...w.embeddings,
  ...w.headWeights,
  ...w.headBiases,
];

/** Bit-equal float arrays (a byte compare: toEqual on large typed arrays is slow). */
const sameBits = (x: Float32Array, y: Float32Array): boolean =>
  Buffer.compare(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), new Uint8Array(y.buffer, y.byteOffset, y.byteLength)) === 0;

describe("readLmWeightsFile", () => {
  test.each(["tiny24", "tiny48"])("%s lm.safetensors: the weights of loadLmWeights(readSafetensors(whole file)), in one block", async (tiny) => {
    const want = loadLmWeights(readSafetensors(fixtureBytes(`${tiny}/lm.safetensors`)));
    const got = await readLmWeightsFile(fixturePath(`${tiny}/lm.safetensors`));
    expect(got.hyper).toEqual(want.hyper);
    const a = arraysOf(got);
    const b = arraysOf(want);
    expect(a).toHaveLength(b.length);
    a.forEach((x, i) => expect(sameBits(x, b[i]!), `array ${i}`).toBe(true));
    const block = arenaOf(got.normInWeight);
    expect(block).toBeDefined();
    expect(a.every((x) => arenaOf(x) === block)).toBe(true);
  });

  test("lm.th (a zip checkpoint) reads to the same weights", async () => {
    const want = loadLmWeights(readTorchCheckpoint(fixtureBytes("tiny24/lm.th"), "lm.th"));
    const got = await readLmWeightsFile(fixturePath("tiny24/lm.th"), { numCodebooks: 8 });
    expect(got.hyper).toEqual({ ...want.hyper, numCodebooks: 8 });
    expect(got.layers[1]!.linear2Weight).toEqual(want.layers[1]!.linear2Weight);
    expect(got.headWeights[7]).toEqual(want.headWeights[7]);
  });

  test("numCodebooks reads only those codebooks; probabilities equal the whole model's", async () => {
    const all = await readLmWeightsFile(fixturePath("tiny24/lm.safetensors"));
    const some = await readLmWeightsFile(fixturePath("tiny24/lm.safetensors"), { numCodebooks: 8 });
    // The past context still follows the file's 32 codebooks (75 Hz), not the 8 kept.
    expect(some.hyper).toEqual({ ...all.hyper, numCodebooks: 8 });
    const block = arenaOf(some.normInWeight)!;
    const allBlock = arenaOf(all.normInWeight)!;
    expect(block.floats.length).toBeLessThan(allBlock.floats.length / 2);
    const a = new StreamingLm(all, 8);
    const b = new StreamingLm(some, 8);
    for (const prev of [null, [1, 2, 3, 4, 5, 6, 7, 8], [1023, 0, 512, 9, 9, 9, 9, 1]]) expect(b.step(prev)).toEqual(a.step(prev));
    await expect(readLmWeightsFile(fixturePath("tiny24/lm.safetensors"), { numCodebooks: 33 })).rejects.toThrow(RangeError);
  });

  test("a cut file, a bad header and a file over the limit are CodecErrors naming the file", async () => {
    const bytes = fixtureBytes("tiny24/lm.safetensors");
    const cut = join(dir, "cut.safetensors");
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    const e1 = await codecRejection(readLmWeightsFile(cut));
    expect(e1.code).toBe("corrupt");
    expect(e1.message).toContain(cut);
    const garbage = join(dir, "garbage.safetensors");
    const bad = bytes.slice(0, 200);
    bad.fill(0x7b, 8, 200); // the length field stays, the JSON is gone
    await writeFile(garbage, bad);
    const e2 = await codecRejection(readLmWeightsFile(garbage, { source: "my-lm" }));
    expect(e2.message).toMatch(/^my-lm: /);
    const e3 = await codecRejection(readLmWeightsFile(fixturePath("tiny24/lm.safetensors"), { maxBytes: 1000 }));
    expect(e3.code).toBe("bad-file");
    expect(e3.message).toMatch(/bytes is over the 1000-byte limit/);
    const empty = join(dir, "empty.safetensors");
    await writeFile(empty, new Uint8Array(3));
    expect((await codecRejection(readLmWeightsFile(empty))).code).toBe("truncated");
    await expect(readLmWeightsFile(join(dir, "absent.safetensors"))).rejects.toThrow(/ENOENT/);
  });
});
