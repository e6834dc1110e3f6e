import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { PullOptions } from "../command-options.js";
import { isCliError } from "../errors.js";
import { cachedModelDir } from "../model-loader.js";
import { captureIo } from "../../test/capture-io.js";
import { TEST_24K_WAV, TINY24_DIR } from "../../test/codec-fixtures.js";
import { makeTempDir } from "../../test/helpers.js";
import { startHubServer, type HubServer } from "../../test/hub-server.js";
import { runEncode } from "./encode.js";
import { PUBLISHED_LMS, runPull } from "./pull.js";

const dir = await makeTempDir("pull");
let hub: HubServer;
let config: Buffer;
let weights: Buffer;
beforeAll(async () => {
  config = await readFile(join(TINY24_DIR, "config.json"));
  weights = await readFile(join(TINY24_DIR, "model.safetensors"));
  const lm = await readFile(join(TINY24_DIR, "lm.th"));
  hub = await startHubServer({
    "/test/tiny24/resolve/main/config.json": config,
    "/test/tiny24/resolve/main/model.safetensors": weights,
    "/facebook/encodec_24khz/resolve/main/config.json": config,
    "/facebook/encodec_24khz/resolve/main/model.safetensors": weights,
    // Served under the published LM's name, but its bytes do not have the published checksum.
    [`/lm/${PUBLISHED_LMS["facebook/encodec_24khz"]!.file}`]: lm,
  });
});
afterAll(() => hub.close());

function pullOptions(repoId: string, cacheDir: string, overrides: Partial<PullOptions> = {}): PullOptions {
  return { repoId, baseUrl: hub.baseUrl, revision: "main", force: false, cacheDir, ...overrides };
}

describe("runPull", () => {
  test("downloads a repository into the cache with progress lines, then encode --model <repo-id> works from it", async () => {
    const cacheDir = join(dir, "cache-a");
    const { io, stdout, stderr } = captureIo();
    const result = await runPull(pullOptions("test/tiny24", cacheDir), io);
    const modelDir = cachedModelDir("test/tiny24", { cacheDir });
    expect(result.dir).toBe(modelDir);
    expect(result.downloaded).toEqual([join(modelDir, "config.json"), join(modelDir, "model.safetensors")]);
    expect(Buffer.compare(await readFile(join(modelDir, "model.safetensors")), weights)).toBe(0);
    // Not a terminal: plain lines, no bar.
    expect(stderr()).toContain("pull: downloading model.safetensors (5.0 MiB)");
    expect(stderr()).toContain("pull: model.safetensors 100%");
    expect(stdout()).toContain(`test/tiny24: downloaded 2 file(s) in ${modelDir}`);

    const again = await runPull(pullOptions("test/tiny24", cacheDir), captureIo().io);
    expect(again.downloaded).toEqual([]);

    const encoded = await runEncode(
      {
        input: TEST_24K_WAV,
        output: join(dir, "from-cache.ecdc"),
        model: { kind: "repo", repoId: "test/tiny24" },
        cacheDir,
        bandwidthKbps: 3,
        useLm: false,
        lmPath: undefined,
      },
      captureIo().io,
    );
    expect(encoded).toMatchObject({ sampleRateHz: 24_000, numCodebooks: 4, useLm: false });
  });

  test("a repository the server does not have is download-failed naming it; nothing is left in the cache", async () => {
    const cacheDir = join(dir, "cache-b");
    const error = await runPull(pullOptions("test/absent", cacheDir), captureIo().io).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("download-failed");
    expect((error as Error).message).toMatch(/^pull test\/absent: .*404/);
    await expect(readFile(join(cachedModelDir("test/absent", { cacheDir }), "config.json"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("a published model also fetches its LM ($ENCSTREAM_LM_URL without --base-url), checked against the checksum in its name", async () => {
    const cacheDir = join(dir, "cache-c");
    const previous = { lm: process.env.ENCSTREAM_LM_URL, hub: process.env.ENCSTREAM_HUB_URL };
    process.env.ENCSTREAM_LM_URL = `${hub.baseUrl}/lm`;
    process.env.ENCSTREAM_HUB_URL = hub.baseUrl;
    try {
      const error = await runPull(pullOptions("facebook/encodec_24khz", cacheDir, { baseUrl: undefined }), captureIo().io).catch((e: unknown) => e);
      expect(isCliError(error) && error.code).toBe("download-failed");
      const modelDir = cachedModelDir("facebook/encodec_24khz", { cacheDir });
      expect((error as Error).message).toContain(`the model is in ${modelDir}, but its language model could not be downloaded from ${hub.baseUrl}/lm/encodec_lm_24khz-1608e3c0.th`);
      expect((error as Error).message).toMatch(/--no-lm$/);
      expect(hub.requests).toContain("/lm/encodec_lm_24khz-1608e3c0.th");
      await expect(readFile(join(modelDir, "encodec_lm_24khz-1608e3c0.th"))).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      for (const [name, value] of [["ENCSTREAM_LM_URL", previous.lm], ["ENCSTREAM_HUB_URL", previous.hub]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
