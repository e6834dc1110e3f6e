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

/** UDP port the seed used: send to it, receive on it. */
export const DEFAULT_PORT = 9527;

/** Where `send` sends to when `--ip` is not given. */
export const DEFAULT_SEND_HOST = "127.0.0.1";

/** Address `receive` listens on when `--bind` is not given: every IPv4 interface, as the seed did. */
export const DEFAULT_BIND_ADDRESS = "0.0.0.0";

/** Smallest `--mtu`, in bytes: the 24-byte header plus a 40-byte payload. */
export const MIN_MTU_BYTES = 64;

/** EnCodec bandwidth when `--bandwidth` is not given, kbps. */
export const DEFAULT_BANDWIDTH_KBPS = 12;

/**
 * Crossfade between chunks when `--overlap` is not given, percent of the chunk. The seed's
 * documented command lines use 25; its 1 % default left a 2.5 ms crossfade on a 250 ms chunk.
 */
export const DEFAULT_OVERLAP_PERCENT = 25;

/** Shortest `--chunk-ms`, milliseconds (1.5 EnCodec frames at 24 kHz; shorter chunks are mostly padding). */
export const MIN_CHUNK_MS = 20;

/** Longest `--chunk-ms`, milliseconds. */
export const MAX_CHUNK_MS = 10_000;

/** Longest `--timeout`, seconds (one day). */
export const MAX_IDLE_TIMEOUT_S = 86_400;

/**
 * Largest WAV file read, in bytes: 4 GiB, the most a RIFF size field can describe (larger files
 * are RF64, which is not supported). The size is checked with `stat` before anything is read.
 */
export const MAX_WAV_FILE_BYTES = 2 ** 32 + 8;

/** Bytes at the start of a WAV file searched for the `data` chunk (headers and metadata before it). */
export const MAX_WAV_HEADER_BYTES = 4 * 1024 * 1024;

/** How often the live `--stats` line and the progress line are refreshed, milliseconds. */
export const STATS_INTERVAL_MS = 1_000;

/**
 * Where the published language models are downloaded from (they are not on the Hugging Face
 * Hub): the reference implementation's own location. `ENCSTREAM_LM_URL` overrides it (a mirror),
 * and `pull --base-url` takes them from the mirror's repository folder instead.
 */
export const DEFAULT_LM_BASE_URL = "https://dl.fbaipublicfiles.com/encodec/v0";

/**
 * `receive --buffer-size` when not given, milliseconds of audio, rounded up to whole units once
 * the stream's unit is known: 15 frames of the 24 kHz frame-exact stream (13.3 ms each), two
 * 250 ms chunks at 24 kHz (a 187.5 ms hop at 25 % overlap), one 1 s chunk at 48 kHz. A count of
 * units would not suit both models: the seed's 16 units meant 3 s of 24 kHz chunks and 12 s of
 * 48 kHz ones before the first sound.
 */
export const DEFAULT_BUFFER_MS = 200;

/** Longest `receive --buffer-size` given as a duration, milliseconds. */
export const MAX_BUFFER_MS = 60_000;

/** `send --ttl` when not given: multicast datagrams stay on the local network. */
export const DEFAULT_MULTICAST_TTL = 1;
