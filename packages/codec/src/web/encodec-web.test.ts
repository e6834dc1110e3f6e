import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fixturePath, loadGoldenFixture, maxAbsDiff, planar, referenceFrame, vector } from "../../test/support/fixtures.js";
import * as ortWasm from "onnxruntime-web/wasm";
import { CacheStorageGraphCache } from "./cache-storage-graph-cache.js";
import { loadEncodec } from "./encodec-web.js";

const wasmPaths = `${path.dirname(createRequire(import.meta.url).resolve("onnxruntime-web"))}/`;
let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  // A loopback server for the tiny48 folder (no config.json under /noconfig/).
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const m = /^\/(tiny48|noconfig)\/(config\.json|model\.safetensors)$/.exec(req.url ?? "");
    if (!m || (m[1] === "noconfig" && m[2] === "config.json")) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(fixturePath(`tiny48/${m[2]}`));
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  server.keepAliveTimeout = 60_000; // the wasm loads between requests can outlast the 5 s default
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const check = async (m: Awaited<ReturnType<typeof loadEncodec>>) => {
  const f = loadGoldenFixture("tiny48");
  const out = await m.decodeSegment(referenceFrame(f, 6, 0));
  const ref = planar(vector(f, "decoded_seg0_bw6_0"));
  expect(Math.max(maxAbsDiff(out[0]!, ref[0]!), maxAbsDiff(out[1]!, ref[1]!))).toBeLessThanOrEqual(2e-4);
  await m.release();
};

describe("loadEncodec (web)", () => {
  test("from a folder URL (config.json + model.safetensors over HTTP)", async () => {
    await check(await loadEncodec({ url: `${base}/tiny48` }, { numThreads: 1, wasmPaths }));
    expect(requests).toContain("/tiny48/config.json");
  });
  test("from a URL without config.json: the config is derived from the weights", async () => {
    await check(await loadEncodec({ url: new URL(`${base}/noconfig/`) }, { numThreads: 1, wasmPaths }));
  });
  test("from .th bytes (original names) with the config object", async () => {
    const config = JSON.parse(readFileSync(fixturePath("tiny48/config.json"), "utf8")) as unknown;
    await check(await loadEncodec({ weights: new Uint8Array(readFileSync(fixturePath("tiny48/model.th"))), config }, { numThreads: 1, wasmPaths }));
  });
  test("a relative URL against baseUrl, on a runtime module the app passes", async () => {
    await check(await loadEncodec({ url: "tiny48" }, { baseUrl: `${base}/`, runtime: ortWasm, numThreads: 1, wasmPaths, graphCache: false }));
  });
  test("a relative URL with no base to resolve it against is a TypeError", async () => {
    await expect(loadEncodec({ url: "models/tiny48/" }, { wasmPaths })).rejects.toThrow(/relative.*baseUrl/);
  });
  test("bad runtime options", async () => {
    await expect(loadEncodec({ url: `${base}/tiny48` }, { flavour: "webgl" as never })).rejects.toThrow(RangeError);
    await expect(loadEncodec({ url: `${base}/tiny48` }, { runtime: {} as never })).rejects.toThrow(TypeError);
    await expect(loadEncodec({ url: `${base}/tiny48` }, { numThreads: -1 })).rejects.toThrow(RangeError);
  });
  test("CacheStorageGraphCache without the Cache API misses and drops writes, never throws", async () => {
    const cache = new CacheStorageGraphCache();
    expect(cache.available).toBe(false);
    await cache.write("k", new Uint8Array([1, 2, 3]));
    expect(await cache.read("k")).toBeUndefined();
    expect(() => new CacheStorageGraphCache({ maxEntryBytes: 0 })).toThrow(RangeError);
  });
  test("errors", async () => {
    await expect(loadEncodec({ url: `${base}/missing` }, { wasmPaths })).rejects.toMatchObject({ code: "download-failed" });
    await expect(loadEncodec({ url: `${base}/tiny48` }, { wasmPaths, maxWeightsBytes: 1000 })).rejects.toMatchObject({ code: "bad-file" });
    await expect(loadEncodec(7 as never)).rejects.toThrow(TypeError);
  });
});
