// Helpers of the streaming tests: a WAV fixture reader, planar joins, error measures.
import { createStreamDecoder } from "../../src/streaming/stream-decoder.js";
import { createStreamEncoder } from "../../src/streaming/stream-encoder.js";
import type { StreamingCodec } from "../../src/streaming/streaming-codec.js";
import type { StreamFrame } from "../../src/streaming/stream-types.js";
import { fixturePath } from "./fixtures.js";
import { readWav16 } from "./wav.js";

/** Read a 16-bit PCM WAV fixture (test/fixtures/audio) as planar float32 (int16 / 32768). */
export function readWavFixture(name: string): { sampleRateHz: number; channels: Float32Array[] } {
  return readWav16(fixturePath(`audio/${name}`));
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

/** Mono `audio` through a stream encoder and decoder, one 320-sample frame a push: the frames and the decoded audio. */
export async function streamFrameByFrame(codec: StreamingCodec, audio: Float32Array, bandwidthKbps: number): Promise<{ frames: StreamFrame[]; out: Float32Array[] }> {
  const hop = codec.hopLengthSamples;
  const encoder = await createStreamEncoder(codec, { bandwidthKbps });
  const decoder = createStreamDecoder(codec);
  const frames: StreamFrame[] = [];
  const parts: Float32Array[][] = [];
  for (let at = 0; at < audio.length; at += hop) {
    for (const fr of await encoder.push([audio.subarray(at, at + hop)])) {
      frames.push(fr);
      parts.push(await decoder.push(fr));
    }
  }
  for (const fr of await encoder.end()) {
    frames.push(fr);
    parts.push(await decoder.push(fr));
  }
  parts.push(await decoder.end());
  return { frames, out: joinPlanar(parts, 1) };
}
