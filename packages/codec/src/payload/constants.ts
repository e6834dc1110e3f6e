/** The payload format version this package writes and reads. */
export const PAYLOAD_VERSION = 1;

/** Bytes of the fixed header: version (1), flags (1), codebooks (1), frames (2). */
export const PAYLOAD_FIXED_HEADER_BYTES = 5;

/** Bytes of the optional big-endian uint32 audio length. */
export const PAYLOAD_LENGTH_BYTES = 4;

/** Bytes of the big-endian float32 scale that 48 kHz payloads carry. */
export const PAYLOAD_SCALE_BYTES = 4;

/** Most frames one payload may carry (13.7 s at 24 kHz, 6.8 s at 48 kHz). */
export const MAX_PAYLOAD_FRAMES = 1024;

/** Bits per code: 1024-entry codebooks. */
export const PAYLOAD_BITS_PER_CODE = 10;

/** Samples per frame of both published models. */
export const PAYLOAD_HOP_SAMPLES = 320;

/** Flag bits of byte 1. */
export const PAYLOAD_FLAGS = {
  /** Set: 48 kHz stereo model (encodec_48khz); clear: 24 kHz mono (encodec_24khz). */
  model48k: 0x01,
  /** Set: chunked mode (independent chunks joined by overlap-add); clear: frame-exact stream. */
  chunked: 0x02,
  /** Set: the body is LM arithmetic-coded instead of bit-packed. */
  lmCoded: 0x04,
  /** Set: the last payload of the stream. */
  endOfStream: 0x08,
  /** Set: the first payload of a stream (the receiver resets its decoder). */
  firstOfStream: 0x10,
  /** Set: a uint32 audio length follows the fixed header. */
  hasLength: 0x20,
} as const;

/** Flag bits that version 1 leaves reserved (must be 0). */
export const PAYLOAD_RESERVED_FLAGS = 0xc0;

/** Per model kind: sample rate, frames per second, most codebooks. */
export const PAYLOAD_MODELS = {
  "24k": { sampleRateHz: 24_000, channels: 1, frameRateHz: 75, maxCodebooks: 32 },
  "48k": { sampleRateHz: 48_000, channels: 2, frameRateHz: 150, maxCodebooks: 16 },
} as const;
