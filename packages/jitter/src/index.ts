export { JitterBuffer } from "./jitter-buffer.js";
export type { JitterBufferState, PopOptions, PopResult, PushResult } from "./jitter-buffer.js";
export type { JitterBufferOptions } from "./jitter-buffer-options.js";
export type { JitterStats } from "./jitter-stats.js";
export { compareSeq, isSeq, seqAdd, seqDiff, seqGreaterThan, seqLessThan } from "./sequence-number.js";
export {
  DEFAULT_CAPACITY_FRAMES,
  DEFAULT_RESYNC_PACKETS,
  HISTORY_FRAMES,
  MAX_CAPACITY_FRAMES,
  MAX_RESYNC_THRESHOLD_FRAMES,
  MAX_SEQ,
  SEQ_MODULUS,
} from "./constants.js";
