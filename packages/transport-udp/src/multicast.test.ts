import { afterEach, describe, expect, test } from "vitest";
import { canBind, packetOf, waitFor } from "../test/helpers.js";
import { isTransportError, type TransportError } from "./errors.js";
import { UdpReceiver } from "./udp-receiver.js";
import { UdpSender } from "./udp-sender.js";
import { UdpTransport } from "./udp-transport.js";

// Multicast over loopback needs the kernel's consent (a multicast-capable interface, a route
// for the group). Where it refuses with one of these, the test says so and skips; any other
// failure fails the test.
const REFUSALS = new Set(["ENODEV", "EADDRNOTAVAIL", "ENETUNREACH", "EINVAL", "ENOPROTOOPT", "EPERM", "EHOSTUNREACH"]);

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

interface Case {
  name: string;
  group: string;
  iface: string;
  available: boolean;
}
const cases: Case[] = [
  { name: "IPv4 239.255.77.1 on 127.0.0.1", group: "239.255.77.1", iface: "127.0.0.1", available: true },
  { name: "IPv6 ff15::7701 on lo", group: "ff15::7701", iface: "::%lo", available: await canBind("udp6", "::1") },
];

function refusal(error: unknown): string | undefined {
  if (isTransportError(error) && error.systemCode !== undefined && REFUSALS.has(error.systemCode)) {
    return `${error.code} ${error.systemCode}`;
  }
  return undefined;
}

describe.each(cases)("multicast, $name", ({ name, group, iface, available }) => {
  test.skipIf(!available)("two receivers of the group both get what the sender sends", async (ctx) => {
    const receivers: UdpReceiver[] = [];
    let sender: UdpSender;
    try {
      const first = await UdpReceiver.bind({ port: 0, multicastGroup: group, multicastInterface: iface, reuseAddr: true });
      open.push(first);
      receivers.push(first);
      const second = await UdpReceiver.bind({
        port: first.port,
        multicastGroup: group,
        multicastInterface: iface,
        reuseAddr: true,
      });
      open.push(second);
      receivers.push(second);
      sender = await UdpSender.open({
        address: group,
        port: first.port,
        multicastInterface: iface,
        multicastTtl: 1,
        multicastLoopback: true,
        pacing: "none",
      });
      open.push(sender);
      expect(sender.multicast).toBe(true);
      expect(first.multicastGroup).toBe(group);
      await sender.sendFrame([packetOf(1)], 20);
    } catch (error) {
      const why = refusal(error);
      if (why === undefined) throw error;
      console.warn(`transport-udp: multicast ${name} refused by the kernel (${why}): skipped`);
      ctx.skip();
      return;
    }
    // The kernel may still drop the looped-back copy silently (no multicast route on lo): a
    // short probe tells that apart from a bug only by what arrives, so send a few and wait.
    const errors: TransportError[] = [];
    for (let seq = 2; seq <= 5; seq++) await sender.sendFrame([packetOf(seq)], 20).catch((e: TransportError) => errors.push(e));
    const why = errors.map(refusal).find((w) => w !== undefined);
    if (why !== undefined) {
      console.warn(`transport-udp: multicast ${name} send refused by the kernel (${why}): skipped`);
      ctx.skip();
      return;
    }
    expect(errors).toEqual([]);
    await waitFor(() => receivers.every((r) => r.stats.delivered === 5), 2_000, "5 datagrams at each receiver");
    for (const receiver of receivers) {
      const seqs: number[] = [];
      for await (const d of receiver) {
        seqs.push(d.header.seqNum);
        if (seqs.length === 5) break;
      }
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
    }
  });
});

test("joining a group on an interface address that is not local is refused with multicast-failed", async () => {
  const error = await UdpReceiver.bind({ port: 0, multicastGroup: "239.255.77.2", multicastInterface: "192.0.2.123" }).catch(
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: "TransportError", code: "multicast-failed" });
  expect((error as TransportError).systemCode).toMatch(/^E[A-Z]+$/);
});

test("UdpTransport: three members of 239.255.77.3 on 127.0.0.1 (one port) each get what a UdpTransport sends to the group", async (ctx) => {
  const group = "239.255.77.3";
  const iface = "127.0.0.1";
  const members: UdpTransport[] = [];
  let sender: UdpTransport;
  try {
    for (let i = 0; i < 3; i++) {
      const member = await UdpTransport.open({ port: members[0]?.port ?? 0, multicastGroup: group, multicastInterface: iface, reuseAddr: true });
      open.push(member);
      members.push(member);
    }
    sender = await UdpTransport.open({ remote: { address: group, port: members[0]!.port }, multicastInterface: iface, multicastTtl: 1 });
    open.push(sender);
    for (let seq = 1; seq <= 3; seq++) await sender.send([packetOf(seq)]);
  } catch (error) {
    const why = refusal(error);
    if (why === undefined) throw error;
    console.warn(`transport-udp: UdpTransport multicast refused by the kernel (${why}): skipped`);
    ctx.skip();
    return;
  }
  await waitFor(() => members.every((m) => m.stats.datagramsReceived === 3), 2_000, "3 datagrams at each member");
  for (const member of members) {
    const received: number[] = [];
    for await (const d of member) {
      received.push(d.bytes.length);
      if (received.length === 3) break;
    }
    expect(received).toEqual([packetOf(1).length, packetOf(2).length, packetOf(3).length]);
  }
});

test("UdpTransport: a multicastGroup that is not a multicast address is a RangeError naming it", async () => {
  await expect(UdpTransport.open({ port: 0, multicastGroup: "10.0.0.1" })).rejects.toThrow(/^multicastGroup must be a multicast address, got "10\.0\.0\.1"$/);
});
