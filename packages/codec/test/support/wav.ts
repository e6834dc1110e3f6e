// A 16-bit PCM WAV reader shared by the tests (test/fixtures/audio) and the benchmarks.
import { readFileSync } from "node:fs";

/** Read a 16-bit PCM WAV file as planar float32 (int16 / 32768). */
export function readWav16(file: string): { sampleRateHz: number; channels: Float32Array[] } {
  const b = readFileSync(file);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.toString("latin1", 0, 4) !== "RIFF" || b.toString("latin1", 8, 12) !== "WAVE") throw new Error(`${file}: not a WAV file`);
  let pos = 12;
  let channels = 0;
  let rate = 0;
  while (pos + 8 <= b.length) {
    const id = b.toString("latin1", pos, pos + 4);
    const size = v.getUint32(pos + 4, true);
    if (id === "fmt ") {
      if (v.getUint16(pos + 8, true) !== 1 || v.getUint16(pos + 22, true) !== 16) throw new Error(`${file}: not 16-bit PCM`);
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
  throw new Error(`${file}: no data chunk`);
}
