/**
 * Why a datagram was rejected.
 *
 * - `"truncated"`: fewer bytes than the 24-byte header.
 * - `"bad-field"`: a header field out of its range (`has_overlap` not 0 or 1, `total_frags` 0,
 *   `frag_index` ≥ `total_frags`, more fragments than bytes).
 * - `"bad-length"`: the payload size disagrees with `total_length` / `total_frags` (or with the
 *   fragment size fixed by earlier fragments of the same message).
 * - `"too-large"`: `total_length` above the receiver's configured maximum.
 * - `"inconsistent"`: the fields disagree with earlier fragments of the same `frag_id`.
 * - `"bad-key"`: a key file or `ENCSTREAM_KEY` value that is not in the key format.
 */
export type PacketErrorCode = "truncated" | "bad-field" | "bad-length" | "too-large" | "inconsistent" | "bad-key";

/**
 * The one error class for bad wire data given to `@encstream/packet`. Misuse of the API (a
 * header field that is not a uint32, an MTU too small) throws `TypeError`/`RangeError` instead.
 */
export class PacketError extends Error {
  override readonly name = "PacketError";
  /** Machine-readable reason. */
  readonly code: PacketErrorCode;

  constructor(code: PacketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link PacketError} (also across bundle copies of this package). */
export function isPacketError(value: unknown): value is PacketError {
  return (
    value instanceof PacketError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "PacketError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
