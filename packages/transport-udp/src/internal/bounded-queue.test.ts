import { describe, expect, test } from "vitest";
import { BoundedQueue } from "./bounded-queue.js";

async function drain(queue: BoundedQueue<number>): Promise<number[]> {
  const out: number[] = [];
  for (let r = await queue.next(); !r.done; r = await queue.next()) out.push(r.value);
  return out;
}

describe("BoundedQueue", () => {
  test.each([
    // policy, pushes, outcomes of the last push, what is read after end()
    ["drop-oldest", [1, 2, 3, 4, 5], "dropped-oldest", [3, 4, 5]],
    ["drop-newest", [1, 2, 3, 4, 5], "dropped-newest", [1, 2, 3]],
    ["drop-oldest", [1, 2], "queued", [1, 2]],
  ] as const)("%s, capacity 3, pushes %j: last push %s, reads %j", async (policy, pushes, last, read) => {
    const queue = new BoundedQueue<number>(3, policy);
    const outcomes = pushes.map((n) => queue.push(n));
    expect(outcomes.at(-1)).toBe(last);
    expect(queue.length).toBe(Math.min(3, pushes.length));
    queue.end();
    expect(await drain(queue)).toEqual(read);
    expect(queue.length).toBe(0);
  });

  test("wraps around its ring many times in order", async () => {
    const queue = new BoundedQueue<number>(4, "drop-oldest");
    const read: number[] = [];
    for (let n = 0; n < 1_000; n++) {
      queue.push(n);
      if (n % 3 === 2) read.push((await queue.next()).value as number, (await queue.next()).value as number);
    }
    queue.end();
    read.push(...(await drain(queue)));
    // Never more than 4 held, so what was read is increasing and ends with the last pushes.
    expect(read).toEqual([...read].sort((a, b) => a - b));
    expect(read.slice(-4)).toEqual([996, 997, 998, 999]);
  });

  test("a waiting reader gets a push directly", async () => {
    const queue = new BoundedQueue<string>(1, "drop-newest");
    const pending = queue.next();
    expect(queue.push("a")).toBe("delivered");
    expect(await pending).toEqual({ value: "a", done: false });
  });

  test("end() resolves waiting readers with done; pushes after it are refused", async () => {
    const queue = new BoundedQueue<string>(2, "drop-oldest");
    const waiting = [queue.next(), queue.next()];
    queue.end();
    expect(await Promise.all(waiting)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    expect(queue.push("late")).toBe("dropped-newest");
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  test("end(error) delivers what is queued, rejects once, then is done", async () => {
    const queue = new BoundedQueue<number>(4, "drop-oldest");
    queue.push(1);
    const failure = new Error("socket broke");
    queue.end({ error: failure });
    queue.end(); // idempotent: the first end wins
    expect(await queue.next()).toEqual({ value: 1, done: false });
    await expect(queue.next()).rejects.toBe(failure);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  test("end(error) rejects a reader already waiting", async () => {
    const queue = new BoundedQueue<number>(4, "drop-oldest");
    const waiting = queue.next();
    queue.end({ error: new Error("x") });
    await expect(waiting).rejects.toThrow("x");
  });

  test("end with discard drops what is queued", async () => {
    const queue = new BoundedQueue<number>(4, "drop-oldest");
    queue.push(1);
    queue.push(2);
    queue.end(undefined, true);
    expect(queue.length).toBe(0);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });
});
