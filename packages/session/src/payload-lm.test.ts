import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadLmWeights, readSafetensors, type LmWeights } from "@encstream/codec";
import { beforeAll, describe, expect, test } from "vitest";
import { FIXTURES_DIR, seededRandom } from "../test/support/tiny-codec.js";
import { MAX_LM_KEYFRAME_INTERVAL_FRAMES } from "./constants.js";
import { createLmPayloadEncoder, LmPayloadDecoder } from "./payload-lm.js";

let lm: LmWeights;
const K = 4;

beforeAll(async () => {
  const bytes = new Uint8Array(await readFile(join(FIXTURES_DIR, "tiny24", "lm.safetensors")));
  lm = loadLmWeights(readSafetensors(bytes, "lm.safetensors"), { frameRateHz: 75 });
});

/** One frame of K seeded random codes a payload. */
function frames(count: number, seed: number): Uint16Array[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: count }, () => Uint16Array.from({ length: K }, () => Math.floor(rnd() * 1024)));
}

/** Which of `count` one-frame stream payloads decode after the payloads at `lost` are lost. */
function decodable(interval: number | undefined, count: number, lost: ReadonlySet<number>): boolean[] {
  const encoder = createLmPayloadEncoder(lm, K, "stream", interval);
  const decoder = new LmPayloadDecoder(lm);
  const codes = frames(count, interval ?? 0);
  return codes.map((c, i) => {
    const bytes = encoder.encode(c, K, 1);
    if (lost.has(i)) {
      decoder.markLost();
      return false;
    }
    const out = decoder.decode(bytes, K, 1);
    if (out !== null) expect([...out]).toEqual([...c]);
    return out !== null;
  });
}

describe("createLmPayloadEncoder keyframe interval", () => {
  test.each([
    // interval, frames decoded after frame 3 is lost (frames 0-11)
    [1, [true, true, true, false, true, true, true, true, true, true, true, true]],
    [4, [true, true, true, false, true, true, true, true, true, true, true, true]],
    [5, [true, true, true, false, false, true, true, true, true, true, true, true]],
    [undefined, [true, true, true, false, false, false, false, false, false, false, false, false]], // 15: up to frame 15
  ])("a keyframe every %s frames: a loss costs the frames up to the next keyframe", (interval, expected) => {
    expect(decodable(interval, 12, new Set([3]))).toEqual(expected);
  });

  test.each([0, MAX_LM_KEYFRAME_INTERVAL_FRAMES + 1, 2.5])("interval %s is a RangeError", (interval) => {
    expect(() => createLmPayloadEncoder(lm, K, "stream", interval)).toThrow(/keyframeIntervalFrames must be an integer in \[1, 75\]/);
  });
});
