import { expect } from "vitest";
import { CodecError, isCodecError } from "../../src/errors.js";

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

/** Await `p`, expect it to reject with a CodecError instance (failing the test otherwise) and return that error. */
export async function codecRejection(p: Promise<unknown>): Promise<CodecError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CodecError);
  return e as CodecError;
}
