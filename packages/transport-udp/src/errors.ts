/**
 * Why a transport operation failed.
 *
 * - `"bind-failed"`: the socket could not be bound (port in use, address not local, …).
 * - `"connect-failed"`: the sender's socket could not be associated with the destination.
 * - `"multicast-failed"`: joining a group or setting a multicast option was refused.
 * - `"send-failed"`: the kernel refused a datagram (no route, …).
 * - `"too-large"`: a datagram above the sender's `maxDatagramBytes` or the kernel's limit.
 * - `"socket-error"`: an error the socket reported on its own, not tied to one call (for a
 *   sender, `ECONNREFUSED` after the destination port answered "port unreachable").
 * - `"closed"`: the sender or receiver was already closed.
 * - `"aborted"`: the `signal` given to `UdpReceiver.bind` was aborted before it finished.
 */
export type TransportErrorCode =
  | "bind-failed"
  | "connect-failed"
  | "multicast-failed"
  | "send-failed"
  | "too-large"
  | "socket-error"
  | "closed"
  | "aborted";

/** Options of the {@link TransportError} constructor. */
export interface TransportErrorOptions {
  /** The underlying error, usually Node's system error. */
  cause?: unknown;
  /** The operating system's error code (`"EADDRINUSE"`, `"ECONNREFUSED"`, …) when there is one. */
  systemCode?: string;
}

/**
 * The one error class for failures of `@encstream/transport-udp` at run time (sockets, the
 * network, the kernel). Misuse of the API (a port out of range, an address that is not an IP
 * literal) throws `TypeError`/`RangeError` instead.
 */
export class TransportError extends Error {
  override readonly name = "TransportError";
  /** Machine-readable reason. */
  readonly code: TransportErrorCode;
  /** The operating system's error code (`"EADDRINUSE"`, …), or `undefined`. */
  readonly systemCode: string | undefined;

  constructor(code: TransportErrorCode, message: string, options: TransportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.systemCode = options.systemCode;
  }
}

/** True when `value` is a {@link TransportError} (also across bundle copies of this package). */
export function isTransportError(value: unknown): value is TransportError {
  return (
    value instanceof TransportError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "TransportError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
