// Helpers of the streaming tests: a 16-bit WAV reader, a seeded PRNG, planar joins, error measures.
import { readFileSync } from "node:fs";
import { fixturePath } from "./fixtures.js";

/** Read a 16-bit PCM WAV fixture (test/fixtures/audio) as planar float32 (int16 / 32768). */
export function readWavFixture(name: string): { sampleRateHz: number; channels: Float32Array[] } {
  const b = readFileSync(fixturePath(`audio/${name}`));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.toString("latin1", 0, 4) !== "RIFF" || b.toString("latin1", 8, 12) !== "WAVE") throw new Error(`${name}: not a WAV file`);
  let pos = 12;
  let channels = 0;
  let rate = 0;
  while (pos + 8 <= b.length) {
    const id = b.toString("latin1", pos, pos + 4);
    const size = v.getUint32(pos + 4, true);
    if (id === "fmt ") {
      if (v.getUint16(pos + 8, true) !== 1 || v.getUint16(pos + 22, true) !== 16) throw new Error(`${name}: not 16-bit PCM`);
      channels = v.getUint16(pos + 10, true);
      rate = v.getUint32(pos + 12, true);
    } else if (id === "data") {
      const frames = Math.floor(Math.min(size, b.length - pos - 8) / (2 * channels));
      const out = Array.from({ length: channels }, () => new Float32Array(frames));
      for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) out[c]![i] = v.getInt16(pos + 8 + 2 * (i * channels + c), true) / 32768;
      return { sampleRateHz: rate, channels: out };
    }
    pos += 8 + size + (size & 1);
  }
  throw new Error(`${name}: no data chunk`);
}

/** mulberry32: a seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Concatenate planar pieces (each `Float32Array[]` with the same channel count). */
export function joinPlanar(parts: readonly (readonly Float32Array[])[], channels: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => {
    const total = parts.reduce((s, p) => s + p[c]!.length, 0);
    const out = new Float32Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p[c]!, o);
      o += p[c]!.length;
    }
    return out;
  });
}

/** Largest absolute difference over `[from, to)` of two planar signals. */
export function maxAbsDiffRange(a: readonly Float32Array[], b: readonly Float32Array[], from = 0, to = Number.POSITIVE_INFINITY): number {
  let m = 0;
  a.forEach((ch, c) => {
    const end = Math.min(to, ch.length, b[c]!.length);
    for (let i = from; i < end; i++) m = Math.max(m, Math.abs(ch[i]! - b[c]![i]!));
  });
  return m;
}

/** Root mean square of a planar signal over `[from, to)`. */
export function rms(a: readonly Float32Array[], from = 0, to = Number.POSITIVE_INFINITY): number {
  let s = 0;
  let n = 0;
  for (const ch of a) {
    const end = Math.min(to, ch.length);
    for (let i = from; i < end; i++) {
      s += ch[i]! * ch[i]!;
      n++;
    }
  }
  return n === 0 ? 0 : Math.sqrt(s / n);
}

/** SNR in dB of `test` against `reference` (equal lengths): 10 log10(Σ ref² / Σ (ref − test)²). */
export function snrDb(reference: readonly Float32Array[], test: readonly Float32Array[]): number {
  let sig = 0;
  let err = 0;
  reference.forEach((ch, c) => {
    for (let i = 0; i < ch.length; i++) {
      sig += ch[i]! * ch[i]!;
      const d = ch[i]! - test[c]![i]!;
      err += d * d;
    }
  });
  return 10 * Math.log10(sig / err);
}
