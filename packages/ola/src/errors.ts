/**
 * What was wrong with audio handed to `@encstream/ola`:
 * - `"channel-mismatch"`: a chunk has a different number of channels than the stream.
 * - `"ragged-channels"`: the channels of one chunk differ in length.
 * - `"chunk-too-short"`: a chunk that begins with an overlap is shorter than the overlap.
 */
export type OlaErrorCode = "channel-mismatch" | "ragged-channels" | "chunk-too-short";

/**
 * The one error class for audio data that does not fit the stream (typically decoder output).
 * A receiver can catch it and treat the chunk as lost (`OverlapAdd.pushMissing`); the state of the
 * chunker or overlap-add is unchanged when it is thrown. Misuse of the API (a wrong argument type,
 * an out-of-range option) throws `TypeError`/`RangeError` instead.
 */
export class OlaError extends Error {
  override readonly name = "OlaError";
  /** Machine-readable reason. */
  readonly code: OlaErrorCode;

  constructor(code: OlaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is an {@link OlaError} (also across bundle copies of this package). */
export function isOlaError(value: unknown): value is OlaError {
  return (
    value instanceof OlaError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "OlaError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
