/*
 * Constants of the send and receive sessions (see the package README and the comments at the
 * top of sender-session.ts and receiver-session.ts).
 */

/** Bits of `frag_id` that carry the sender's random stream id (the high 16); the low 16 count messages. */
export const STREAM_ID_BITS = 16;

/** Messages a stream can send before its `frag_id` counter wraps (2^16). */
export const FRAG_COUNTER_MODULUS = 0x1_0000;

/** Extra copies of the end-of-stream message the sender sends after the original (same datagrams). */
export const END_OF_STREAM_REPEATS = 3;

/** Time between the copies of the end-of-stream message, milliseconds. */
export const END_OF_STREAM_REPEAT_INTERVAL_MS = 20;

/**
 * Consecutive valid messages of a new stream id (without the first-of-stream flag) after which the
 * receiver takes the new stream as a restart of the sender.
 */
export const RESTART_MESSAGES = 3;

/**
 * Most units a live sender that fell behind takes in one piece (one encoder call) to catch up:
 * 150 frames = 2 s of --stream audio (the stream encoder's default `maxFramesPerCall`).
 */
export const MAX_CATCH_UP_UNITS = 150;

/**
 * Units of captured audio a live sender must be behind before it takes them in one piece (8
 * frames = 107 ms in stream mode, half the receiver's default prefill). Below it, units are coded
 * one per call as on time, so that a sender that is only somewhat late makes the same model
 * calls, and the same codes, as an on-time one: the stream encoder's codes from a several-frame
 * call can differ from one-frame calls in float rounding at near-ties (2 of 2400 codes on 2 s of
 * speech at 12 kbps, tiny model); further behind, catching up matters more.
 */
export const MIN_CATCH_UP_UNITS = 8;

/** Samples per frame of both EnCodec models (the stream mode's unit). */
export const FRAME_SAMPLES = 320;

/**
 * Frames between LM keyframes in stream mode (one frame per payload): 15 frames = 200 ms at
 * 24 kHz. A lost payload costs the frames up to the next keyframe, so this stays short; chunked
 * payloads are all keyframes (each chunk is coded on its own).
 */
export const STREAM_LM_KEYFRAME_INTERVAL_FRAMES = 15;

/** Longest LM keyframe interval a stream may ask for, frames (1 s at 24 kHz). */
export const MAX_LM_KEYFRAME_INTERVAL_FRAMES = 75;

/** Smallest jitter buffer capacity, frames (see {@link CATCH_UP_HEADROOM_UNITS}). */
export const MIN_JITTER_CAPACITY_FRAMES = 16;

/**
 * Units the receiver's jitter buffer holds beyond its prefill, at least: two of a live sender's
 * largest catch-up bursts ({@link MAX_CATCH_UP_UNITS} units each, sent at once after a stall, or
 * the startup frames then a catch-up), so that a starved sender's burst is held and played
 * rather than dropped for arriving too far ahead. The capacity is
 * `max(16, 2 × prefill, prefill + this)` units. The excess of a gapless run is played at once,
 * so the headroom does not add delay; it costs one slot per unit (a reference to its payload).
 */
export const CATCH_UP_HEADROOM_UNITS = 2 * MAX_CATCH_UP_UNITS;

/**
 * Frames missing at the start of a stream (the first ones lost) that the receiver fills with
 * concealment so the output stays aligned with the sender's input; a receiver that joins a
 * stream further in starts where it joined.
 */
export const MAX_LEADING_FILL_FRAMES = 256;

/** Window over which the live bitrate is measured, milliseconds. */
export const BITRATE_WINDOW_MS = 2_000;

/**
 * How long `receive` keeps its socket open after a stream has ended, milliseconds, so that the
 * repeats of the end-of-stream message (sent over 60 ms) are taken in and counted as duplicates.
 */
export const END_OF_STREAM_LINGER_MS = 250;

/**
 * Chunk length of the chunked framing with the 24 kHz model when none is given, ms: 6000
 * samples, the seed's. A receiver that has only seen a stream's last chunk assumes it.
 */
export const DEFAULT_CHUNK_MS_24K = 250;

/**
 * Chunk length of the chunked framing with the 48 kHz model when none is given, ms: one model
 * segment (1 s), over which its encoder normalises loudness.
 */
export const DEFAULT_CHUNK_MS_48K = 1_000;

/**
 * How long the stream being played must have been silent (no message of it accepted) before
 * another source or stream id may take over, ms (`ReceiverSessionOptions.takeoverSilenceMs`).
 */
export const DEFAULT_TAKEOVER_SILENCE_MS = 1_000;

/**
 * How long a started stream may go without a message of it before it ends (what is buffered is
 * played out, the output flushed), ms (`ReceiverSessionOptions.streamIdleMs`).
 */
export const DEFAULT_STREAM_IDLE_MS = 3_000;

/** Streams waiting to take over (another source or stream id) that the receiver keeps at once. */
export const MAX_CANDIDATE_STREAMS = 4;

/** Messages a waiting stream keeps (its oldest go first), so that a takeover loses none of them. */
export const MAX_CANDIDATE_MESSAGES = 512;

/** Most tracks one multi-track run carries (sender), and one receiver follows at once. */
export const MAX_TRACKS = 16;
