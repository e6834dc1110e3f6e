import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { WebSocket } from "ws";
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
  expect(await (await get("/receiver.json")).json()).toEqual({ overlapRatio: 0.25, bufferFrames: 4, modelUrl: "model/", lmUrl: "model/lm.th", websocketPath: "ws" });
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

test("a page without index.html is refused at start", async () => {
  await expect(WebRelay.open({ host: "127.0.0.1", port: 0, webRoot: dir, modelDir: dir, lmPath: null, overlapRatio: 0.25, bufferFrames: 4 })).rejects.toThrow(/index\.html/);
});
