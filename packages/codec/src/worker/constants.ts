/** Calls a worker codec lets be in flight by default before it rejects another. */
export const DEFAULT_MAX_QUEUED_CALLS = 64;

/** Largest `maxQueuedCalls` accepted. */
export const MAX_QUEUED_CALLS = 4096;

/** How long `close()` waits for a worker to release its sessions before terminating it, ms. */
export const WORKER_CLOSE_TIMEOUT_MS = 5_000;
