import { join } from "node:path";
import { parseEncodecConfig, type StreamingCodec } from "@encstream/codec";
import { loadModelFiles } from "@encstream/codec/node";
import { fileURLToPath } from "node:url";
import { readWavFile } from "../../../src/audio/wav-input.js";
import { WavFileWriter } from "../../../src/audio/wav-writer.js";
import { createNodeStreamingCodec } from "../../../src/session/codec-session.js";

const CODEC_FIXTURES = fileURLToPath(new URL("../../../../codec/test/fixtures/", import.meta.url));

/** The tiny golden models of the codec package (config.json + model.safetensors + lm.safetensors). */
export const TINY24_DIR = join(CODEC_FIXTURES, "tiny24");
export const TINY48_DIR = join(CODEC_FIXTURES, "tiny48");

/** The reference recordings (24 kHz mono and 48 kHz stereo, 16-bit). */
export const SPEECH_24K = join(CODEC_FIXTURES, "audio", "test_24k.wav");
export const SPEECH_48K = join(CODEC_FIXTURES, "audio", "test_48k.wav");

/**
 * Writes the first `seconds` of `source` (at its own rate and channels) as a 16-bit WAV at
 * `path`, optionally skipping `offsetS` first: a short, real input for a stream.
 */
export async function writeInputWav(path: string, source: string, seconds: number, offsetS = 0): Promise<void> {
  const wav = await readWavFile(source);
  const from = Math.round(offsetS * wav.sampleRateHz);
  const frames = Math.round(seconds * wav.sampleRateHz);
  const writer = await WavFileWriter.create(path, { sampleRateHz: wav.sampleRateHz, channels: wav.audio.length });
  await writer.write(wav.audio.map((channel) => channel.slice(from, from + frames)));
  await writer.close();
}

/** The frame-exact streaming codec of a model folder, built as `receive` builds it (see createNodeStreamingCodec). */
export async function loadStreaming(dir: string, cacheDir: string): Promise<StreamingCodec> {
  const files = await loadModelFiles(dir);
  return createNodeStreamingCodec(parseEncodecConfig(files.hfConfig, files.source), files.tensors, cacheDir);
}
