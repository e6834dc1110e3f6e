import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { WebSocket } from "ws";
import { loadDataChannelLibrary, type DataChannelLibrary } from "./data-channel-peer.js";
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
  while (relay.stats.pages < 2) await new Promise((r) => setTimeout(r, 10));
  relay.relay(new Uint8Array([1, 2, 3]));
  relay.relay(new Uint8Array([4]));
  while (got.some((g) => g.length < 2)) await new Promise((r) => setTimeout(r, 10));
  expect(got).toEqual([
    [[1, 2, 3], [4]],
    [[1, 2, 3], [4]],
  ]);
  expect(relay.stats).toMatchObject({ pages: 2, pagesTotal: 2, datagrams: 2, bytes: 4, dropped: 0 });
  const stats = (await (await fetch(new URL("/relay-stats.json", relay.url))).json()) as { relay: { datagrams: number } };
  expect(stats.relay.datagrams).toBe(2);
  for (const ws of pages) ws.close();
});

/** A page's WebSocket to the relay, with the text (signalling) and binary messages it got. */
async function openPage(url: string): Promise<{ ws: WebSocket; texts: unknown[]; binary: number[][]; wait: (what: () => boolean) => Promise<void> }> {
  const ws = new WebSocket(url.replace("http:", "ws:") + "ws");
  await new Promise((resolve) => ws.once("open", resolve));
  const texts: unknown[] = [];
  const binary: number[][] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => (isBinary ? binary.push([...data]) : texts.push(JSON.parse(data.toString()))));
  const wait = async (what: () => boolean): Promise<void> => {
    while (!what()) await new Promise((r) => setTimeout(r, 10));
  };
  return { ws, texts, binary, wait };
}

test("a page that asks gets a WebRTC data channel (unordered, no retransmits); its datagrams then go on it, not on the WebSocket", async () => {
  const lib = (await loadDataChannelLibrary()) as DataChannelLibrary;
  expect(lib).not.toBeInstanceOf(Error);
  const page = await openPage(relay.url);
  const before = relay.stats;
  // The page's side, played by libdatachannel too (the browser's is tested in examples/web-receiver).
  const pc = new lib.PeerConnection("test-page", { iceServers: [] });
  const onChannel: number[][] = [];
  let channelInfo: { label: string } | undefined;
  pc.onLocalDescription((sdp, type) => page.ws.send(JSON.stringify({ type: `rtc-${type}`, sdp })));
  pc.onLocalCandidate((candidate, mid) => page.ws.send(JSON.stringify({ type: "rtc-candidate", candidate, mid })));
  pc.onDataChannel((dc) => {
    channelInfo = { label: dc.getLabel() };
    dc.onMessage((m) => onChannel.push([...(m as Buffer)]));
  });
  let handled = 0;
  const handleSignals = (): void => {
    for (; handled < page.texts.length; handled++) {
      const m = page.texts[handled] as { type: string; sdp?: string; candidate?: string; mid?: string };
      if (m.type === "rtc-offer") pc.setRemoteDescription(m.sdp!, "offer");
      else if (m.type === "rtc-candidate" && pc.remoteDescription() !== null) pc.addRemoteCandidate(m.candidate!, m.mid!);
    }
  };
  const pump = setInterval(handleSignals, 5);
  try {
    page.ws.send(JSON.stringify({ type: "rtc-request" }));
    await page.wait(() => relay.stats.pagesOnDataChannel === 1);
    expect(relay.stats.dataChannelsOpened).toBe(before.dataChannelsOpened + 1);
    // Malformed or out-of-turn messages are dropped and counted, never fatal.
    page.ws.send("not json");
    page.ws.send(JSON.stringify({ type: "rtc-request" })); // a second channel on one WebSocket
    page.ws.send(JSON.stringify({ type: "rtc-answer", sdp: "v=0" })); // a second answer
    page.ws.send(JSON.stringify({ type: "rtc-candidate", candidate: 7, mid: "0" }));
    page.ws.send(new Uint8Array([1, 2, 3]));
    await page.wait(() => relay.stats.signalsDropped === before.signalsDropped + 5);
    relay.relay(new Uint8Array([9, 8, 7]));
    relay.relay(new Uint8Array([6]));
    await page.wait(() => onChannel.length === 2);
    expect(onChannel.sort((a, b) => a.length - b.length)).toEqual([[6], [9, 8, 7]]);
    expect(channelInfo).toEqual({ label: "datagrams" });
    expect(page.binary).toEqual([]); // nothing twice: not on the WebSocket
    expect(relay.stats.sentOnDataChannels).toBe(before.sentOnDataChannels + 2);
    // The page says its channel closed (an association can fail on one side only): the WebSocket
    // takes over again.
    page.ws.send(JSON.stringify({ type: "rtc-closed" }));
    await page.wait(() => relay.stats.pagesOnDataChannel === 0);
    relay.relay(new Uint8Array([5, 5]));
    await page.wait(() => page.binary.length === 1);
    expect(page.binary).toEqual([[5, 5]]);
  } finally {
    clearInterval(pump);
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
    await page.wait(() => page.texts.length === 1);
    expect(page.texts[0]).toMatchObject({ type: "rtc-unavailable", reason: expect.stringMatching(/--no-webrtc/) });
    plain.relay(new Uint8Array([1]));
    await page.wait(() => page.binary.length === 1);
    expect(plain.stats).toMatchObject({ pagesOnDataChannel: 0, dataChannelsOpened: 0, webrtcUnavailable: expect.stringMatching(/off/) });
    page.ws.close();
  } finally {
    await plain.close();
  }
});

test("a page without index.html is refused at start", async () => {
  await expect(WebRelay.open({ host: "127.0.0.1", port: 0, webRoot: dir, modelDir: dir, lmPath: null, overlapRatio: 0.25, bufferFrames: 4 })).rejects.toThrow(/index\.html/);
});
