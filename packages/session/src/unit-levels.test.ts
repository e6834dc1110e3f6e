import { join } from "node:path";
import { decodePayload } from "@encstream/codec";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDir, openTinyCodec, sine } from "../test/support/tiny-codec.js";
import { batchFrames } from "./frame-batcher.js";
import { createFrameStreamEncoder, type EncodedUnit } from "./frame-encoder.js";
import { SenderResilience } from "./sender-resilience.js";
import { measureUnitLevels } from "./unit-levels.js";

/*
 * `send --dtx` on the sending side: unit levels measured on the real stream encoder of the tiny
 * 24 kHz model, and SenderResilience turning quiet units into comfort noise payloads.
 */

let codec: Awaited<ReturnType<typeof openTinyCodec>>;

beforeAll(async () => {
  codec = await openTinyCodec("tiny24", join(await makeTempDir("unit-levels"), "cache"));
});

afterAll(async () => {
  await codec?.release();
});

/** 0.4 s of a 0.5-amplitude sine (−9 dBFS RMS), 0.6 s of digital silence, 0.2 s of the sine again. */
function toneSilenceTone(): Float32Array {
  const out = new Float32Array(24_000 * 1.2);
  out.set(sine(9_600, 440, 24_000, 0.5), 0);
  out.set(sine(4_800, 440, 24_000, 0.5), 24_000);
  return out;
}

/** Every unit of `audio` pushed in pieces of `piece` samples. */
async function unitsOf(framesPerPacket: number, audio: Float32Array, piece: number): Promise<EncodedUnit[]> {
  const encoder = measureUnitLevels(batchFrames(await createFrameStreamEncoder(codec, 6), framesPerPacket));
  const units: EncodedUnit[] = [];
  for (let at = 0; at < audio.length; at += piece) units.push(...(await encoder.push([audio.subarray(at, at + piece)])));
  units.push(...(await encoder.end()));
  return units;
}

describe("measureUnitLevels", () => {
  test.each([
    { framesPerPacket: 1, piece: 320 },
    { framesPerPacket: 1, piece: 1_000 },
    { framesPerPacket: 3, piece: 4_800 },
  ])("each unit's level is its own input's RMS in dBFS ($framesPerPacket frame(s) a unit, pieces of $piece)", async ({ framesPerPacket, piece }) => {
    const audio = toneSilenceTone();
    const units = await unitsOf(framesPerPacket, audio, piece);
    expect(units.at(-1)!.endSample).toBe(audio.length);
    for (const u of units) {
      const own = audio.subarray(u.startSample, u.endSample);
      const rms = Math.sqrt(own.reduce((n, x) => n + x * x, 0) / own.length);
      expect(u.levelDb, `unit ${u.seq}`).toBe(rms === 0 ? -127 : Math.max(-127, Math.round(20 * Math.log10(rms))));
    }
    expect(units.filter((u) => u.levelDb === -127).length).toBeGreaterThan(0);
    expect(units.filter((u) => u.levelDb === -9).length).toBeGreaterThan(0);
  });
});

describe("SenderResilience with dtx", () => {
  test("quiet units after the hangover go as comfort noise (level kept, no codes), the first and last never; counted", async () => {
    const audio = toneSilenceTone();
    const units = await unitsOf(1, audio, 320);
    const unitMs = 320 / 24;
    const resilience = new SenderResilience({ modelKind: "24k", mode: "stream", maxCodebooks: 8, framesPerUnit: 1, unitMs, overlapSamples: 0, mtuBytes: 220, fec: { depth: 1, numCodebooks: 2 }, dtx: { thresholdDb: -50, hangoverMs: 100 } });
    const kinds: string[] = [];
    for (const [i, u] of units.entries()) {
      const bytes = resilience.payloadOf(u, { firstOfStream: i === 0, endOfStream: i === units.length - 1 });
      resilience.onSent(u, 0, bytes.length);
      const p = decodePayload(bytes);
      if (p.comfortNoiseDb !== null) {
        expect(p.numCodebooks).toBe(0);
        expect(p.comfortNoiseDb).toBe(u.levelDb);
        // the first D of a quiet stretch still carry the redundancy of the coded units before them
        if (p.redundancy === null) expect(bytes.length).toBeLessThan(15); // a coded 6 kbps frame: 19 bytes and more
        kinds.push("n");
      } else kinds.push("c");
    }
    // silence from frame 30 (sample 9600) to 74; 100 ms of hangover keeps 7 quiet frames coded (93 ms; the 8th is past 100 ms)
    const quietFrom = units.findIndex((u) => u.levelDb! < -50);
    const quietTo = units.length - 1 - [...units].reverse().findIndex((u) => u.levelDb! < -50);
    const expected = units.map((_, i) => (i >= quietFrom + 7 && i <= quietTo ? "n" : "c")).join("");
    expect(kinds.join("")).toBe(expected);
    expect(resilience.stats.comfortNoise).toBe(quietTo - quietFrom - 6);
    expect(resilience.stats.comfortNoise).toBeGreaterThan(30);
  });
});
