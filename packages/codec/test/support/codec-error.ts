import { expect } from "vitest";
import { isCodecError, type CodecError } from "../../src/errors.js";

/** Run `fn`, expect it to throw a CodecError (failing the test otherwise) and return that error. */
export function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(isCodecError(e), String(e)).toBe(true);
    return e as CodecError;
  }
  throw new Error("expected a CodecError");
}
