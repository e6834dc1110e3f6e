/** The payload format version this package writes by default (it reads versions 1 and 2). */
export const PAYLOAD_VERSION = 2;

/** The versions this package reads. */
export const PAYLOAD_VERSIONS = [1, 2] as const;

/** Bytes of version 1's fixed header: version (1), flags (1), codebooks (1), frames (2). */
export const PAYLOAD_FIXED_HEADER_BYTES = 5;

/** Bytes of version 2's fixed header: version 1's and the media timestamp (4). */
export const PAYLOAD_V2_FIXED_HEADER_BYTES = 9;

/** Bytes of version 2's overlap field (chunked payloads). */
export const PAYLOAD_OVERLAP_BYTES = 4;

/** Largest overlap between chunks a version 2 payload may state, samples per channel (half of {@link MAX_PAYLOAD_FRAMES} frames). */
export const MAX_PAYLOAD_OVERLAP_SAMPLES = 163_840;

/** Most extensions one version 2 payload may carry. */
export const MAX_PAYLOAD_EXTENSIONS = 16;

/** Most bytes of one extension's value (a varint length of at most 3 bytes). */
export const MAX_PAYLOAD_EXTENSION_BYTES = 2 ** 21 - 1;

/** Most previous units one payload's redundancy may carry (one bit each in its mask: distances 1 to 8). */
export const MAX_REDUNDANT_UNITS = 8;

/** Quietest comfort noise level a payload can state, dBFS (the level byte holds 0 to 127, negated). */
export const MIN_COMFORT_NOISE_DB = -127;

/**
 * Version 2 extension types. Types 0x01–0x7f are optional: a reader that does not know one skips
 * it (and keeps it, so a re-encoded payload is identical). Types 0x80–0xff are critical: a
 * reader that does not know one refuses the payload (`unsupported`). Type 0 is invalid.
 */
export const PAYLOAD_EXTENSION_TYPES = {
  /** 1 byte: track id 1–255 (absent: track 0). */
  track: 0x01,
  /** Redundancy (FEC): the first K codebooks of up to 8 previous units. */
  redundancy: 0x02,
  /** 1 byte: comfort noise level, −dBFS (0–127); the payload carries no codes (K = 0). */
  comfortNoise: 0x03,
} as const;

/** Extension types from this one on are critical (a reader that does not know one refuses the payload). */
export const PAYLOAD_CRITICAL_EXTENSION_TYPE = 0x80;

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

/** Flag bits of byte 1 (0x40 and 0x80 only in version 2). */
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
  /** Version 2. Set: a table of F bytes gives each frame's own K (K is then the largest). */
  frameCodebooks: 0x40,
  /** Version 2. Set: extensions follow the header fields (count, then type, varint length, value each). */
  extensions: 0x80,
} as const;

/** Flag bits that version 1 leaves reserved (must be 0); version 2 uses them all. */
export const PAYLOAD_RESERVED_FLAGS = 0xc0;

/** Per model kind: sample rate, frames per second, most codebooks. */
export const PAYLOAD_MODELS = {
  "24k": { sampleRateHz: 24_000, channels: 1, frameRateHz: 75, maxCodebooks: 32 },
  "48k": { sampleRateHz: 48_000, channels: 2, frameRateHz: 150, maxCodebooks: 16 },
} as const;
