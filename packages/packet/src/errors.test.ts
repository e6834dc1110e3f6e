import { describe, expect, test } from "vitest";
import { isPacketError, PacketError } from "./errors.js";

describe("PacketError", () => {
  test("carries a code, a message, a name and a cause", () => {
    const cause = new Error("inner");
    const error = new PacketError("truncated", "datagram must be at least 24 bytes, got 3", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("PacketError");
    expect(error.code).toBe("truncated");
    expect(error.message).toBe("datagram must be at least 24 bytes, got 3");
    expect(error.cause).toBe(cause);
  });

  test.each([
    ["a PacketError", new PacketError("bad-field", "x"), true],
    ["a look-alike from another bundle copy", { name: "PacketError", code: "too-large", message: "x" }, true],
    ["a plain Error", new Error("x"), false],
    ["a RangeError", new RangeError("x"), false],
    ["an object named PacketError without a code", { name: "PacketError" }, false],
    ["null", null, false],
    ["a string", "PacketError", false],
  ])("isPacketError(%s) is %s", (_name, value, expected) => {
    expect(isPacketError(value)).toBe(expected);
  });
});
