/** Number of distinct sequence numbers: sequence numbers are unsigned 32-bit and wrap at 2^32. */
export const SEQ_MODULUS = 0x1_0000_0000;

/** Largest sequence number (2^32 - 1); the one after it is 0. */
export const MAX_SEQ = 0xffff_ffff;

/**
 * Half the sequence space (2^31). Two sequence numbers exactly this far apart have no defined
 * order (RFC 1982 §3.2).
 */
export const SEQ_HALF_RANGE = 0x8000_0000;

/** Default number of frames a {@link JitterBuffer} holds at most (its window). */
export const DEFAULT_CAPACITY_FRAMES = 16;

/** Largest allowed `capacity`, in frames: bounds the memory one buffer can take. */
export const MAX_CAPACITY_FRAMES = 65_536;

/** Largest allowed `resyncThreshold`, in frames: far below half the sequence space. */
export const MAX_RESYNC_THRESHOLD_FRAMES = 0x4000_0000;

/** Default `resyncThreshold` as a multiple of `capacity` (64 frames at the default capacity). */
export const DEFAULT_RESYNC_THRESHOLD_CAPACITIES = 4;

/** Default number of consecutive far packets (beyond `resyncThreshold`) that trigger a resync. */
export const DEFAULT_RESYNC_PACKETS = 3;

/** Largest allowed `resyncPackets`. */
export const MAX_RESYNC_PACKETS = 1024;

/**
 * Played-out sequence numbers remembered (at least) behind the playout point, so that a packet
 * arriving after its frame was played can be told apart as `"duplicate"` or `"late"`.
 */
export const HISTORY_FRAMES = 256;

/** RFC 3550 §6.4.1: the jitter estimate moves 1/16 of the way towards each new |D|. */
export const JITTER_GAIN_DIVISOR = 16;
