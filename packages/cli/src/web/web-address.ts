import { isIP } from "node:net";
import { InvalidArgumentError } from "commander";

/** Where `--web` listens. */
export interface WebAddress {
  readonly host: string;
  readonly port: number;
}

/** Default host of `--web PORT`: loopback only (the page's Cache API and Web Crypto need a secure context, which localhost is). */
export const DEFAULT_WEB_HOST = "127.0.0.1";

/**
 * `--web [HOST:]PORT`: `8080`, `0.0.0.0:8080`, `[::]:8080`, `localhost:8080` (IPv6 addresses in
 * brackets). Port 0 lets the OS choose.
 */
export function parseWebAddress(value: string): WebAddress {
  const text = value.trim();
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65_535) throw new InvalidArgumentError("--web must be [HOST:]PORT, e.g. 8080 or 0.0.0.0:8080 ([::1]:8080 for IPv6), port 0 to 65535.");
  let host = m[1] ?? DEFAULT_WEB_HOST;
  if (host.startsWith("[")) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw new InvalidArgumentError(`--web: ${host} is not an IPv6 address.`);
  }
  return { host, port };
}
