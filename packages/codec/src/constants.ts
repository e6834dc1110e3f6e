/** Added to a segment's RMS volume to form its scale (reference `_encode_frame`): `scale = 1e-8 + rms`. */
export const NORMALIZE_EPSILON = 1e-8;

/** Largest number of samples per channel that one offline segment may have (about 10 minutes at 48 kHz); bounds allocations. */
export const MAX_SEGMENT_SAMPLES = 30_000_000;

/** Offline segments of equal length encoded or decoded together in one batch (bounds memory: 4 s of 48 kHz stereo). */
export const MAX_BATCH_SEGMENTS = 4;

/**
 * Frames per ONNX Runtime call when a causal model's single offline segment (24 kHz) is coded
 * block by block with the stateful graphs (2 s at 24 kHz: bounds the memory of each call); inputs up to this long run through the
 * offline graphs in one call. Fixed, so that the codes do not depend on how the input was fed.
 */
export const OFFLINE_BLOCK_FRAMES = 150;
