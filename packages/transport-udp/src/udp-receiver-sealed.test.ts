import { readFileSync } from "node:fs";
import { DatagramOpener, DatagramSealer, Reassembler, splitIntoFragments, type StreamKey } from "@encstream/packet";
import { afterEach, describe, expect, test } from "vitest";
import { waitFor } from "../test/helpers.js";
import { DEFAULT_RECEIVE_BUFFER_BYTES } from "./constants.js";
import { createNodeAead } from "./node-aead.js";
import { UdpReceiver, type ReceivedDatagram } from "./udp-receiver.js";
import { UdpSender } from "./udp-sender.js";

const KEY: StreamKey = { keyId: 1, key: Uint8Array.from({ length: 32 }, (_, i) => 100 + i) };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe("UdpReceiver with sealed datagrams", () => {
  test("sealed datagrams over loopback: delivered with `sealed`, opened by a DatagramOpener; never a message without it", async () => {
    const got: ReceivedDatagram[] = [];
    const sealedReceiver = await UdpReceiver.bind({ port: 0, address: "127.0.0.1", sealed: true, onDatagram: (d) => got.push(d) });
    const reassembler = new Reassembler();
    const plainStatuses: string[] = [];
    const plainReceiver = await UdpReceiver.bind({ port: 0, address: "127.0.0.1", onDatagram: (d) => plainStatuses.push(reassembler.push(d.bytes).status) });
    open.push(sealedReceiver, plainReceiver);
    const sealer = await DatagramSealer.create({ key: KEY, aead: createNodeAead });
    const datagrams = splitIntoFragments(new Uint8Array(500).fill(7), { seq: 4, fragId: 40, mtuBytes: 190 });
    const sealed = await Promise.all(datagrams.map((d) => sealer.seal(d)));
    expect(Math.max(...sealed.map((d) => d.length))).toBeLessThanOrEqual(220);
    for (const port of [sealedReceiver.port, plainReceiver.port]) {
      const sender = await UdpSender.open({ address: "127.0.0.1", port, pacing: "none" });
      open.push(sender);
      for (const d of sealed) await sender.send(d);
    }
    await waitFor(() => got.length === sealed.length && plainReceiver.stats.datagramsReceived === sealed.length, 5_000);
    expect(got.map((d) => d.header.fragIndex)).toEqual([0, 1, 2, 3]);
    // A receiver without a key reads them as seed datagrams whose fragment sizes never fit.
    expect(plainStatuses).not.toContain("complete");
    expect(reassembler.stats.completed).toBe(0);
    const opener = await DatagramOpener.create({ keys: [KEY], aead: createNodeAead });
    for (const [i, d] of got.entries()) {
      const result = await opener.open(d.bytes);
      expect(result.status === "opened" && result.datagram).toEqual(datagrams[i]);
    }
  });

  test("the receive buffer is large by default (what the kernel grants is read back)", async () => {
    const byDefault = await UdpReceiver.bind({ port: 0, address: "127.0.0.1" });
    const small = await UdpReceiver.bind({ port: 0, address: "127.0.0.1", receiveBufferBytes: 16_384 });
    open.push(byDefault, small);
    expect(small.receiveBufferBytes).toBeGreaterThan(0);
    let rmemMax = Number.POSITIVE_INFINITY;
    try {
      rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
    } catch {
      // not Linux: the kernel's cap is unknown
    }
    const granted = Math.min(DEFAULT_RECEIVE_BUFFER_BYTES, rmemMax);
    expect(byDefault.receiveBufferBytes).toBeGreaterThanOrEqual(granted);
    if (granted > 16_384 * 2) expect(byDefault.receiveBufferBytes).toBeGreaterThan(small.receiveBufferBytes);
  });
});
