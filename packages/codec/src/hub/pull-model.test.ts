import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { loadModelFiles } from "../node/load-model-files.js";
import { downloadFile } from "./download-file.js";
import { startHubTestServer, type HubTestServer } from "./hub-test-server.js";
import { pullModel, type PullProgress } from "./pull-model.js";
import { fixtureBytes } from "../../test/support/fixtures.js";
import { codecRejection } from "../../test/support/codec-error.js";

const files = { "config.json": fixtureBytes("tiny24/config.json"), "model.safetensors": fixtureBytes("tiny24/model.safetensors"), "lm.th": fixtureBytes("tiny24/lm.th") };
const REPO = "encstream/tiny24";
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

let hub: HubTestServer;
let cacheDir: string;
beforeAll(async () => {
  hub = await startHubTestServer(REPO, files, ["model.safetensors", "lm.th"]);
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "encstream-hub-"));
  hub.requests.length = 0;
  for (const key of Object.keys(hub.faults)) delete hub.faults[key as keyof typeof hub.faults];
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

const modelPath = (file: string): string => path.join(cacheDir, "encstream--tiny24", "main", file);
const sameBytes = async (file: string, want: Uint8Array): Promise<boolean> => sha256(new Uint8Array(await readFile(file))) === sha256(want);

describe("pullModel", () => {
  test("downloads config.json and model.safetensors through the Hub's redirect, with monotonic progress", async () => {
    const progress: PullProgress[] = [];
    const pulled = await pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, onProgress: (p) => progress.push(p) });
    expect(pulled.files).toEqual([modelPath("config.json"), modelPath("model.safetensors")]);
    expect(pulled.downloaded).toEqual(pulled.files);
    expect(await sameBytes(modelPath("config.json"), files["config.json"])).toBe(true);
    expect(await sameBytes(modelPath("model.safetensors"), files["model.safetensors"])).toBe(true);
    expect(existsSync(`${modelPath("model.safetensors")}.part`)).toBe(false);
    expect(hub.requests.map((r) => r.path)).toEqual([`/${REPO}/resolve/main/config.json`, `/${REPO}/resolve/main/model.safetensors`, "/cdn/model.safetensors"]);

    const model = progress.filter((p) => p.file === "model.safetensors");
    expect(model.length).toBeGreaterThan(2);
    for (let i = 1; i < model.length; i++) expect(model[i]!.receivedBytes).toBeGreaterThan(model[i - 1]!.receivedBytes);
    expect(model.at(-1)).toMatchObject({ receivedBytes: files["model.safetensors"].length, totalBytes: files["model.safetensors"].length });

    // The pulled folder loads as a model.
    const loaded = await loadModelFiles(pulled.dir);
    expect(loaded.configSource).toBe(modelPath("config.json"));

    // A second pull finds everything cached and asks nothing.
    hub.requests.length = 0;
    expect((await pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir })).downloaded).toEqual([]);
    expect(hub.requests).toEqual([]);
  });

  test("a dropped connection leaves a .part; the next pull resumes it with a Range request, byte-identical", async () => {
    hub.faults.drop = { afterBytes: 1_000_000, count: 1 };
    const e = await codecRejection(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, retries: 0 }));
    expect(e.code).toBe("download-failed");
    expect(e.message).toMatch(/connection lost/);
    expect(existsSync(modelPath("model.safetensors"))).toBe(false);
    const partSize = (await stat(`${modelPath("model.safetensors")}.part`)).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(files["model.safetensors"].length);

    hub.requests.length = 0;
    const progress: number[] = [];
    const pulled = await pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, onProgress: (p) => progress.push(p.receivedBytes) });
    expect(pulled.downloaded).toEqual([modelPath("model.safetensors")]); // config.json was complete
    expect(hub.requests).toEqual([
      { path: `/${REPO}/resolve/main/model.safetensors`, range: `bytes=${partSize}-` },
      { path: "/cdn/model.safetensors", range: `bytes=${partSize}-` },
    ]);
    expect(progress[0]).toBe(partSize);
    expect(await sameBytes(modelPath("model.safetensors"), files["model.safetensors"])).toBe(true);
    expect(existsSync(`${modelPath("model.safetensors")}.part`)).toBe(false);
  });

  test("within one pull, a dropped connection is resumed automatically", async () => {
    hub.faults.drop = { afterBytes: 500_000, count: 2 };
    await pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir });
    const cdn = hub.requests.filter((r) => r.path === "/cdn/model.safetensors");
    expect(cdn).toHaveLength(3);
    expect(cdn[0]!.range).toBeUndefined();
    expect(cdn[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(await sameBytes(modelPath("model.safetensors"), files["model.safetensors"])).toBe(true);
  });

  test("a server that ignores Range starts over and still gives the right file", async () => {
    hub.faults.drop = { afterBytes: 300_000, count: 1 };
    hub.faults.ignoreRange = true;
    await pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, retries: 1 });
    expect(await sameBytes(modelPath("model.safetensors"), files["model.safetensors"])).toBe(true);
  });

  test("a checksum mismatch is a CodecError and leaves nothing at the final path", async () => {
    hub.faults.wrongSha = "0".repeat(64);
    const e = await codecRejection(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir }));
    expect(e.code).toBe("checksum-mismatch");
    expect(e.message).toContain(sha256(files["model.safetensors"]));
    expect(existsSync(modelPath("model.safetensors"))).toBe(false);
    expect(existsSync(`${modelPath("model.safetensors")}.part`)).toBe(false);
    // The caller's own expectation is checked too.
    delete hub.faults.wrongSha;
    const mine = await codecRejection(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, files: ["lm.th"], sha256: { "lm.th": "deadbeef" } }));
    expect(mine.code).toBe("checksum-mismatch");
    expect(mine.message).toMatch(/deadbeef given by the caller/);
  });

  test("a size that does not match the announced one fails", async () => {
    hub.faults.wrongSize = files["model.safetensors"].length + 10;
    const e = await codecRejection(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, retries: 0 }));
    expect(e.code).toBe("download-failed");
    expect(e.message).toMatch(/x-linked-size/);
    expect(existsSync(modelPath("model.safetensors"))).toBe(false);
  });

  test("a missing file is a clear 404 error", async () => {
    const e = await codecRejection(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, files: ["nope.bin"] }));
    expect(e.code).toBe("download-failed");
    expect(e.message).toBe(`${hub.baseUrl}/${REPO}/resolve/main/nope.bin: HTTP 404 Not Found`);
    expect(existsSync(modelPath("nope.bin"))).toBe(false);
    const other = await codecRejection(pullModel("someone/else", { baseUrl: hub.baseUrl, cacheDir }));
    expect(other.message).toMatch(/404/);
  });

  test("ENCSTREAM_HUB_URL is the default base URL", async () => {
    const before = process.env.ENCSTREAM_HUB_URL;
    process.env.ENCSTREAM_HUB_URL = `${hub.baseUrl}/`;
    try {
      const pulled = await pullModel(REPO, { cacheDir, files: ["config.json"] });
      expect(pulled.downloaded).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.ENCSTREAM_HUB_URL;
      else process.env.ENCSTREAM_HUB_URL = before;
    }
  });

  test("malformed names are refused before any request", async () => {
    await expect(pullModel("../etc", { baseUrl: hub.baseUrl, cacheDir })).rejects.toThrow(/^repoId must/);
    await expect(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, revision: "../x" })).rejects.toThrow(/^revision must/);
    await expect(pullModel(REPO, { baseUrl: hub.baseUrl, cacheDir, files: ["../x"] })).rejects.toThrow(/^files must/);
    expect(hub.requests).toEqual([]);
  });
});

describe("downloadFile", () => {
  test("a generic URL with a sha256 prefix (as in the original checkpoint names)", async () => {
    const dest = path.join(cacheDir, "lm", `encodec_lm_tiny-${sha256(files["lm.th"]).slice(0, 8)}.th`);
    const url = `${hub.baseUrl}/${REPO}/resolve/main/lm.th`;
    const result = await downloadFile(url, dest, { sha256: sha256(files["lm.th"]).slice(0, 8) });
    expect(result).toEqual({ path: dest, bytes: files["lm.th"].length, sha256: sha256(files["lm.th"]), resumed: false });
    expect(await sameBytes(dest, files["lm.th"])).toBe(true);
  });

  test("an abort keeps the .part and throws the signal's reason", async () => {
    const controller = new AbortController();
    const dest = path.join(cacheDir, "model.safetensors");
    const reason = new Error("stop");
    const p = downloadFile(`${hub.baseUrl}/${REPO}/resolve/main/model.safetensors`, dest, {
      signal: controller.signal,
      onProgress: (prog) => {
        if (prog.receivedBytes > 100_000) controller.abort(reason);
      },
    });
    await expect(p).rejects.toBe(reason);
    expect(existsSync(dest)).toBe(false);
    // Resuming later completes the same file.
    const done = await downloadFile(`${hub.baseUrl}/${REPO}/resolve/main/model.safetensors`, dest);
    expect(done.resumed).toBe(true);
    expect(await sameBytes(dest, files["model.safetensors"])).toBe(true);
  });

  test("a refused connection is a download-failed CodecError", async () => {
    const e = await codecRejection(downloadFile("http://127.0.0.1:1/x", path.join(cacheDir, "x"), { retries: 0 }));
    expect(e.code).toBe("download-failed");
    expect(e.message).toMatch(/^http:\/\/127\.0\.0\.1:1\/x: request failed \(fetch failed: bad port\)/);
    // A closed port: the message gives the reason fetch keeps in its cause, not only "fetch failed".
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const refused = await codecRejection(downloadFile(`http://127.0.0.1:${port}/x`, path.join(cacheDir, "x"), { retries: 0 }));
    expect(refused.message).toBe(`http://127.0.0.1:${port}/x: request failed (fetch failed: connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  test("a failed download removes the folders it created (empty), and only those", async () => {
    const fresh = path.join(cacheDir, "fresh", "owner--name", "main");
    await codecRejection(downloadFile("http://127.0.0.1:1/x", path.join(fresh, "config.json"), { retries: 0 }));
    expect(existsSync(path.join(cacheDir, "fresh"))).toBe(false);
    expect(existsSync(cacheDir)).toBe(true);
  });

  test("misuse throws TypeError/RangeError naming the parameter", async () => {
    await expect(downloadFile("ftp://x", "a")).rejects.toThrow(/^url must/);
    await expect(downloadFile("http://x", "a", { sha256: "xyz" })).rejects.toThrow(/^sha256 must/);
    await expect(downloadFile("http://x", "a", { retries: -1 })).rejects.toThrow(/^retries must/);
  });
});
