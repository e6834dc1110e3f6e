/** Size in bytes of the seed wire header: six big-endian uint32 fields. */
export const HEADER_BYTES = 24;

/** Default maximum datagram size in bytes (header included) used by the fragmenter. */
export const DEFAULT_MTU_BYTES = 220;

/** Payload bytes per datagram at the default MTU: `DEFAULT_MTU_BYTES - HEADER_BYTES` = 196. */
export const DEFAULT_MAX_PAYLOAD_BYTES = DEFAULT_MTU_BYTES - HEADER_BYTES;

/** Largest value of any header field (they are all unsigned 32-bit integers): 2^32 − 1. */
export const MAX_UINT32 = 0xffff_ffff;

/** Default largest message (whole frame) in bytes the `Reassembler` accepts: 64 KiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_536;

/** Default number of incomplete messages the `Reassembler` holds at once. */
export const DEFAULT_MAX_PENDING_MESSAGES = 32;

/** Default age in milliseconds after which an incomplete message is dropped. */
export const DEFAULT_MAX_AGE_MS = 2_000;

/** Default number of recently completed `frag_id`s remembered to detect late duplicates. */
export const DEFAULT_COMPLETED_HISTORY = 256;

/** Version byte of the authenticated datagram format (byte 24 of a sealed datagram). */
export const SECURE_FORMAT_VERSION = 1;

/**
 * Bytes a sealed datagram adds after the 24-byte seed header: version (1), key id (1),
 * run salt (8), counter (4).
 */
export const SECURE_HEADER_BYTES = 14;

/** Bytes of the AES-GCM authentication tag at the end of a sealed datagram. */
export const AUTH_TAG_BYTES = 16;

/**
 * Bytes sealing adds to a datagram: `SECURE_HEADER_BYTES + AUTH_TAG_BYTES` = 30. Split frames
 * with `mtuBytes` this much smaller to keep sealed datagrams within the MTU.
 */
export const SECURE_OVERHEAD_BYTES = SECURE_HEADER_BYTES + AUTH_TAG_BYTES;

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;

/** Most datagrams one sealer (one run salt) may seal: the counter is a uint32 and never wraps. */
export const MAX_SEALED_DATAGRAMS = 0x1_0000_0000;

/** Default width of the replay window, in datagrams (RFC 3711 asks for at least 64). */
export const DEFAULT_REPLAY_WINDOW_DATAGRAMS = 1_024;

/** Default number of run salts whose replay windows a `DatagramOpener` keeps. */
export const DEFAULT_MAX_TRACKED_SALTS = 16;

/** Default number of forgotten run salts a `DatagramOpener` still refuses (replays of old runs). */
export const DEFAULT_RETIRED_SALTS = 4_096;

/** Default number of incomplete messages one named source may hold in the `Reassembler`. */
export const DEFAULT_MAX_PENDING_PER_SOURCE = 16;

/** Default half-width, in sequence numbers, of the `Reassembler`'s window around the expected seq. */
export const DEFAULT_NEAR_SEQ_WINDOW = 256;

/** Largest message a `FeedbackSealer` seals (receiver reports are 36 bytes). */
export const MAX_FEEDBACK_BYTES = 1_024;
