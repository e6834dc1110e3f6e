import { describe, expect, test } from "vitest";
import { TransportError, isTransportError } from "./errors.js";

describe("TransportError", () => {
  test("carries a code, a system code, a message, a name and a cause", () => {
    const cause = Object.assign(new Error("bind EADDRINUSE"), { code: "EADDRINUSE" });
    const error = new TransportError("bind-failed", "cannot bind to 127.0.0.1:5000", { cause, systemCode: "EADDRINUSE" });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("TransportError");
    expect(error.code).toBe("bind-failed");
    expect(error.systemCode).toBe("EADDRINUSE");
    expect(error.message).toBe("cannot bind to 127.0.0.1:5000");
    expect(error.cause).toBe(cause);
    expect(new TransportError("closed", "x").systemCode).toBeUndefined();
  });

  test.each([
    ["a TransportError", new TransportError("closed", "x"), true],
    ["a look-alike from another bundle copy", { name: "TransportError", code: "send-failed" }, true],
    ["a plain Error", new Error("x"), false],
    ["an object named TransportError without a code", { name: "TransportError" }, false],
    ["null", null, false],
    ["a string", "TransportError", false],
  ])("isTransportError(%s) is %s", (_name, value, expected) => {
    expect(isTransportError(value)).toBe(expected);
  });
});
