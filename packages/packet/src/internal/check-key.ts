import { KEY_BYTES } from "../constants.js";

/** Throws unless `key` is a 32-byte Uint8Array: a TypeError or RangeError naming `name`. */
export function checkKey(key: unknown, name = "key"): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (key.length !== KEY_BYTES) throw new RangeError(`${name} must be ${KEY_BYTES} bytes, got ${key.length}`);
}
