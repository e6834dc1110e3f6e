import { createSocket } from "node:dgram";
import { afterEach, describe, expect, test } from "vitest";
import { waitFor } from "../test/helpers.js";
import { isTransportError } from "./errors.js";
import { UdpTransport, type UdpTransportDatagram } from "./udp-transport.js";

/* One socket both ways, on real loopback sockets. */

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function transport(options: Parameters<typeof UdpTransport.open>[0]): Promise<UdpTransport> {
  const t = await UdpTransport.open(options);
  open.push(t);
  return t;
}

/** Collects what `t` receives until it is closed. */
function collect(t: UdpTransport): { datagrams: UdpTransportDatagram[]; done: Promise<void> } {
  const datagrams: UdpTransportDatagram[] = [];
  const done = (async () => {
    for await (const d of t) datagrams.push(d);
  })();
  return { datagrams, done };
}

describe("UdpTransport", () => {
  test("a receiver answers its sender at the source address it saw: both directions on one socket each", async () => {
    const receiver = await transport({ address: "127.0.0.1" });
    const sender = await transport({ remote: { address: "127.0.0.1", port: receiver.port } });
    const atReceiver = collect(receiver);
    const atSender = collect(sender);
    expect(await sender.send([Uint8Array.of(1, 2, 3), Uint8Array.of(4)])).toBe("sent");
    await waitFor(() => atReceiver.datagrams.length === 2);
    const first = atReceiver.datagrams[0]!;
    expect([...first.bytes]).toEqual([1, 2, 3]);
    expect(first.remoteAddress).toBe("127.0.0.1");
    expect(first.remotePort).toBe(sender.port);
    expect(first.receivedAtMs).toBeGreaterThan(0);
    // The report goes back to where the stream came from.
    expect(await receiver.send([Uint8Array.of(9, 9)], { address: first.remoteAddress, port: first.remotePort })).toBe("sent");
    await waitFor(() => atSender.datagrams.length === 1);
    expect([...atSender.datagrams[0]!.bytes]).toEqual([9, 9]);
    expect(sender.stats).toMatchObject({ datagramsSent: 2, bytesSent: 4, datagramsReceived: 1, bytesReceived: 2, refused: 0 });
    expect(receiver.stats).toMatchObject({ datagramsReceived: 2, bytesReceived: 4, datagramsSent: 1, malformed: 0, dropped: 0 });
    await Promise.all([receiver.close(), sender.close()]);
    await Promise.all([atReceiver.done, atSender.done]);
  });

  test("sending to a closed port: refused (a lost datagram), never an exception; the transport goes on", async () => {
    const gone = await UdpTransport.open({ address: "127.0.0.1" });
    const port = gone.port;
    await gone.close();
    const errors: string[] = [];
    const sender = await transport({ remote: { address: "127.0.0.1", port }, onError: (e) => errors.push(e.systemCode ?? e.code) });
    const outcomes = new Set<string>();
    for (let i = 0; i < 20 && !outcomes.has("refused") && errors.length === 0; i++) {
      outcomes.add(await sender.send([Uint8Array.of(i)]));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Linux reports the ICMP "port unreachable" on the next send or as a socket error.
    expect(outcomes.has("refused") || errors.includes("ECONNREFUSED")).toBe(true);
    expect(sender.stats.refused).toBeGreaterThanOrEqual(1);
    expect(sender.closed).toBe(false);
  });

  test("empty datagrams are counted as malformed and not delivered; a full queue drops its oldest", async () => {
    const receiver = await transport({ address: "127.0.0.1", maxQueue: 2 });
    const socket = createSocket("udp4");
    const send = (bytes: Uint8Array) => new Promise<void>((resolve, reject) => socket.send(bytes, receiver.port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
    await send(new Uint8Array(0));
    for (const b of [1, 2, 3]) await send(Uint8Array.of(b));
    await waitFor(() => receiver.stats.datagramsReceived === 4);
    socket.close();
    expect(receiver.stats).toMatchObject({ malformed: 1, dropped: 1, queued: 2 });
    await receiver.close();
    const { datagrams, done } = collect(receiver);
    await done;
    expect(datagrams.map((d) => d.bytes[0])).toEqual([2, 3]);
  });

  test("misuse throws, naming the parameter; a connected transport sends only to its peer", async () => {
    await expect(UdpTransport.open({ port: 70_000 })).rejects.toThrow(RangeError);
    await expect(UdpTransport.open({ address: "::1", remote: { address: "127.0.0.1", port: 9 } })).rejects.toThrow(/remote\.address/);
    const unconnected = await transport({ address: "127.0.0.1" });
    expect(() => unconnected.send([Uint8Array.of(1)])).toThrow(/to is required/);
    const connected = await transport({ remote: { address: "127.0.0.1", port: unconnected.port } });
    expect(() => connected.send([Uint8Array.of(1)], { address: "127.0.0.1", port: 9 })).toThrow(/connected destination/);
    await connected.close();
    const error = await connected.send([Uint8Array.of(1)]).catch((e: unknown) => e);
    expect(isTransportError(error) && error.code).toBe("closed");
    const big = await transport({ address: "127.0.0.1", maxDatagramBytes: 4 });
    const tooLarge = await big.send([new Uint8Array(5)], { address: "127.0.0.1", port: unconnected.port }).catch((e: unknown) => e);
    expect(isTransportError(tooLarge) && tooLarge.code).toBe("too-large");
    expect(big.stats.datagramsSent).toBe(0);
  });
});
