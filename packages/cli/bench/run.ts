/**
 * Audio I/O throughput of @encstream/cli against simple baselines, all measured in this run.
 *
 * - WAV decode: `readWavFile` (chunked, positional reads) vs wavefile (whole file in memory,
 *   `getSamples` to Float64Array then scaled to float), 60 s of 44.1 kHz stereo 16-bit.
 * - WAV input to the 24 kHz mono model format: `readWavFile(..., { sampleRateHz: 24000,
 *   channels: 1 })` (Speex, quality 8) vs wavefile + mean + linear interpolation (the naive way).
 * - WAV output: `WavFileWriter` in 20 ms writes (data + header patch each, so the file is valid
 *   throughout) vs wavefile building the whole file and one writeFile at the end, 60 s of 24 kHz
 *   mono s16.
 *
 * Figures are seconds of audio per second of wall time (×real time), best of 3 after a warm-up.
 * Run: npx tsx bench/run.ts
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wavefile from "wavefile";
import { WavFileWriter, readWavFile } from "../src/index.js";

const SECONDS = 60;

async function best(run: () => Promise<void>, runs = 3): Promise<number> {
  await run(); // warm-up
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest / 1000;
}

function report(name: string, ours: number, baseline: number): void {
  const x = (s: number) => `${(SECONDS / s).toFixed(0).padStart(6)}× real time`;
  console.log(`${name.padEnd(34)} ours ${x(ours)}   baseline ${x(baseline)}   ratio ${(baseline / ours).toFixed(2)}`);
}

async function wavefileDecode(path: string): Promise<Float32Array[]> {
  const wav = new wavefile.WaveFile(await readFile(path));
  const samples = wav.getSamples(false, Float64Array) as unknown as Float64Array[];
  return samples.map((channel) => Float32Array.from(channel, (v) => v / 32768));
}

function naiveToModel(planar: Float32Array[], fromHz: number, toHz: number): Float32Array {
  const frames = (planar[0] as Float32Array).length;
  const mono = new Float32Array(frames);
  for (const channel of planar) for (let i = 0; i < frames; i++) mono[i] = (mono[i] as number) + (channel[i] as number) / planar.length;
  const out = new Float32Array(Math.ceil((frames * toHz) / fromHz));
  for (let j = 0; j < out.length; j++) {
    const t = (j * fromHz) / toHz;
    const i = Math.floor(t);
    const a = mono[i] as number;
    const b = mono[Math.min(i + 1, frames - 1)] as number;
    out[j] = a + (b - a) * (t - i);
  }
  return out;
}

const dir = await mkdtemp(join(tmpdir(), "encstream-cli-bench-"));
try {
  const frames44 = 44_100 * SECONDS;
  const left = Array.from({ length: frames44 }, (_, i) => Math.round(12_000 * Math.sin(i / 7)));
  const right = Array.from({ length: frames44 }, (_, i) => Math.round(9_000 * Math.sin(i / 11)));
  const input = new wavefile.WaveFile();
  input.fromScratch(2, 44_100, "16", [left, right]);
  const inputPath = join(dir, "input.wav");
  await writeFile(inputPath, input.toBuffer());

  // Same decoded samples from both (checked once).
  const ours = await readWavFile(inputPath);
  const theirs = await wavefileDecode(inputPath);
  if (ours.audio.some((channel, c) => channel.some((v, i) => v !== theirs[c]?.[i]))) throw new Error("decoders disagree");

  report(
    "decode 44.1 kHz stereo s16",
    await best(async () => void (await readWavFile(inputPath))),
    await best(async () => void (await wavefileDecode(inputPath))),
  );
  report(
    "to 24 kHz mono (resample + mix)",
    await best(async () => void (await readWavFile(inputPath, { sampleRateHz: 24_000, channels: 1 }))),
    await best(async () => void naiveToModel(await wavefileDecode(inputPath), 44_100, 24_000)),
  );

  const frames24 = 24_000 * SECONDS;
  const signal = Float32Array.from({ length: frames24 }, (_, i) => 0.4 * Math.sin(i / 5));
  const piece = 480; // 20 ms
  const outPath = join(dir, "out.wav");
  report(
    "write 24 kHz mono s16, 20 ms pieces",
    await best(async () => {
      const writer = await WavFileWriter.create(outPath, { sampleRateHz: 24_000, channels: 1 });
      for (let at = 0; at < frames24; at += piece) await writer.write([signal.subarray(at, at + piece)]);
      await writer.close();
    }),
    await best(async () => {
      const wav = new wavefile.WaveFile();
      wav.fromScratch(1, 24_000, "16", Int16Array.from(signal, (v) => Math.round(v * 32768)));
      await writeFile(outPath, wav.toBuffer());
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
