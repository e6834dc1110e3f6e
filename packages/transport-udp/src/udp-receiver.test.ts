import { decodePacket, isPacketError, splitIntoFragments, type PacketError } from "@encstream/packet";
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { canBind, packetOf, waitFor } from "../test/helpers.js";
import { UdpReceiver, type ReceivedDatagram, type UdpReceiverOptions } from "./udp-receiver.js";
import { UdpSender } from "./udp-sender.js";

const hasIpv6Loopback = await canBind("udp6", "::1");
if (!hasIpv6Loopback) console.warn("transport-udp: no IPv6 loopback (::1) on this host: IPv6 tests skipped");

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function bind(options: UdpReceiverOptions): Promise<UdpReceiver> {
  const receiver = await UdpReceiver.bind(options);
  open.push(receiver);
  return receiver;
}
async function unpacedSenderTo(address: string, port: number): Promise<UdpSender> {
  const sender = await UdpSender.open({ address, port, pacing: "none" });
  open.push(sender);
  return sender;
}

// Datagrams that decodePacket rejects, or that announce more than maxMessageBytes.
// prettier-ignore
const SHORT = Uint8Array.from([
  0x00, 0x00, 0x00, 0x01, // seq_num = 1
  0x00, 0x00, 0x00, 0x04, // total_length = 4, then the header stops at 8 of 24 bytes
]);
// prettier-ignore
const HUGE_SINGLE = Uint8Array.from([
  0x00, 0x00, 0x00, 0x02, // seq_num = 2
  0xff, 0xff, 0xff, 0xff, // total_length = 4 294 967 295, but a single fragment of 4 bytes
  0x00, 0x00, 0x00, 0x00, // has_overlap = 0
  0x00, 0x00, 0x00, 0x02, // frag_id = 2
  0x00, 0x00, 0x00, 0x01, // total_frags = 1
  0x00, 0x00, 0x00, 0x00, // frag_index = 0
  0xde, 0xad, 0xbe, 0xef, // payload (4 bytes)
]);
// prettier-ignore
const HUGE_SPLIT = Uint8Array.from([
  0x00, 0x00, 0x00, 0x03, // seq_num = 3
  0xff, 0xff, 0xff, 0xf0, // total_length = 4 294 967 280: decodePacket accepts it for a split
  0x00, 0x00, 0x00, 0x00, // has_overlap = 0                message; maxMessageBytes does not
  0x00, 0x00, 0x00, 0x03, // frag_id = 3
  0x00, 0x00, 0x00, 0x02, // total_frags = 2
  0x00, 0x00, 0x00, 0x00, // frag_index = 0
  0x01, 0x02, 0x03, 0x04, // payload (4 bytes)
]);
// prettier-ignore
const BAD_OVERLAP = Uint8Array.from([
  0x00, 0x00, 0x00, 0x04, // seq_num = 4
  0x00, 0x00, 0x00, 0x01, // total_length = 1
  0x00, 0x00, 0x00, 0x02, // has_overlap = 2: only 0 and 1 are allowed
  0x00, 0x00, 0x00, 0x04, // frag_id = 4
  0x00, 0x00, 0x00, 0x01, // total_frags = 1
  0x00, 0x00, 0x00, 0x00, // frag_index = 0
  0x09,                   // payload (1 byte)
]);

describe.each([
  ["IPv4", "127.0.0.1", true],
  ["IPv6", "::1", hasIpv6Loopback],
])("UdpReceiver on %s loopback", (_name, address, available) => {
  test.skipIf(!available)("binds an ephemeral port and delivers decoded datagrams with their origin", async () => {
    const receiver = await bind({ address, port: 0 });
    expect(receiver.port).toBeGreaterThan(0);
    expect(receiver.address).toBe(address);
    expect(receiver.family).toBe(address.includes(":") ? "ipv6" : "ipv4");
    const sender = await unpacedSenderTo(address, receiver.port);
    const before = performance.now();
    const frame = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    await sender.sendFrame(splitIntoFragments(frame, { seq: 41, fragId: 9, hasOverlap: true }), 20);

    const got: ReceivedDatagram[] = [];
    for await (const d of receiver) {
      got.push(d);
      if (got.length === 2) break;
    }
    expect(receiver.closed).toBe(true); // leaving the loop closed it
    expect(got.map((d) => d.header)).toEqual([
      { seqNum: 41, totalLength: 300, hasOverlap: true, fragId: 9, totalFrags: 2, fragIndex: 0 },
      { seqNum: 41, totalLength: 300, hasOverlap: true, fragId: 9, totalFrags: 2, fragIndex: 1 },
    ]);
    expect([...got[0]!.payload, ...got[1]!.payload]).toEqual([...frame]);
    for (const d of got) {
      expect(d.remoteAddress).toBe(address);
      expect(d.remotePort).toBe(sender.localPort);
      expect(d.receivedAtMs).toBeGreaterThanOrEqual(before);
      expect(d.bytes.length).toBe(24 + d.payload.length);
      expect(Object.getPrototypeOf(d.bytes)).toBe(Uint8Array.prototype);
      expect(d.payload.buffer).toBe(d.bytes.buffer); // a view, not a copy
    }
    expect(receiver.stats).toMatchObject({ datagramsReceived: 2, bytesReceived: 348, delivered: 2, malformed: 0 });
  });

  test.skipIf(!available)("counts malformed datagrams, never delivers them, and keeps delivering valid ones", async () => {
    const rejected: string[] = [];
    const receiver = await bind({
      address,
      port: 0,
      onMalformed: (error: PacketError, bytes) => rejected.push(`${error.code}:${bytes.length}`),
    });
    const sender = await unpacedSenderTo(address, receiver.port);
    // Seeded random datagrams, 0..300 bytes; which of them are malformed is decided by decodePacket.
    const randoms = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), { seed: 20_240_611, numRuns: 200 });
    const randomRejects = randoms.filter((bytes) => {
      try {
        decodePacket(bytes);
        return false;
      } catch (error) {
        return isPacketError(error);
      }
    }).length;
    expect(randomRejects).toBeGreaterThan(190);
    let seq = 0;
    let sent = 0;
    const bad = [SHORT, HUGE_SINGLE, HUGE_SPLIT, BAD_OVERLAP, new Uint8Array(0), ...randoms];
    for (const datagram of bad) {
      await sender.send(datagram);
      sent += 1;
      if (sent % 10 === 0) await sender.send(packetOf(seq++)); // valid ones in between
    }
    const validSent = seq;
    const expectedMalformed = 5 + randomRejects;
    await waitFor(
      () => receiver.stats.datagramsReceived === bad.length + validSent,
      5_000,
      `${bad.length + validSent} datagrams`,
    );
    expect(receiver.stats).toMatchObject({
      malformed: expectedMalformed,
      delivered: bad.length + validSent - expectedMalformed,
      dropped: 0,
    });
    expect(rejected.slice(0, 5)).toEqual(["truncated:8", "bad-length:28", "too-large:28", "bad-field:25", "truncated:0"]);
    expect(rejected).toHaveLength(expectedMalformed);

    const seqs: number[] = [];
    for await (const d of receiver) {
      expect(() => decodePacket(d.bytes)).not.toThrow();
      if (d.bytes.length === 32 && d.header.totalLength === 8) seqs.push(d.header.seqNum);
      if (receiver.stats.queued === 0) break;
    }
    expect(seqs).toEqual(Array.from({ length: validSent }, (_, i) => i));
  });
});

describe("UdpReceiver queue bound", () => {
  test.each([
    ["drop-oldest", [42, 43, 44, 45, 46, 47, 48, 49]],
    ["drop-newest", [0, 1, 2, 3, 4, 5, 6, 7]],
  ] as const)("a full queue with %s keeps %j of 50 and counts 42 dropped", async (overflow, kept) => {
    const receiver = await bind({ address: "127.0.0.1", port: 0, maxQueue: 8, overflow });
    const sender = await unpacedSenderTo("127.0.0.1", receiver.port);
    for (let seq = 0; seq < 50; seq++) await sender.send(packetOf(seq));
    await waitFor(() => receiver.stats.datagramsReceived === 50, 2_000, "50 datagrams");
    expect(receiver.stats).toMatchObject({ delivered: 50, dropped: 42, queued: 8 });
    await receiver.close();
    const seqs: number[] = [];
    for await (const d of receiver) seqs.push(d.header.seqNum); // queued ones, then done
    expect(seqs).toEqual(kept);
  });

  test("with onDatagram, nothing is queued until iteration starts", async () => {
    const seen: number[] = [];
    const receiver = await bind({ address: "127.0.0.1", port: 0, maxQueue: 4, onDatagram: (d) => seen.push(d.header.seqNum) });
    const sender = await unpacedSenderTo("127.0.0.1", receiver.port);
    for (let seq = 0; seq < 10; seq++) await sender.send(packetOf(seq));
    await waitFor(() => seen.length === 10, 2_000, "10 callbacks");
    expect(receiver.stats).toMatchObject({ delivered: 10, dropped: 0, queued: 0 });
    const iterator = receiver[Symbol.asyncIterator]();
    await sender.send(packetOf(10));
    expect((await iterator.next()).value?.header.seqNum).toBe(10);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("UdpReceiver shutdown", () => {
  test("close() ends a waiting for-await loop cleanly", async () => {
    const receiver = await bind({ address: "127.0.0.1", port: 0 });
    const sender = await unpacedSenderTo("127.0.0.1", receiver.port);
    const loop = (async () => {
      const seqs: number[] = [];
      for await (const d of receiver) seqs.push(d.header.seqNum);
      return seqs;
    })();
    await sender.send(packetOf(1));
    await waitFor(() => receiver.stats.delivered === 1, 2_000, "1 datagram");
    await receiver.close();
    expect(await loop).toEqual([1]);
    expect(receiver.closed).toBe(true);
    await receiver.close(); // idempotent
    const next = await receiver[Symbol.asyncIterator]().next();
    expect(next.done).toBe(true);
  });

  test("aborting the signal closes the receiver and ends iteration", async () => {
    const controller = new AbortController();
    const receiver = await bind({ address: "127.0.0.1", port: 0, signal: controller.signal });
    const loop = (async () => {
      let n = 0;
      for await (const _ of receiver) n += 1;
      return n;
    })();
    setTimeout(() => controller.abort(), 20);
    expect(await loop).toBe(0);
    expect(receiver.closed).toBe(true);
  });

  test('an already aborted signal rejects bind with "aborted"', async () => {
    const reason = new Error("stop");
    const error = await UdpReceiver.bind({ port: 0, signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TransportError", code: "aborted", cause: reason });
  });

  test('binding a port in use rejects with "bind-failed" EADDRINUSE', async () => {
    const first = await bind({ address: "127.0.0.1", port: 0 });
    const error = await UdpReceiver.bind({ address: "127.0.0.1", port: first.port }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "bind-failed", systemCode: "EADDRINUSE" });
  });

  test("reuseAddr lets two receivers share a port", async () => {
    const first = await bind({ address: "127.0.0.1", port: 0, reuseAddr: true });
    const second = await bind({ address: "127.0.0.1", port: first.port, reuseAddr: true });
    expect(second.port).toBe(first.port);
  });
});

describe("UdpReceiver option checks name the parameter", () => {
  test.each([
    ["port -1", { port: -1 }, RangeError, /^port must be an integer in \[0, 65535\], got -1/],
    ["port 70000", { port: 70_000 }, RangeError, /^port must be/],
    ["a missing port", {}, TypeError, /^port must be a number, got undefined/],
    ["a host name", { port: 0, address: "example.org" }, RangeError, /^address must be an IPv4 or IPv6/],
    ["a family that disagrees", { port: 0, address: "::1", family: "ipv4" }, RangeError, /^address must be an ipv4/],
    ["a unicast multicastGroup", { port: 0, multicastGroup: "10.0.0.1" }, RangeError, /^multicastGroup must be a multicast/],
    ["a group of the other family", { port: 0, address: "0.0.0.0", multicastGroup: "ff02::1" }, RangeError, /^multicastGroup must be an ipv4/],
    ["maxQueue 0", { port: 0, maxQueue: 0 }, RangeError, /^maxQueue must be an integer in \[1, 1048576\]/],
    ["an unknown overflow", { port: 0, overflow: "drop-all" }, RangeError, /^overflow must be "drop-oldest" or "drop-newest"/],
    ["reuseAddr as a string", { port: 0, reuseAddr: "yes" }, TypeError, /^reuseAddr must be a boolean/],
    ["maxMessageBytes -1", { port: 0, maxMessageBytes: -1 }, RangeError, /^maxMessageBytes must be/],
    ["onDatagram not a function", { port: 0, onDatagram: 1 }, TypeError, /^onDatagram must be a function/],
    ["signal not an AbortSignal", { port: 0, signal: {} }, TypeError, /^signal must be an AbortSignal/],
  ])("%s", async (_name, options, type, message) => {
    const error = await UdpReceiver.bind(options as unknown as UdpReceiverOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });
});
