/** Channels a WAV file may declare before it is refused as corrupt (WAVE_FORMAT_EXTENSIBLE names 18 positions). */
export const MAX_WAV_CHANNELS = 64;

/** Lowest sample rate, in Hz, accepted from a WAV file or as a target rate. */
export const MIN_SAMPLE_RATE_HZ = 1_000;

/** Highest sample rate, in Hz, accepted from a WAV file or as a target rate. */
export const MAX_SAMPLE_RATE_HZ = 768_000;

/** Sample frames decoded per read when streaming a WAV file (about 0.09 s at 44.1 kHz). */
export const DEFAULT_WAV_CHUNK_FRAMES = 4_096;

/** Speex resampler quality, 0 (fastest) to 10 (best); 8 uses a 160-tap filter, 10 a 256-tap one. */
export const DEFAULT_RESAMPLER_QUALITY = 8;
