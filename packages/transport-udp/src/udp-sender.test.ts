import { createSocket } from "node:dgram";
import { splitIntoFragments } from "@encstream/packet";
import { afterEach, describe, expect, test } from "vitest";
import { canBind, closedPort, packetOf, waitFor } from "../test/helpers.js";
import { MAX_UDP_PAYLOAD_IPV4_BYTES } from "./constants.js";
import { isTransportError, type TransportError } from "./errors.js";
import { UdpReceiver } from "./udp-receiver.js";
import { UdpSender, type UdpSenderOptions } from "./udp-sender.js";

const hasIpv6Loopback = await canBind("udp6", "::1");
if (!hasIpv6Loopback) console.warn("transport-udp: no IPv6 loopback (::1) on this host: IPv6 tests skipped");

// Everything a test opens, closed after it whatever happened.
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function receiverOn(address: string): Promise<UdpReceiver> {
  const receiver = await UdpReceiver.bind({ address, port: 0 });
  open.push(receiver);
  return receiver;
}
async function senderTo(options: UdpSenderOptions): Promise<UdpSender> {
  const sender = await UdpSender.open(options);
  open.push(sender);
  return sender;
}

/** A fake monotonic clock whose sleep advances it by the time asked plus `overshootMs(ms)`. */
function fakeTime(overshootMs: (ms: number) => number = () => 0) {
  const time = { nowMs: 1_000, sleeps: [] as number[] };
  return {
    time,
    clock: () => time.nowMs,
    sleep: async (ms: number) => {
      time.sleeps.push(ms);
      time.nowMs += ms + overshootMs(ms);
    },
  };
}

describe.each([
  ["IPv4", "127.0.0.1", true],
  ["IPv6", "::1", hasIpv6Loopback],
])("UdpSender to %s loopback", (_name, address, available) => {
  test.skipIf(!available)("sends each datagram of each frame, in order, and counts them", async () => {
    const receiver = await receiverOn(address);
    const sender = await senderTo({ address, port: receiver.port, pacing: "none" });
    expect(sender.family).toBe(address.includes(":") ? "ipv6" : "ipv4");
    expect(sender.multicast).toBe(false);
    const frames = [0, 1, 2].map((seq) =>
      splitIntoFragments(new Uint8Array(450).fill(seq), { seq, fragId: 100 + seq }),
    );
    for (const frame of frames) await sender.sendFrame(frame, 20);

    const got: string[] = [];
    for await (const d of receiver) {
      got.push(`${d.header.seqNum}/${d.header.fragIndex}`);
      expect(d.remoteAddress).toBe(address);
      expect(d.remotePort).toBe(sender.localPort);
      if (got.length === 9) break;
    }
    // 450 bytes at the default 220-byte MTU: 196 + 196 + 58 payload bytes.
    expect(got).toEqual(["0/0", "0/1", "0/2", "1/0", "1/1", "1/2", "2/0", "2/1", "2/2"]);
    expect(sender.stats).toMatchObject({
      datagramsSent: 9,
      bytesSent: 3 * (450 + 3 * 24),
      framesSent: 3,
      errors: 0,
      scheduledMs: 60,
    });
  });

  test.skipIf(!available)("real-time pacing: 20 frames of 10 ms take at least 190 ms", async () => {
    const receiver = await receiverOn(address);
    const sender = await senderTo({ address, port: receiver.port });
    const t0 = performance.now();
    const sentAtMs: number[] = [];
    for (let seq = 0; seq < 20; seq++) {
      await sender.sendFrame([packetOf(seq)], 10);
      sentAtMs.push(performance.now() - t0);
    }
    // Frame k may not leave before start + 10·k ms (start ≥ t0): a lower bound only.
    for (const [k, atMs] of sentAtMs.entries()) expect(atMs).toBeGreaterThanOrEqual(10 * k);
    expect(sentAtMs[19]).toBeGreaterThanOrEqual(190);
    await waitFor(() => receiver.stats.delivered === 20, 2_000, "20 datagrams");
    expect(sender.stats.behindScheduleMs).toBeGreaterThanOrEqual(0);
  });
});

describe("UdpSender pacing with an injected clock", () => {
  test("frame k goes out at start + the durations of frames 0..k-1, without drift", async () => {
    const receiver = await receiverOn("127.0.0.1");
    // Every sleep overshoots by up to 3 ms, as timers do; a "now + duration" pacer would drift.
    let turn = 0;
    const fake = fakeTime(() => (turn++ % 4) * 1);
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port, clock: fake.clock, sleep: fake.sleep });
    const startMs = fake.time.nowMs;
    for (let seq = 0; seq < 100; seq++) {
      await sender.sendFrame([packetOf(seq)], 20);
      const dueMs = startMs + 20 * seq;
      expect(fake.time.nowMs).toBeGreaterThanOrEqual(dueMs);
      expect(fake.time.nowMs).toBeLessThanOrEqual(dueMs + 3);
    }
    expect(sender.stats.maxBehindScheduleMs).toBeLessThanOrEqual(3);
    expect(sender.stats.scheduledMs).toBe(2_000);
  });

  test("a sender that falls behind catches up without sleeping, then keeps time", async () => {
    const receiver = await receiverOn("127.0.0.1");
    const fake = fakeTime();
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port, clock: fake.clock, sleep: fake.sleep });
    const startMs = fake.time.nowMs;
    for (let seq = 0; seq < 3; seq++) await sender.sendFrame([packetOf(seq)], 10);
    expect(fake.time.sleeps).toEqual([10, 10]);
    // A 75 ms stall (the encoder was slow): frames 3..9 are due at +30..+90 ms.
    fake.time.nowMs += 75;
    const sleepsBefore = fake.time.sleeps.length;
    await sender.sendFrame([packetOf(3)], 10);
    expect(sender.stats.behindScheduleMs).toBe(75 + 20 - 30);
    for (let seq = 4; seq < 10; seq++) await sender.sendFrame([packetOf(seq)], 10);
    // At +95 ms, frames due at +30..+90 go out at once; frame 9 (+90) too; none slept.
    expect(fake.time.sleeps.length).toBe(sleepsBefore);
    expect(fake.time.nowMs).toBe(startMs + 95);
    await sender.sendFrame([packetOf(10)], 10); // due at +100: sleeps 5 ms, back on the grid
    expect(fake.time.sleeps.slice(sleepsBefore)).toEqual([5]);
    expect(fake.time.nowMs).toBe(startMs + 100);
    expect(sender.stats.maxBehindScheduleMs).toBe(65);
  });

  test("frames given without awaiting go out in call order, each on its own slot", async () => {
    const receiver = await receiverOn("127.0.0.1");
    const fake = fakeTime();
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port, clock: fake.clock, sleep: fake.sleep });
    await Promise.all([0, 1, 2, 3].map((seq) => sender.sendFrame([packetOf(seq)], 5)));
    expect(fake.time.sleeps).toEqual([5, 5, 5]);
    await waitFor(() => receiver.stats.delivered === 4, 2_000, "4 datagrams");
    const seqs: number[] = [];
    for await (const d of receiver) {
      seqs.push(d.header.seqNum);
      if (seqs.length === 4) break;
    }
    expect(seqs).toEqual([0, 1, 2, 3]);
  });

  test('pacing "none" never sleeps', async () => {
    const receiver = await receiverOn("127.0.0.1");
    const fake = fakeTime();
    const sender = await senderTo({
      address: "127.0.0.1",
      port: receiver.port,
      pacing: "none",
      clock: fake.clock,
      sleep: fake.sleep,
    });
    for (let seq = 0; seq < 10; seq++) await sender.sendFrame([packetOf(seq)], 1_000);
    expect(fake.time.sleeps).toEqual([]);
    expect(sender.stats.framesSent).toBe(10);
  });
});

describe("UdpSender errors are surfaced", () => {
  test('a datagram above maxDatagramBytes rejects with "too-large" and sends nothing of the frame', async () => {
    const receiver = await receiverOn("127.0.0.1");
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port, maxDatagramBytes: 100 });
    const error = await sender.sendFrame([packetOf(0), packetOf(1, 200)], 10).catch((e: unknown) => e);
    expect(isTransportError(error)).toBe(true);
    expect((error as TransportError).code).toBe("too-large");
    expect((error as TransportError).message).toMatch(/^datagrams\[1\] is 224 bytes/);
    expect(sender.stats).toMatchObject({ datagramsSent: 0, framesSent: 0, errors: 1, scheduledMs: 0 });
    await sender.sendFrame([packetOf(2)], 10); // the sender is still usable
    await waitFor(() => receiver.stats.delivered === 1, 2_000, "the later datagram");
  });

  test('the kernel refusing an oversize datagram (EMSGSIZE) rejects with "too-large"', async () => {
    const receiver = await receiverOn("127.0.0.1");
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port, maxDatagramBytes: 70_000 });
    const error = await sender.send(new Uint8Array(MAX_UDP_PAYLOAD_IPV4_BYTES + 1)).catch((e: unknown) => e);
    expect(isTransportError(error)).toBe(true);
    expect(error).toMatchObject({ code: "too-large", systemCode: "EMSGSIZE" });
    expect(sender.stats.errors).toBe(1);
  });

  test('"port unreachable" from a closed port reaches onError as "socket-error" ECONNREFUSED', async () => {
    const port = await closedPort("udp4", "127.0.0.1");
    const errors: TransportError[] = [];
    const sender = await senderTo({ address: "127.0.0.1", port, onError: (e) => errors.push(e) });
    for (let i = 0; i < 20 && errors.length === 0; i++) {
      await sender.send(packetOf(i));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(errors[0]).toMatchObject({ code: "socket-error", systemCode: "ECONNREFUSED" });
    expect(isTransportError(errors[0])).toBe(true);
  });

  test("without onError, the next send rejects with the kept socket error", async () => {
    const port = await closedPort("udp4", "127.0.0.1");
    const sender = await senderTo({ address: "127.0.0.1", port, pacing: "none" });
    await sender.send(packetOf(0));
    await waitFor(() => sender.stats.errors > 0, 2_000, "the ICMP answer");
    const error = await sender.sendFrame([packetOf(1)], 10).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "socket-error", systemCode: "ECONNREFUSED" });
  });

  test('after close(), sending rejects with "closed" and a frame waiting for its slot stops waiting', async () => {
    const receiver = await receiverOn("127.0.0.1");
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port });
    await sender.sendFrame([packetOf(0)], 60_000);
    const waiting = sender.sendFrame([packetOf(1)], 10); // due in 60 s
    const later = sender.sendFrame([packetOf(2)], 10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sender.close();
    expect(sender.closed).toBe(true);
    await expect(waiting).rejects.toMatchObject({ code: "closed" });
    await expect(later).rejects.toMatchObject({ code: "closed" });
    await expect(sender.send(packetOf(3))).rejects.toMatchObject({ code: "closed" });
    await sender.close(); // idempotent
    expect(sender.stats.datagramsSent).toBe(1);
  });

  test('binding to a port in use rejects with "bind-failed" EADDRINUSE', async () => {
    const receiver = await receiverOn("127.0.0.1");
    const error = await UdpSender.open({
      address: "127.0.0.1",
      port: 9,
      bindAddress: "127.0.0.1",
      bindPort: receiver.port,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TransportError", code: "bind-failed", systemCode: "EADDRINUSE" });
  });

  test('binding to an address that is not local rejects with "bind-failed"', async () => {
    const error = await UdpSender.open({ address: "127.0.0.1", port: 9, bindAddress: "192.0.2.123" }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "bind-failed", systemCode: "EADDRNOTAVAIL" });
  });
});

describe("UdpSender option checks name the parameter", () => {
  const ok = { address: "127.0.0.1", port: 5000 };
  test.each([
    ["port 0", { ...ok, port: 0 }, RangeError, /^port must be an integer in \[1, 65535\], got 0/],
    ["port 65536", { ...ok, port: 65_536 }, RangeError, /^port must be/],
    ["port 1.5", { ...ok, port: 1.5 }, RangeError, /^port must be/],
    ["port as a string", { ...ok, port: "5000" }, TypeError, /^port must be a number/],
    ["a host name", { ...ok, address: "localhost" }, RangeError, /^address must be an IPv4 or IPv6 address literal/],
    ["an address that is not a string", { ...ok, address: 127 }, TypeError, /^address must be a string/],
    ["a family that disagrees", { ...ok, family: "ipv6" }, RangeError, /^address must be an ipv6 address/],
    ["an unknown family", { ...ok, family: "ip4" }, RangeError, /^family must be "ipv4" or "ipv6"/],
    ["a bindAddress of the other family", { ...ok, bindAddress: "::1" }, RangeError, /^bindAddress must be an ipv4/],
    ["bindPort -1", { ...ok, bindPort: -1 }, RangeError, /^bindPort must be an integer in \[0, 65535\]/],
    ["multicastTtl 256", { ...ok, multicastTtl: 256 }, RangeError, /^multicastTtl must be an integer in \[0, 255\]/],
    ["multicastLoopback 1", { ...ok, multicastLoopback: 1 }, TypeError, /^multicastLoopback must be a boolean/],
    ["a bad multicastInterface", { ...ok, multicastInterface: "lo" }, RangeError, /^multicastInterface must be/],
    ["an unknown pacing", { ...ok, pacing: "fast" }, RangeError, /^pacing must be "real-time" or "none"/],
    ["maxDatagramBytes 0", { ...ok, maxDatagramBytes: 0 }, RangeError, /^maxDatagramBytes must be/],
    ["a clock that is not a function", { ...ok, clock: 5 }, TypeError, /^clock must be a function/],
  ])("%s", async (_name, options, type, message) => {
    const error = await UdpSender.open(options as unknown as UdpSenderOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });

  test("sendFrame checks its arguments synchronously", async () => {
    const receiver = await receiverOn("127.0.0.1");
    const sender = await senderTo({ address: "127.0.0.1", port: receiver.port });
    expect(() => sender.sendFrame([packetOf(0)], -1)).toThrow(/^durationMs must be a finite number >= 0, got -1/);
    expect(() => sender.sendFrame([packetOf(0)], Number.NaN)).toThrow(RangeError);
    expect(() => sender.sendFrame("x" as unknown as Uint8Array[], 10)).toThrow(/^datagrams must be an array/);
    expect(() => sender.sendFrame([[1, 2]] as unknown as Uint8Array[], 10)).toThrow(
      /^datagrams\[0\] must be a Uint8Array/,
    );
    expect(() => sender.send(Buffer.from("x").toString() as unknown as Uint8Array)).toThrow(TypeError);
    expect(sender.stats.framesSent).toBe(0);
  });
});

test("a raw dgram socket receives exactly the bytes sent (no framing added)", async () => {
  const raw = createSocket("udp4");
  const got: Buffer[] = [];
  raw.on("message", (m) => got.push(m));
  await new Promise<void>((resolve) => raw.bind(0, "127.0.0.1", () => resolve()));
  open.push({ close: () => new Promise<void>((resolve) => raw.close(() => resolve())) });
  const sender = await senderTo({ address: "127.0.0.1", port: raw.address().port });
  const bytes = Uint8Array.from([1, 2, 3, 250, 0, 7]);
  await sender.send(bytes);
  await waitFor(() => got.length === 1, 2_000, "the datagram");
  expect([...got[0]!]).toEqual([...bytes]);
});
