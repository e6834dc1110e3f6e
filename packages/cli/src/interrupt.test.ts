import { expect, test } from "vitest";
import { onInterrupt } from "./interrupt.js";

// The signal path itself (handler awaited, exit code 130/143) runs in a child process in
// audio/wav-writer.test.ts; here only the registration bookkeeping.
test("listens to SIGINT and SIGTERM while a handler is registered, and stops after the last is removed", () => {
  const before = { int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") };
  const offA = onInterrupt(() => undefined);
  const offB = onInterrupt(async () => undefined);
  expect(process.listenerCount("SIGINT")).toBe(before.int + 1);
  expect(process.listenerCount("SIGTERM")).toBe(before.term + 1);
  offA();
  offA();
  expect(process.listenerCount("SIGINT")).toBe(before.int + 1);
  offB();
  expect(process.listenerCount("SIGINT")).toBe(before.int);
  expect(process.listenerCount("SIGTERM")).toBe(before.term);
});

test("rejects a handler that is not a function", () => {
  expect(() => onInterrupt("close" as unknown as () => void)).toThrow(TypeError);
});
