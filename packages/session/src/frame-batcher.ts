import { concatCodeBlocks } from "@encstream/codec";
import type { EncodedUnit, FrameEncoder } from "./frame-encoder.js";

/** Most frames one stream-mode message may carry (`--frames-per-packet`): 16 frames = 213 ms at 24 kHz. */
export const MAX_FRAMES_PER_PACKET = 16;

/**
 * `--frames-per-packet N` in stream mode: groups every N frames of a stream encoder into one
 * unit (one message, one payload), as Opus's packet time does; the last unit of a stream may hold
 * fewer. Units are numbered 0, 1, … again (one seq per message); a unit's audio is complete when
 * its last frame's is, so it leaves N − 1 frames later than a single frame would.
 *
 * @param inner a stream-mode encoder (one frame per unit)
 * @param framesPerPacket N, 1 to {@link MAX_FRAMES_PER_PACKET} (1 returns `inner` itself)
 * @throws RangeError for N out of range or a chunked encoder
 */
export function batchFrames(inner: FrameEncoder, framesPerPacket: number): FrameEncoder {
  if (!Number.isInteger(framesPerPacket) || framesPerPacket < 1 || framesPerPacket > MAX_FRAMES_PER_PACKET) {
    throw new RangeError(`framesPerPacket must be an integer in [1, ${MAX_FRAMES_PER_PACKET}], got ${framesPerPacket}`);
  }
  if (framesPerPacket === 1) return inner;
  if (inner.mode !== "stream") throw new RangeError("framesPerPacket above 1 needs stream mode (a chunk is one message already)");
  const n = framesPerPacket;
  let held: EncodedUnit[] = [];
  let seq = 0;
  const join = (units: readonly EncodedUnit[]): EncodedUnit => {
    const block = concatCodeBlocks(units, inner.stepSamples);
    const first = units[0]!;
    const last = units[units.length - 1]!;
    return {
      seq: seq++,
      codes: block.codes,
      numCodebooks: block.numCodebooks,
      numFrames: block.numFrames,
      lengthSamples: block.lengthSamples,
      scale: null,
      hasOverlap: false,
      startSample: first.startSample,
      endSample: last.endSample,
    };
  };
  const take = (units: readonly EncodedUnit[], final: boolean): EncodedUnit[] => {
    held.push(...units);
    const out: EncodedUnit[] = [];
    while (held.length >= n) out.push(join(held.splice(0, n)));
    if (final && held.length > 0) out.push(join(held.splice(0)));
    if (final) seq = 0;
    return out;
  };
  return {
    mode: "stream",
    stepSamples: inner.stepSamples * n,
    unitSamples: inner.unitSamples * n,
    overlapSamples: 0,
    numCodebooks: inner.numCodebooks,
    nextBoundary: (fed) => (Math.floor(fed / (inner.stepSamples * n)) + 1) * inner.stepSamples * n,
    push: async (audio) => take(await inner.push(audio), false),
    end: async () => take(await inner.end(), true),
    warmUp: async () => {
      await inner.warmUp();
      held = [];
      seq = 0;
    },
  };
}
