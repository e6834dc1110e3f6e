// Bounds on model files, checked before anything is inflated or parsed, from what EnCodec's
// architectures need (a file beyond them is refused, not read into memory):
//
// - The published 24 kHz model has 14.85 M parameters and 8.4 M elements of quantizer buffers
//   (32 codebooks × 1024 × 128, embed and embed_avg); the 48 kHz model and the language models
//   are of the same order, each under 300 state-dict entries (the LMs under 200).
// - `torch.save` stores zip entries uncompressed; a deflated entry that inflates far beyond its
//   compressed size is a zip bomb, not a checkpoint.

/** Most tensors (state-dict entries) a weights file may hold. */
export const MAX_WEIGHT_TENSORS = 4_096;

/** Most elements all tensors of a weights file may hold together: 64 Mi (2.5× the largest model). */
export const MAX_WEIGHT_ELEMENTS = 64 * 1024 * 1024;

/** Largest element size of a stored dtype (F64, I64), bytes. */
export const MAX_ELEMENT_BYTES = 8;

/** Largest `data.pkl` of a checkpoint, bytes (a state dict's pickle is tens of KiB). */
export const MAX_PICKLE_BYTES = 16 * 1024 * 1024;

/** Most entries a checkpoint zip may list: one per tensor storage, plus bookkeeping. */
export const MAX_ZIP_ENTRIES = MAX_WEIGHT_TENSORS + 64;

/** Largest safetensors JSON header, bytes (EnCodec's are under 100 KiB). */
export const MAX_SAFETENSORS_HEADER_BYTES = 2 * 1024 * 1024;

/**
 * Most a checkpoint's deflated entries may inflate to, as a multiple of their compressed
 * bytes (plus `INFLATE_SLACK_BYTES`); weights barely compress (about 1.1×).
 */
export const MAX_INFLATE_RATIO = 16;

/** Inflated bytes allowed beyond `MAX_INFLATE_RATIO` × compressed (small text entries compress well). */
export const INFLATE_SLACK_BYTES = 1024 * 1024;
