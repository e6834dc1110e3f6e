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
