import { levelDbfs } from "./comfort-noise.js";
import type { EncodedUnit, FrameEncoder } from "./frame-encoder.js";

/**
 * Wraps an encoder so that every unit it gives out carries `levelDb`, the RMS level of its input
 * audio (samples `startSample` to `endSample`, all channels) in dBFS, for `send --dtx`'s gate.
 * It keeps the audio pushed since the start of the next unit (the previous unit's start plus
 * one step), so its memory is a unit or two whatever the input's length. Wrap the outermost
 * encoder (after `batchFrames`), so a level covers the whole message.
 *
 * @param inner the encoder whose units are measured (its audio is passed on unchanged)
 */
export function measureUnitLevels(inner: FrameEncoder): FrameEncoder {
  /** Pushed audio from sample `origin` on, per channel, in pieces. */
  let held: Float32Array[][] = [];
  let origin = 0;
  let fed = 0;
  const levelOf = (unit: EncodedUnit): number => {
    const from = Math.max(unit.startSample, origin);
    const to = Math.min(unit.endSample, fed);
    const channels: Float32Array[] = [];
    for (const pieces of held) {
      const out = new Float32Array(Math.max(0, to - from));
      let at = origin;
      for (const piece of pieces) {
        const a = Math.max(from, at);
        const b = Math.min(to, at + piece.length);
        if (b > a) out.set(piece.subarray(a - at, b - at), a - from);
        at += piece.length;
      }
      channels.push(out);
    }
    return levelDbfs(channels);
  };
  /** Drops what no later unit covers: everything before `keepFrom`. */
  const forget = (keepFrom: number): void => {
    for (const pieces of held) {
      let at = origin;
      while (pieces.length > 0 && at + pieces[0]!.length <= keepFrom) at += pieces.shift()!.length;
    }
    if (held.length > 0) origin = fed - held[0]!.reduce((n, p) => n + p.length, 0);
  };
  const measure = (units: EncodedUnit[]): EncodedUnit[] => {
    const out = units.map((u) => ({ ...u, levelDb: levelOf(u) }));
    const last = units.at(-1);
    if (last !== undefined) forget(last.startSample + inner.stepSamples);
    return out;
  };
  const reset = (): void => {
    held = [];
    origin = 0;
    fed = 0;
  };
  return {
    mode: inner.mode,
    stepSamples: inner.stepSamples,
    unitSamples: inner.unitSamples,
    overlapSamples: inner.overlapSamples,
    numCodebooks: inner.numCodebooks,
    nextBoundary: (f) => inner.nextBoundary(f),
    push: async (audio) => {
      if (held.length === 0) held = audio.map(() => []);
      audio.forEach((ch, c) => held[c]?.push(ch.slice()));
      fed += audio[0]?.length ?? 0;
      return measure(await inner.push(audio));
    },
    end: async () => {
      const out = measure(await inner.end());
      reset();
      return out;
    },
    warmUp: async () => {
      await inner.warmUp();
      reset();
    },
  };
}
