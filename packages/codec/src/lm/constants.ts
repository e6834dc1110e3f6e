/** Width of the arithmetic coder's range in bits (`total_range_bits` of the reference coder). */
export const LM_TOTAL_RANGE_BITS = 24;

/** `2 ** LM_TOTAL_RANGE_BITS`: the integer range a quantized CDF splits. */
export const LM_TOTAL_RANGE = 2 ** LM_TOTAL_RANGE_BITS;

/** Smallest width, in coder range units, any symbol of a quantized CDF gets (`min_range`). */
export const LM_MIN_RANGE = 2;

/** Probabilities are floored to multiples of this before quantization (`roundoff`). */
export const LM_ROUNDOFF = 1e-8;

/** Codebook cardinality of every EnCodec model (10-bit codes). */
export const LM_CARDINALITY = 1024;

/** Seconds of past frames the reference language model attends to (`past_context = int(3.5 * frame_rate)`). */
export const LM_PAST_CONTEXT_SECONDS = 3.5;

/** Attention heads of the published language models (not recoverable from tensor shapes). */
export const LM_DEFAULT_NUM_HEADS = 8;

/** Longest period of the sinusoidal positional embedding, in frames. */
export const LM_MAX_PERIOD_FRAMES = 10000;

/** Epsilon of every LayerNorm in the language model. */
export const LM_LAYER_NORM_EPS = 1e-5;

/** Upper bounds on hyper-parameters accepted from a weights file, to bound allocations. */
export const LM_MAX_DIM = 4096;
/** Upper bound on the number of transformer layers accepted from a weights file. */
export const LM_MAX_LAYERS = 64;
/** Upper bound on the number of codebooks accepted from a weights file. */
export const LM_MAX_CODEBOOKS = 64;
/** Upper bound on the attention context accepted, in frames (the published models use 262 and 525). */
export const LM_MAX_PAST_CONTEXT_FRAMES = 4096;

/** Most frames one call codes; bounds the allocation made from a caller's or a file's count. */
export const LM_MAX_FRAMES = 1 << 22;
