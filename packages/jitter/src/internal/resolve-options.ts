import {
  DEFAULT_CAPACITY_FRAMES,
  DEFAULT_RESYNC_PACKETS,
  DEFAULT_RESYNC_THRESHOLD_CAPACITIES,
  MAX_CAPACITY_FRAMES,
  MAX_RESYNC_PACKETS,
  MAX_RESYNC_THRESHOLD_FRAMES,
} from "../constants.js";
import type { JitterBufferOptions } from "../jitter-buffer-options.js";

/** {@link JitterBufferOptions} with defaults filled in and every value checked. */
export interface ResolvedOptions {
  readonly capacity: number;
  readonly prefillFrames: number;
  readonly resyncThreshold: number;
  readonly resyncPackets: number;
  readonly frameDurationMs: number | undefined;
}

function checkInteger(name: string, value: unknown, min: number, max: number, range: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${range}, got ${value}`);
  }
  return value;
}

/**
 * Fills in defaults and validates.
 * @throws {TypeError} when `options` or one of its fields has the wrong type.
 * @throws {RangeError} when a field is out of range (the message names the field first).
 */
export function resolveOptions(options: JitterBufferOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  const capacity = checkInteger(
    "capacity",
    options.capacity ?? DEFAULT_CAPACITY_FRAMES,
    1,
    MAX_CAPACITY_FRAMES,
    `[1, ${MAX_CAPACITY_FRAMES}]`,
  );
  const prefillFrames = checkInteger(
    "prefillFrames",
    options.prefillFrames ?? Math.ceil(capacity / 2),
    1,
    capacity,
    `[1, capacity = ${capacity}]`,
  );
  const resyncThreshold = checkInteger(
    "resyncThreshold",
    options.resyncThreshold ?? Math.min(DEFAULT_RESYNC_THRESHOLD_CAPACITIES * capacity, MAX_RESYNC_THRESHOLD_FRAMES),
    capacity,
    MAX_RESYNC_THRESHOLD_FRAMES,
    `[capacity = ${capacity}, 2^30]`,
  );
  const resyncPackets = checkInteger(
    "resyncPackets",
    options.resyncPackets ?? DEFAULT_RESYNC_PACKETS,
    1,
    MAX_RESYNC_PACKETS,
    `[1, ${MAX_RESYNC_PACKETS}]`,
  );
  const frameDurationMs = options.frameDurationMs;
  if (frameDurationMs !== undefined) {
    if (typeof frameDurationMs !== "number") {
      throw new TypeError(`frameDurationMs must be a number, got ${typeof frameDurationMs}`);
    }
    if (!Number.isFinite(frameDurationMs) || frameDurationMs <= 0) {
      throw new RangeError(`frameDurationMs must be finite and > 0, got ${frameDurationMs}`);
    }
  }
  return { capacity, prefillFrames, resyncThreshold, resyncPackets, frameDurationMs };
}
