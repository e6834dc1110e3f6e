import { TransportError, type TransportErrorCode } from "../errors.js";

/** The `code` of a Node system error (`"EADDRINUSE"`, …), or `undefined`. */
export function systemCodeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Wraps a Node error as a {@link TransportError} of `code` whose message starts with `what`;
 * `EMSGSIZE` becomes `"too-large"` whatever `code` says.
 */
export function wrapSystemError(code: TransportErrorCode, what: string, error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const systemCode = systemCodeOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  return new TransportError(systemCode === "EMSGSIZE" ? "too-large" : code, `${what}: ${detail}`, {
    cause: error,
    ...(systemCode === undefined ? {} : { systemCode }),
  });
}
