export { CliError, isCliError, type CliErrorCode } from "./errors.js";
export {
  DEFAULT_RESAMPLER_QUALITY,
  DEFAULT_WAV_CHUNK_FRAMES,
  MAX_SAMPLE_RATE_HZ,
  MAX_WAV_CHANNELS,
  MIN_SAMPLE_RATE_HZ,
} from "./constants.js";
export { mixChannels } from "./audio/channel-mix.js";
export { Resampler, type ResamplerOptions } from "./audio/resampler.js";
export { WavReader } from "./audio/wav-reader.js";
export { WavInput, readWavFile, type WavAudio, type WavInputOptions } from "./audio/wav-input.js";
export { WavFileWriter, type WavFileWriterOptions } from "./audio/wav-writer.js";
export {
  openPlayback,
  probePlayback,
  type Playback,
  type PlaybackOptions,
  type PlaybackSupport,
} from "./audio/playback.js";
export type { WavFormat, WavSampleFormat } from "./internal/wav-header.js";
export type { OutputSampleFormat } from "./internal/pcm.js";
export { onInterrupt, type InterruptHandler, type InterruptSignal } from "./interrupt.js";
