/**
 * Why a send or receive session gave up.
 *
 * - `"model-mismatch"`: the stream carries codes of another model kind than the codec the
 *   receiver was given (24 kHz mono against 48 kHz stereo).
 * - `"lm-unavailable"`: the stream is LM-coded and the codec has no language model.
 * - `"unsupported"`: the codec cannot do what was asked (a model kind the payload cannot name,
 *   frame-exact streaming without a streaming codec).
 */
export type SessionErrorCode = "model-mismatch" | "lm-unavailable" | "unsupported";

/**
 * The one error class of `@encstream/session` for failures caused by the outside world (the
 * stream, the model). The message is ready to print. Misuse of the API throws
 * `TypeError`/`RangeError`; a malformed datagram is never an error (it is dropped and counted).
 */
export class SessionError extends Error {
  override readonly name = "SessionError";
  /** Machine-readable reason. */
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link SessionError} (also across bundle copies of this package). */
export function isSessionError(value: unknown): value is SessionError {
  return (
    value instanceof SessionError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "SessionError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
