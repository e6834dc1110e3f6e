import { isIP } from "node:net";
import { InvalidArgumentError } from "commander";
import { MAX_CAPACITY_FRAMES } from "@encstream/jitter";
import type { BufferSize } from "../command-options.js";
import { MAX_BUFFER_MS } from "../constants.js";
import { BANDWIDTHS_KBPS, resolveModelRef, toRepoId, type BandwidthKbps, type ModelRef } from "../model-ref.js";

/**
 * Value parsers for commander options and arguments. Each takes the text after the flag and
 * returns the typed value, or throws commander's InvalidArgumentError with a message that names
 * the flag and what it allows (commander prefixes it with "option '--flag <x>' argument 'v' is
 * invalid.").
 */

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** An integer in `[min, max]`, written in plain decimal digits. */
export function integerIn(flag: string, min: number, max: number, unit = ""): (value: string) => number {
  return (value) => {
    const parsed = INTEGER.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}${unit}.`);
    }
    return parsed;
  };
}

/** A decimal number in `[min, max]` (no exponents, no hex). */
export function numberIn(flag: string, min: number, max: number, unit = ""): (value: string) => number {
  return (value) => {
    const parsed = DECIMAL.test(value.trim()) ? Number(value) : Number.NaN;
    if (!(parsed >= min && parsed <= max)) {
      throw new InvalidArgumentError(`${flag} must be a number from ${min} to ${max}${unit}.`);
    }
    return parsed;
  };
}

/** One of EnCodec's bandwidths; "6", "6.0" and "6kbps" all mean 6. */
export function parseBandwidth(value: string): BandwidthKbps {
  const text = value.trim().toLowerCase().replace(/\s*kbps$/, "");
  const parsed = DECIMAL.test(text) ? Number(text) : Number.NaN;
  const match = BANDWIDTHS_KBPS.find((b) => b === parsed);
  if (match === undefined) {
    throw new InvalidArgumentError(`--bandwidth must be one of ${BANDWIDTHS_KBPS.join(", ")} (kbps).`);
  }
  return match;
}

/** `send --bandwidth auto[:MIN-MAX]`: adapt K between two bandwidths (kbps), starting at the top. */
export interface AutoBandwidth {
  readonly auto: true;
  /** The lowest bandwidth, kbps, or undefined for the model's lowest. */
  readonly minKbps: BandwidthKbps | undefined;
  /** The highest, kbps (where the sender starts). */
  readonly maxKbps: BandwidthKbps;
}

/** The highest bandwidth of `--bandwidth auto` without a range: the seed's default. */
export const AUTO_DEFAULT_MAX_KBPS: BandwidthKbps = 12;

/** `send --bandwidth`: a bandwidth, or `auto` / `auto:MIN-MAX` (adaptive bitrate). */
export function parseSendBandwidth(value: string): BandwidthKbps | AutoBandwidth {
  const text = value.trim().toLowerCase();
  if (!text.startsWith("auto")) return parseBandwidth(value);
  if (text === "auto") return { auto: true, minKbps: undefined, maxKbps: AUTO_DEFAULT_MAX_KBPS };
  const m = /^auto:([0-9.]+)-([0-9.]+)$/.exec(text);
  const [lo, hi] = m === null ? [] : [BANDWIDTHS_KBPS.find((b) => b === Number(m[1])), BANDWIDTHS_KBPS.find((b) => b === Number(m[2]))];
  if (lo === undefined || hi === undefined || lo > hi) {
    throw new InvalidArgumentError(`--bandwidth auto:MIN-MAX needs MIN ≤ MAX, each one of ${BANDWIDTHS_KBPS.join(", ")} (e.g. auto:1.5-12).`);
  }
  return { auto: true, minKbps: lo, maxKbps: hi };
}

/** `--fec D[:K]`: the redundancy depth (1–8 previous units) and codebooks per frame (default 2). */
export function parseFec(value: string): { depth: number; numCodebooks: number } {
  const m = /^\s*(\d+)(?::(\d+))?\s*$/.exec(value);
  const depth = m ? Number(m[1]) : Number.NaN;
  const k = m && m[2] !== undefined ? Number(m[2]) : 2;
  if (!(depth >= 1 && depth <= 8) || !(k >= 1 && k <= 32)) throw new InvalidArgumentError("--fec must be D or D:K, D in 1–8 (previous units carried), K in 1–32 (codebooks each, default 2).");
  return { depth, numCodebooks: k };
}

/** A `--model` value (see `resolveModelRef`). */
export function parseModel(value: string): ModelRef {
  const resolved = resolveModelRef(value.trim());
  if ("problem" in resolved) throw new InvalidArgumentError(`--model: ${resolved.problem}.`);
  return resolved;
}

/** A host to send to: an IPv4 or IPv6 address, or a DNS host name. */
export function parseHost(flag: string): (value: string) => string {
  const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  const hostname = new RegExp(`^(?=.{1,253}\\.?$)${label}(?:\\.${label})*\\.?$`);
  return (value) => {
    const host = value.trim();
    if (isIP(host) === 0 && !hostname.test(host)) {
      throw new InvalidArgumentError(`${flag} must be an IPv4 or IPv6 address or a host name.`);
    }
    return host;
  };
}

/** A local address to bind to: an IPv4 or IPv6 address. */
export function parseAddress(flag: string): (value: string) => string {
  return (value) => {
    const address = value.trim();
    if (isIP(address) === 0) {
      throw new InvalidArgumentError(`${flag} must be an IPv4 or IPv6 address (0.0.0.0 or :: for all interfaces).`);
    }
    return address;
  };
}

/** A non-empty path (checked for existence by whoever opens it). */
export function parsePath(flag: string): (value: string) => string {
  return (value) => {
    if (value.trim() === "") throw new InvalidArgumentError(`${flag} must not be empty.`);
    return value;
  };
}

/** A Hugging Face repository id or preset name, mapped to the repository id. */
export function parseRepoId(value: string): string {
  const repoId = toRepoId(value.trim());
  if (repoId === undefined) {
    throw new InvalidArgumentError(`<repo-id> must be 24khz, 48khz or a Hugging Face repository id like owner/name.`);
  }
  return repoId;
}

/** An http(s) URL, returned without trailing slashes. */
export function parseBaseUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    throw new InvalidArgumentError(`--base-url must be an http:// or https:// URL without query or fragment.`);
  }
  return url.href.replace(/\/+$/, "");
}

/** A branch, tag or commit name. */
export function parseRevision(value: string): string {
  const revision = value.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(revision) || revision.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new InvalidArgumentError(`--revision must be a branch, tag or commit name.`);
  }
  return revision;
}

/**
 * `--allow-from ADDR[:PORT]`: an IPv4 address, optionally with `:port`; an IPv6 address, bare
 * or as `[addr]:port`.
 */
export function parseAllowFrom(value: string): { address: string; port: number | undefined } {
  const text = value.trim();
  const fail = (): never => {
    throw new InvalidArgumentError("--allow-from must be an IP address, optionally with a port: 192.0.2.7, 192.0.2.7:9000, ::1 or [::1]:9000.");
  };
  let address = text;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket !== null) {
    address = bracket[1]!;
    port = bracket[2];
  } else if (isIP(text) === 0) {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail();
    address = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (isIP(address) !== 4) fail();
  }
  if (isIP(address) === 0) fail();
  if (port === undefined) return { address, port: undefined };
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65_535) fail();
  return { address, port: n };
}

/**
 * A `--buffer-size`: a count of units (`24`, the seed's form) or a duration with its unit
 * (`200ms`, `1.5s`, `250 ms`).
 */
export function parseBufferSize(value: string): BufferSize {
  const text = value.trim().toLowerCase();
  const problem =
    `--buffer-size must be a duration from 1ms to ${MAX_BUFFER_MS / 1000}s (like 200ms or 1.5s) ` +
    `or a count of units (frames or chunks) from 1 to ${MAX_CAPACITY_FRAMES}.`;
  if (INTEGER.test(text)) {
    const units = Number(text);
    if (!Number.isSafeInteger(units) || units < 1 || units > MAX_CAPACITY_FRAMES) throw new InvalidArgumentError(problem);
    return { unit: "units", units };
  }
  const duration = /^(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)$/.exec(text);
  if (duration === null) throw new InvalidArgumentError(problem);
  const ms = Number(duration[1]) * (duration[2] === "s" ? 1000 : 1);
  if (!(ms >= 1 && ms <= MAX_BUFFER_MS)) throw new InvalidArgumentError(problem);
  return { unit: "ms", ms };
}
