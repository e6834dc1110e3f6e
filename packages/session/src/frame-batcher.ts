import { concatCodeBlocks } from "@encstream/codec";
import type { EncodedUnit, FrameEncoder } from "./frame-encoder.js";

/** Most frames one stream-mode message may carry (`--frames-per-packet`): 16 frames = 213 ms at 24 kHz. */
export const MAX_FRAMES_PER_PACKET = 16;

/**
 * Most frames per message the rate controller may choose when `send --bandwidth auto --stream`
 * is given no `--frames-per-packet`: all of them (16, 213 ms at 24 kHz). A message's 24-byte
 * datagram header and ~11-byte payload header cost 21 kbps at one frame a message; the
 * controller's floor (K = 2 at 1.5 kbps of codes) is 4.0 kbps on the wire at 8 frames a message
 * and 2.7 at 16, so a cap of a few kbps is reachable only with long messages. The controller
 * takes the fewest frames that carry the most codebooks the target allows, so long messages
 * (and their delay) are used only on a path that needs them.
 */
export const DEFAULT_AUTO_MAX_FRAMES_PER_PACKET = MAX_FRAMES_PER_PACKET;

/**
 * `--frames-per-packet N` in stream mode: groups every N frames of a stream encoder into one
 * unit (one message, one payload), as Opus's packet time does; the last unit of a stream may hold
 * fewer. Units are numbered 0, 1, … again (one seq per message); a unit's audio is complete when
 * its last frame's is, so it leaves N − 1 frames later than a single frame would.
 *
 * N may change during the stream (`--bandwidth auto` chooses it): given as a function, it is
 * asked at every message boundary, so a change takes effect with the next message; frames are
 * never reordered, repeated or dropped (each message holds the next frames in order, and its
 * media timestamp is its first frame's). The encoder's `stepSamples` and `unitSamples` then
 * state the current N, and `nextBoundary` asks for the frames the next message still lacks.
 *
 * @param inner a stream-mode encoder (one frame per unit)
 * @param framesPerPacket N, 1 to {@link MAX_FRAMES_PER_PACKET} (a fixed 1 returns `inner`
 *   itself), or a function giving it for the next message (a value out of range is clamped)
 * @throws RangeError for a fixed N out of range, or N above 1 (or a function) with a chunked encoder
 */
export function batchFrames(inner: FrameEncoder, framesPerPacket: number | (() => number)): FrameEncoder {
  if (typeof framesPerPacket === "number" && (!Number.isInteger(framesPerPacket) || framesPerPacket < 1 || framesPerPacket > MAX_FRAMES_PER_PACKET)) {
    throw new RangeError(`framesPerPacket must be an integer in [1, ${MAX_FRAMES_PER_PACKET}], got ${framesPerPacket}`);
  }
  if (framesPerPacket === 1) return inner;
  if (inner.mode !== "stream") throw new RangeError("framesPerPacket above 1 needs stream mode (a chunk is one message already)");
  const wanted = typeof framesPerPacket === "number" ? () => framesPerPacket : framesPerPacket;
  const n = (): number => {
    const v = Math.round(wanted());
    return Number.isFinite(v) ? Math.min(MAX_FRAMES_PER_PACKET, Math.max(1, v)) : 1;
  };
  const step = inner.stepSamples;
  let held: EncodedUnit[] = [];
  let seq = 0;
  /** Samples pushed so far (what `nextBoundary` is asked about). */
  let fed = 0;
  const join = (units: readonly EncodedUnit[]): EncodedUnit => {
    const block = concatCodeBlocks(units, step);
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
    // N is asked at each boundary: a change applies from the next message on
    for (let size = n(); held.length >= size; size = n()) out.push(join(held.splice(0, size)));
    if (final && held.length > 0) out.push(join(held.splice(0)));
    if (final) {
      seq = 0;
      fed = 0;
    }
    return out;
  };
  return {
    mode: "stream",
    get stepSamples() {
      return step * n();
    },
    get unitSamples() {
      return inner.unitSamples * n();
    },
    overlapSamples: 0,
    numCodebooks: inner.numCodebooks,
    // the frames the next message still lacks (a projection past what was fed: a whole message)
    nextBoundary: (at) => (Math.floor(at / step) + (at <= fed ? Math.max(1, n() - held.length) : n())) * step,
    push: async (audio) => {
      fed += audio[0]?.length ?? 0;
      return take(await inner.push(audio), false);
    },
    end: async () => take(await inner.end(), true),
    warmUp: async () => {
      await inner.warmUp();
      held = [];
      seq = 0;
      fed = 0;
    },
  };
}
