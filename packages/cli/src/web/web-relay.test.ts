import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { WebSocket } from "ws";
import type { DataChannel, PeerConnection } from "node-datachannel";
import { loadDataChannelLibrary, MAX_DATA_CHANNEL_ATTEMPTS, type DataChannelLibrary } from "./data-channel-peer.js";
import { WebRelay } from "./web-relay.js";

let dir: string;
let relay: WebRelay;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "encstream-relay-"));
  for (const [name, body] of [
    ["web/index.html", "<!doctype html>page"],
    ["web/app.js", "export {}"],
    ["model/config.json", "{}"],
    ["model/model.safetensors", "weights"],
    ["model/secret.txt", "not served"],
    ["lm.th", "lm bytes"],
  ] as const) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), body);
  }
  relay = await WebRelay.open({
    host: "127.0.0.1",
    port: 0,
    webRoot: path.join(dir, "web"),
    modelDir: path.join(dir, "model"),
    lmPath: path.join(dir, "lm.th"),
    overlapRatio: 0.25,
    bufferFrames: 4,
  });
});
afterAll(async () => {
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

test("serves the page, the model's files only, /receiver.json, with COOP/COEP", async () => {
  const get = (p: string) => fetch(new URL(p, relay.url));
  const page = await get("/");
  expect(page.status).toBe(200);
  expect(page.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
  expect(page.headers.get("cross-origin-opener-policy")).toBe("same-origin");
  expect(await page.text()).toBe("<!doctype html>page");
  expect((await get("/app.js")).headers.get("content-type")).toMatch(/javascript/);
  expect(await (await get("/model/model.safetensors")).text()).toBe("weights");
  expect(await (await get("/model/lm.th")).text()).toBe("lm bytes");
  for (const p of ["/model/secret.txt", "/missing.js", "/../model/secret.txt", "/%2e%2e/lm.th"]) expect((await get(p)).status, p).toBe(404);
  expect(await (await get("/receiver.json")).json()).toEqual({ overlapRatio: 0.25, bufferFrames: 4, modelUrl: "model/", lmUrl: "model/lm.th", websocketPath: "ws", webrtc: true });
});

test("relays every datagram, unchanged, to every open page", async () => {
  const url = relay.url.replace("http:", "ws:") + "ws";
  const pages = [new WebSocket(url), new WebSocket(url)];
  await Promise.all(pages.map((ws) => new Promise((resolve) => ws.once("open", resolve))));
  const got = pages.map(() => [] as number[][]);
  pages.forEach((ws, i) => ws.on("message", (data: Buffer) => got[i]!.push([...data])));
  await until(() => relay.stats.pages >= 2, () => `2 pages, relay ${JSON.stringify(relay.stats)}`);
  relay.relay(new Uint8Array([1, 2, 3]));
  relay.relay(new Uint8Array([4]));
  await until(() => got.every((g) => g.length >= 2), () => `2 datagrams on each page, got ${got.map((g) => g.length).join(", ")}`);
  expect(got).toEqual([
    [[1, 2, 3], [4]],
    [[1, 2, 3], [4]],
  ]);
  expect(relay.stats).toMatchObject({ pages: 2, pagesTotal: 2, datagrams: 2, bytes: 4, dropped: 0 });
  const stats = (await (await fetch(new URL("/relay-stats.json", relay.url))).json()) as { relay: { datagrams: number } };
  expect(stats.relay.datagrams).toBe(2);
  for (const ws of pages) ws.close();
});

/** Waits for `what`, at most 20 s; a timeout says what was awaited and where things stood (a hang is then legible). */
async function until(what: () => boolean, describe: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out after 20 s waiting for ${describe()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A page's WebSocket to the relay, with the text (signalling) and binary messages it got. */
async function openPage(url: string): Promise<{ ws: WebSocket; texts: unknown[]; binary: number[][]; wait: (what: () => boolean, describe: () => string) => Promise<void> }> {
  const ws = new WebSocket(url.replace("http:", "ws:") + "ws");
  await new Promise((resolve) => ws.once("open", resolve));
  const texts: unknown[] = [];
  const binary: number[][] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => (isBinary ? binary.push([...data]) : texts.push(JSON.parse(data.toString()))));
  return { ws, texts, binary, wait: until };
}

test("a page whose data channel failed may ask again, up to MAX_DATA_CHANNEL_ATTEMPTS in all; then its requests are dropped", async () => {
  const page = await openPage(relay.url);
  const offers = (): number => page.texts.filter((t) => (t as { type: string }).type === "rtc-offer").length;
  try {
    const dropped = relay.stats.signalsDropped;
    for (let attempt = 1; attempt <= MAX_DATA_CHANNEL_ATTEMPTS; attempt++) {
      // No answer comes (as when a handshake fails): the page asks again and gets a new offer.
      page.ws.send(JSON.stringify({ type: "rtc-request" }));
      await page.wait(() => offers() >= attempt, () => `offer ${attempt}, got ${offers()}; relay ${JSON.stringify(relay.stats)}`);
    }
    expect(relay.stats.signalsDropped).toBe(dropped);
    page.ws.send(JSON.stringify({ type: "rtc-request" }));
    await page.wait(() => relay.stats.signalsDropped >= dropped + 1, () => `the request past the limit to be dropped; relay ${JSON.stringify(relay.stats)}`);
    expect(offers()).toBe(MAX_DATA_CHANNEL_ATTEMPTS);
    expect(relay.stats).toMatchObject({ pagesOnDataChannel: 0 });
    // The page is still served on its WebSocket.
    relay.relay(new Uint8Array([4, 2]));
    await page.wait(() => page.binary.length >= 1, () => "a datagram on the WebSocket");
    expect(page.binary).toEqual([[4, 2]]);
  } finally {
    page.ws.close();
  }
});

test("a page that asks gets a WebRTC data channel (unordered, no retransmits); its datagrams then go on it, not on the WebSocket", async () => {
  const lib = (await loadDataChannelLibrary()) as DataChannelLibrary;
  expect(lib).not.toBeInstanceOf(Error);
  const page = await openPage(relay.url);
  const before = relay.stats;
  // The page's side, played by libdatachannel too (the browser's is tested in examples/web-receiver).
  // A WebRTC handshake fails now and then even on loopback (libdatachannel's DTLS start, about one in
  // ten here under load): the page then asks again, as the browser page does.
  const onChannel: number[][] = [];
  let channelInfo: { label: string } | undefined;
  // Held for the whole test: a channel object that is garbage-collected closes its channel.
  let channel: DataChannel | undefined;
  const events: string[] = [];
  let attempts = 0;
  let pc!: PeerConnection;
  let handled = 0;
  const ask = (): void => {
    attempts++;
    const mine = new lib.PeerConnection(`test-page-${attempts}`, { iceServers: [] });
    pc = mine;
    handled = page.texts.length; // what the relay said before this request was for an earlier attempt
    mine.onLocalDescription((sdp, type) => page.ws.send(JSON.stringify({ type: `rtc-${type}`, sdp })));
    mine.onLocalCandidate((candidate, mid) => page.ws.send(JSON.stringify({ type: "rtc-candidate", candidate, mid })));
    mine.onStateChange((state) => {
      events.push(`attempt ${attempts}: ${state}`);
      if (state === "failed" && mine === pc && channelInfo === undefined && attempts < MAX_DATA_CHANNEL_ATTEMPTS) {
        mine.close();
        ask();
      }
    });
    mine.onDataChannel((dc) => {
      channel = dc;
      channelInfo = { label: dc.getLabel() };
      dc.onMessage((m) => onChannel.push([...(m as Buffer)]));
    });
    page.ws.send(JSON.stringify({ type: "rtc-request" }));
  };
  // The relay's signals in order; a candidate that comes before its offer waits for it.
  const handleSignals = (): void => {
    for (; handled < page.texts.length; handled++) {
      const m = page.texts[handled] as { type: string; sdp?: string; candidate?: string; mid?: string };
      if (m.type === "rtc-offer") pc.setRemoteDescription(m.sdp!, "offer");
      else if (m.type === "rtc-candidate") {
        if (pc.remoteDescription() === null) break;
        pc.addRemoteCandidate(m.candidate!, m.mid!);
      }
    }
  };
  const where = (): string =>
    `; relay ${JSON.stringify(relay.stats)}; page: ${events.join(", ")}; ` +
    `signals from the relay ${JSON.stringify(page.texts.map((t) => (t as { type: string }).type))} (${handled} handled), ${onChannel.length} on the channel`;
  const pump = setInterval(handleSignals, 5);
  try {
    ask();
    await page.wait(() => relay.stats.pagesOnDataChannel === 1, () => `the data channel to open${where()}`);
    expect(relay.stats.dataChannelsOpened).toBe(before.dataChannelsOpened + 1);
    // Malformed or out-of-turn messages are dropped and counted, never fatal (counted from here:
    // a failed attempt's late candidates may have been dropped before).
    const droppedBefore = relay.stats.signalsDropped;
    page.ws.send("not json");
    page.ws.send(JSON.stringify({ type: "rtc-request" })); // a second channel while one is open
    page.ws.send(JSON.stringify({ type: "rtc-answer", sdp: "v=0" })); // a second answer
    page.ws.send(JSON.stringify({ type: "rtc-candidate", candidate: 7, mid: "0" }));
    page.ws.send(new Uint8Array([1, 2, 3]));
    await page.wait(() => relay.stats.signalsDropped >= droppedBefore + 5, () => `5 dropped signals${where()}`);
    expect(relay.stats.signalsDropped).toBe(droppedBefore + 5);
    relay.relay(new Uint8Array([9, 8, 7]));
    relay.relay(new Uint8Array([6]));
    await page.wait(() => onChannel.length >= 2, () => `2 datagrams on the channel${where()}`);
    expect(onChannel.sort((a, b) => a.length - b.length)).toEqual([[6], [9, 8, 7]]);
    expect(channelInfo).toEqual({ label: "datagrams" });
    expect(page.binary).toEqual([]); // nothing twice: not on the WebSocket
    expect(relay.stats.sentOnDataChannels).toBe(before.sentOnDataChannels + 2);
    // The page says its channel closed (an association can fail on one side only): the WebSocket
    // takes over again.
    page.ws.send(JSON.stringify({ type: "rtc-closed" }));
    await page.wait(() => relay.stats.pagesOnDataChannel === 0, () => `the relay to leave the channel${where()}`);
    relay.relay(new Uint8Array([5, 5]));
    await page.wait(() => page.binary.length >= 1, () => `a datagram on the WebSocket${where()}`);
    expect(page.binary).toEqual([[5, 5]]);
  } finally {
    clearInterval(pump);
    channel?.close();
    pc.close();
    page.ws.close();
  }
});

test("without WebRTC (--no-webrtc) a page that asks is told so and stays on the WebSocket", async () => {
  const plain = await WebRelay.open({ host: "127.0.0.1", port: 0, webRoot: path.join(dir, "web"), modelDir: path.join(dir, "model"), lmPath: null, overlapRatio: 0.25, bufferFrames: 4, webrtc: false });
  try {
    expect(((await (await fetch(new URL("/receiver.json", plain.url))).json()) as { webrtc: boolean }).webrtc).toBe(false);
    const page = await openPage(plain.url);
    page.ws.send(JSON.stringify({ type: "rtc-request" }));
    await page.wait(() => page.texts.length >= 1, () => "the relay's answer to rtc-request");
    expect(page.texts[0]).toMatchObject({ type: "rtc-unavailable", reason: expect.stringMatching(/--no-webrtc/) });
    plain.relay(new Uint8Array([1]));
    await page.wait(() => page.binary.length >= 1, () => "a datagram on the WebSocket");
    expect(plain.stats).toMatchObject({ pagesOnDataChannel: 0, dataChannelsOpened: 0, webrtcUnavailable: expect.stringMatching(/off/) });
    page.ws.close();
  } finally {
    await plain.close();
  }
});

test("a page without index.html is refused at start", async () => {
  await expect(WebRelay.open({ host: "127.0.0.1", port: 0, webRoot: dir, modelDir: dir, lmPath: null, overlapRatio: 0.25, bufferFrames: 4 })).rejects.toThrow(/index\.html/);
});
