/**
 * Argument checks shared by the audio helpers. Misuse throws `TypeError`/`RangeError` with the
 * parameter's name first, as the house style asks.
 */

/** Throws unless `value` is an integer in `[min, max]`. */
export function checkIntegerInRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Throws unless `planar` holds exactly `channels` `Float32Array`s of one length; returns that
 * length (frames).
 */
export function checkPlanar(name: string, planar: readonly Float32Array[], channels: number): number {
  if (!Array.isArray(planar)) throw new TypeError(`${name} must be an array of Float32Array (one per channel)`);
  if (planar.length !== channels) {
    throw new RangeError(`${name} must have ${channels} channel(s), got ${planar.length}`);
  }
  const frames = (planar[0] as Float32Array | undefined)?.length ?? 0;
  planar.forEach((channel, index) => {
    if (!(channel instanceof Float32Array)) throw new TypeError(`${name}[${index}] must be a Float32Array`);
    if (channel.length !== frames) {
      throw new RangeError(`${name}[${index}] must have ${frames} samples like ${name}[0], got ${channel.length}`);
    }
  });
  return frames;
}
