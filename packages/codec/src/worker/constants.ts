/** Calls a worker codec lets be in flight by default before it rejects another. */
export const DEFAULT_MAX_QUEUED_CALLS = 64;

/** Largest `maxQueuedCalls` accepted. */
export const MAX_QUEUED_CALLS = 4096;

/** How long `close()` waits for a worker to release its sessions before terminating it, ms. */
export const WORKER_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Young generation of a codec worker's V8 heap by default, MiB (`resourceLimits.maxYoungGenerationSizeMb`):
 * 3 MiB is a 1 MiB semi-space. A worker allocates little per call (its audio and codes live in
 * transferred buffers, outside the heap), but V8's default lets the young generation grow to
 * 16 MiB semi-spaces, all of it resident: the full-size receiver's peak RSS fell by about 4 MiB.
 */
export const DEFAULT_WORKER_YOUNG_GENERATION_MB = 3;

/** Largest `youngGenerationMb` accepted, MiB. */
export const MAX_WORKER_YOUNG_GENERATION_MB = 256;
