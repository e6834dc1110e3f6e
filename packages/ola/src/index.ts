export {
  MAX_CHANNELS,
  MAX_CHUNK_SAMPLES,
  MAX_GAP_SAMPLES,
  MAX_OVERLAP_PERCENT,
  MAX_OVERLAP_RATIO,
  MIN_CHUNK_SAMPLES,
  MIN_OVERLAP_PERCENT,
  MIN_OVERLAP_RATIO,
} from "./constants.js";
export { Chunker, splitIntoChunks } from "./chunker.js";
export type { Chunk, ChunkerOptions } from "./chunker.js";
export { OlaError, isOlaError } from "./errors.js";
export type { OlaErrorCode } from "./errors.js";
export { OverlapAdd } from "./overlap-add.js";
export type { MissingGap, OverlapAddOptions } from "./overlap-add.js";
export { computeOverlapSamples, percentToOverlapRatio } from "./overlap-ratio.js";
export { triangularWindow } from "./triangular-window.js";
export type { TriangularWindow } from "./triangular-window.js";
