import { describe, expect, test } from "vitest";
import { createMemoryTransportPair } from "./memory-transport.js";

describe("createMemoryTransportPair", () => {
  test("what one side sends the other receives, in order, copied, with the sender's endpoint", async () => {
    const [a, b] = createMemoryTransportPair();
    const bytes = Uint8Array.of(1, 2, 3);
    expect(await a.send([bytes, Uint8Array.of(4)])).toBe("sent");
    bytes[0] = 99; // the sender's buffer is its own again
    expect(await b.send([Uint8Array.of(7)], a.endpoint)).toBe("sent");
    await Promise.all([a.close(), b.close()]);
    const atB = [];
    for await (const d of b) atB.push(d);
    expect(atB.map((d) => [...d.bytes])).toEqual([[1, 2, 3], [4]]);
    expect(atB[0]).toMatchObject({ remoteAddress: "memory-a", remotePort: 1 });
    expect(atB[0]!.receivedAtMs).toBeGreaterThan(0);
    expect(a.stats).toMatchObject({ datagramsSent: 2, bytesSent: 4, datagramsReceived: 1, bytesReceived: 1 });
  });

  test("a closed peer refuses (a lost datagram); a full queue drops its oldest; misuse throws", async () => {
    const [a, b] = createMemoryTransportPair({ maxQueue: 2 });
    for (const x of [1, 2, 3]) await a.send([Uint8Array.of(x)]);
    expect(b.stats).toMatchObject({ datagramsReceived: 3, dropped: 1 });
    await b.close();
    const kept = [];
    for await (const d of b) kept.push(d.bytes[0]);
    expect(kept).toEqual([2, 3]);
    expect(await a.send([Uint8Array.of(4)])).toBe("refused");
    expect(a.stats.datagramsSent).toBe(3);
    await expect(a.send([Uint8Array.of(5)], { address: "elsewhere", port: 9 })).rejects.toThrow(RangeError);
    expect(() => createMemoryTransportPair({ maxQueue: 0 })).toThrow(/maxQueue/);
    await a.close();
    await expect(a.send([Uint8Array.of(6)])).rejects.toThrow(/closed/);
  });
});
