/** Frames one ONNX Runtime call may take at most when a stream encoder or decoder has more (2 s at 24 kHz). */
export const DEFAULT_MAX_FRAMES_PER_CALL = 150;

/** Largest `maxFramesPerCall` accepted (about 14 s at 24 kHz); bounds each call's tensors. */
export const MAX_FRAMES_PER_CALL = 1024;

/** Concealed frames over which a stream decoder fades to silence (4 frames = 53 ms at 24 kHz). */
export const DEFAULT_CONCEAL_FADE_FRAMES = 4;

/** Most frames one code block pushed into a stream decoder may hold (about 15 min at 24 kHz). */
export const MAX_STREAM_BLOCK_FRAMES = 65_536;

/** Most missing frames one `pushMissing` call may conceal (1 min at 24 kHz). */
export const MAX_MISSING_FRAMES_PER_CALL = 4_500;

/** Most samples per channel one stream encoder `push` may take (about 10 min at 24 kHz). */
export const MAX_STREAM_PUSH_SAMPLES = 15_000_000;
