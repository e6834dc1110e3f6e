/**
 * Limits and defaults of `@encstream/ola`. Every number carries its unit in its name.
 */

/** Smallest accepted overlap between consecutive chunks, as a fraction of the chunk length. */
export const MIN_OVERLAP_RATIO = 0.01;

/**
 * Largest accepted overlap, as a fraction of the chunk length. At one half, each sample lies in
 * at most two chunks, which is what a pairwise crossfade needs.
 */
export const MAX_OVERLAP_RATIO = 0.5;

/** Smallest overlap the command line accepts, in percent of the chunk length. */
export const MIN_OVERLAP_PERCENT = 1;

/** Largest overlap the command line accepts, in percent of the chunk length. */
export const MAX_OVERLAP_PERCENT = 50;

/** Shortest chunk, in samples per channel (a chunk must advance by at least one sample). */
export const MIN_CHUNK_SAMPLES = 2;

/**
 * Longest chunk, in samples per channel (2^24, about 350 s at 48 kHz). Guards the buffers the
 * chunker and the overlap-add allocate from a configured size.
 */
export const MAX_CHUNK_SAMPLES = 16_777_216;

/** Most channels a chunker or overlap-add accepts. */
export const MAX_CHANNELS = 32;

/**
 * Longest gap that one `OverlapAdd.pushMissing` call may fill with silence, in samples per channel
 * (2^24, about 350 s at 48 kHz, 64 MiB per channel).
 */
export const MAX_GAP_SAMPLES = 16_777_216;
