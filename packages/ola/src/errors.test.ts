import { describe, expect, test } from "vitest";
import { OlaError, isOlaError } from "./errors.js";

describe("OlaError", () => {
  test("carries its code, name, message and cause", () => {
    const cause = new Error("decoder");
    const error = new OlaError("chunk-too-short", "too short", { cause });
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.message, error.cause]).toEqual(["OlaError", "chunk-too-short", "too short", cause]);
  });

  test.each([
    { value: new OlaError("ragged-channels", "x"), expected: true },
    // An OlaError from another copy of the package (another bundle) is recognised by shape.
    { value: Object.assign(new Error("x"), { name: "OlaError", code: "channel-mismatch" }), expected: true },
    { value: new RangeError("x"), expected: false },
    { value: { name: "OlaError" }, expected: false },
    { value: null, expected: false },
    { value: "OlaError", expected: false },
  ])("isOlaError(%o) is $expected", ({ value, expected }) => {
    expect(isOlaError(value)).toBe(expected);
  });
});
