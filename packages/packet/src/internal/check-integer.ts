/**
 * Throws unless `value` is an integer in [`min`, `max`]: a `TypeError` for a non-number, a
 * `RangeError` otherwise, each naming the parameter first. The passing path only compares, so
 * it is cheap enough for per-packet checks.
 */
export function checkInteger(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
