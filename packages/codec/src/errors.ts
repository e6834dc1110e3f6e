/** What went wrong with data that came from outside (a weights file, an `.ecdc` file, a payload). */
export type CodecErrorCode =
  | "bad-file"
  | "truncated"
  | "corrupt"
  | "unsupported"
  | "missing-tensor"
  | "unexpected-tensor"
  | "shape-mismatch"
  | "bad-config"
  | "download-failed"
  | "checksum-mismatch"
  | "lm-unavailable"
  | "lm-desync"
  /** A codec worker thread (`@encstream/codec/node` worker codecs) failed, exited or was closed. */
  | "worker-failed";

/**
 * The one error class for bad data given to `@encstream/codec` (weights, config, `.ecdc` files,
 * stream payloads, downloads). Misuse of the API throws `TypeError`/`RangeError` instead.
 */
export class CodecError extends Error {
  override readonly name = "CodecError";
  /** Machine-readable reason. */
  readonly code: CodecErrorCode;

  constructor(code: CodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link CodecError} (also across bundle copies of this package). */
export function isCodecError(value: unknown): value is CodecError {
  return (
    value instanceof CodecError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "CodecError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
