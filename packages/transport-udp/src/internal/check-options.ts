import { isIP } from "node:net";

/** An IP version: `"ipv4"` or `"ipv6"`. Re-exported as the public `IpFamily`. */
export type IpFamily = "ipv4" | "ipv6";

/** Throws unless `value` is an integer port in [min, 65535]; `min` is 0 where 0 means "any". */
export function checkPort(name: string, value: unknown, min: 0 | 1): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > 65_535) {
    throw new RangeError(`${name} must be an integer in [${min}, 65535], got ${value}`);
  }
  return value;
}

/**
 * Throws unless `value` is an IPv4 or IPv6 address literal (host names are not resolved; an
 * IPv6 literal may carry a `%scope`); returns its family.
 */
export function checkAddress(name: string, value: unknown): IpFamily {
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${typeof value}`);
  const version = isIP(value);
  if (version === 4) return "ipv4";
  if (version === 6) return "ipv6";
  throw new RangeError(`${name} must be an IPv4 or IPv6 address literal, got ${JSON.stringify(value)}`);
}

/** Throws unless `value` is `undefined`, `"ipv4"` or `"ipv6"`. */
export function checkFamily(name: string, value: unknown): IpFamily | undefined {
  if (value === undefined || value === "ipv4" || value === "ipv6") return value;
  throw new RangeError(`${name} must be "ipv4" or "ipv6", got ${JSON.stringify(value)}`);
}

/** Throws when `family` (of `name`) is not `expected`, the family the other addresses fixed. */
export function checkSameFamily(name: string, family: IpFamily, expected: IpFamily): void {
  if (family !== expected) {
    throw new RangeError(`${name} must be an ${expected} address to match the socket, got an ${family} one`);
  }
}

/** Throws unless `value` is `undefined` or an integer in [min, max]; returns it or `fallback`. */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** Throws unless `value` is `undefined` or a boolean; returns it or `fallback`. */
export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** Throws unless `value` is `undefined` or a function. */
export function checkFunction<F>(name: string, value: F | undefined): F | undefined {
  if (value === undefined || typeof value === "function") return value;
  throw new TypeError(`${name} must be a function, got ${typeof value}`);
}

/** True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address literal of `family`. */
export function isMulticastAddress(address: string, family: IpFamily): boolean {
  if (family === "ipv4") {
    const first = Number(address.slice(0, address.indexOf(".")));
    return first >= 224 && first <= 239;
  }
  return /^ff[0-9a-f]{2}:/i.test(address);
}

/** The wildcard address of `family`: `"0.0.0.0"` or `"::"`. */
export function anyAddress(family: IpFamily): string {
  return family === "ipv4" ? "0.0.0.0" : "::";
}
