import { describe, expect, test } from "vitest";
import { encodeReport } from "./receiver-report.js";
import { SenderResilience, type SenderResilienceOptions } from "./sender-resilience.js";
import type { EncodedUnit } from "./frame-encoder.js";

/*
 * The resilience layer's joint choice of (K, frames per message) in stream mode with
 * `--bandwidth auto`: receiver reports move the controller's target, and the choice follows it,
 * the headers of every message counted in its wire rate.
 */

const FRAME_MS = 320 / 24;

function streamOptions(extra: Partial<SenderResilienceOptions> = {}): SenderResilienceOptions {
  return { modelKind: "24k", mode: "stream", maxCodebooks: 16, framesPerUnit: 1, unitMs: FRAME_MS, overlapSamples: 0, mtuBytes: 220, adaptive: { minCodebooks: 2 }, maxFramesPerPacket: 16, ...extra };
}

/** One unit of `frames` frames at 16 codebooks, starting at frame `at`. */
function unitOf(seq: number, at: number, frames: number): EncodedUnit {
  return { seq, codes: new Uint16Array(16 * frames), numCodebooks: 16, numFrames: frames, lengthSamples: frames * 320, scale: null, hasOverlap: false, startSample: at * 320, endSample: (at + frames) * 320 };
}

/** Runs `seconds` of stream through the layer: units of the frames it chooses, a report every 250 ms with `loss` (and, when given, the receive rate), echoing the last unit (no queueing). */
function run(layer: SenderResilience, fromMs: number, seconds: number, loss: number, receiveKbps?: number): { fpps: Set<number>; ks: Set<number> } {
  const fpps = new Set<number>();
  const ks = new Set<number>();
  let frame = Math.round(fromMs / FRAME_MS);
  let seq = frame;
  let nextReport = fromMs + 250;
  for (let now = fromMs; now < fromMs + seconds * 1000; ) {
    const f = layer.framesPerPacket;
    fpps.add(f);
    ks.add(layer.numCodebooks);
    const unit = unitOf(seq++, frame, f);
    layer.payloadOf(unit, { firstOfStream: false, endOfStream: false });
    layer.onSent(unit, now, 0);
    const echo = unit.startSample;
    frame += f;
    now += f * FRAME_MS;
    if (now >= nextReport) {
      const bytes = receiveKbps === undefined ? 1000 : Math.round((receiveKbps * 250) / 8);
      layer.onDatagram(encodeReport({ streamId: 1, reportIndex: 0, lossFraction: loss, cumulativeLost: 0, highestSeq: seq, jitterMs: 0, echoTimestamp: echo, echoDelayMs: 0, bytesReceived: bytes, intervalMs: 250 }), now);
      nextReport += 250;
    }
  }
  return { fpps, ks };
}

describe("SenderResilience: frames per packet chosen with K (stream mode, --bandwidth auto)", () => {
  test("starts at the top (K 16, one frame a message); heavy loss drives it to the floor's cheapest choice (K 2, 16 frames a message); a clean path climbs back", () => {
    const layer = new SenderResilience(streamOptions());
    expect([layer.numCodebooks, layer.framesPerPacket]).toEqual([16, 1]);
    const down = run(layer, 0, 3, 0.5);
    expect([layer.numCodebooks, layer.framesPerPacket]).toEqual([2, 16]);
    expect(down.fpps.size).toBeGreaterThan(2); // it went through several frame counts on the way
    expect(layer.stats.framesPerPacket).toBe(16);
    const up = run(layer, 3000, 20, 0);
    expect([layer.numCodebooks, layer.framesPerPacket]).toEqual([16, 1]);
    expect(up.fpps.size).toBeGreaterThan(2);
  });

  test.each([{ seconds: 1 }, { seconds: 2 }, { seconds: 3 }, { seconds: 5 }, { seconds: 8 }])("the choice's wire rate, headers included, fits the target ($seconds s of 15 % loss)", ({ seconds }) => {
    const layer = new SenderResilience(streamOptions());
    // every report lowers the target by 7.5 %; one more unit sent takes the last report's target in
    run(layer, 0, seconds, 0.15);
    layer.onSent(unitOf(100_000, 100_000, 1), seconds * 1000, 0);
    const target = layer.stats.targetKbps!;
    const f = layer.framesPerPacket;
    const k = layer.numCodebooks;
    // what one message of that choice costs on the wire, per second of audio
    const payload = layer.payloadOf(unitOf(0, 0, f), { firstOfStream: false, endOfStream: false });
    const wireKbps = ((payload.length + 24) * 8) / (f * FRAME_MS);
    expect(k).toBeGreaterThanOrEqual(2);
    expect(wireKbps <= target || (k === 2 && f === 16)).toBe(true);
  });

  test("without maxFramesPerPacket the frames stay fixed; maxFramesPerPacket needs stream mode and adaptive", () => {
    const fixed = new SenderResilience(streamOptions({ maxFramesPerPacket: undefined, framesPerUnit: 4, unitMs: 4 * FRAME_MS }));
    run(fixed, 0, 2, 0.5);
    expect(fixed.framesPerPacket).toBe(4);
    expect(() => new SenderResilience(streamOptions({ adaptive: undefined }))).toThrow(RangeError);
    expect(() => new SenderResilience(streamOptions({ maxFramesPerPacket: 17 }))).toThrow(RangeError);
  });
});
