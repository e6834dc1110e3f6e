import { cp, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isCliError } from "./errors.js";
import { cachedModelDir, resolveModel, type ModelLoadProgress } from "./model-loader.js";
import { MODEL_PRESETS } from "./model-ref.js";
import { TINY24_DIR, TINY48_DIR } from "../test/codec-fixtures.js";
import { makeTempDir } from "../test/helpers.js";

const cacheDir = await makeTempDir("model-loader");

describe("resolveModel", () => {
  test("loads a model directory, finds its LM and names its .ecdc layout", async () => {
    const phases: ModelLoadProgress["phase"][] = [];
    const resolved = await resolveModel({ kind: "directory", path: TINY24_DIR }, { cacheDir, onProgress: (p) => phases.push(p.phase) });
    try {
      expect(resolved.source).toMatchObject({ kind: "directory", dir: TINY24_DIR, weightsPath: join(TINY24_DIR, "model.safetensors") });
      expect(resolved.model.sampleRateHz).toBe(24_000);
      expect(resolved.config.audioChannels).toBe(1);
      expect(resolved.ecdcModelName).toBe("encodec_24khz");
      expect(resolved.lmPath).toBe(join(TINY24_DIR, "lm.safetensors"));
      const lm = await resolved.loadLm();
      expect(lm.hyper).toMatchObject({ dim: 16, numLayers: 2, numCodebooks: 32, pastContext: 262 });
      expect(await resolved.loadLm()).toBe(lm);
      expect(phases).toEqual(["reading", "building", "ready", "reading-lm"]);
    } finally {
      await resolved.release();
    }
  });

  test("the 48 kHz layout is named encodec_48khz", async () => {
    const resolved = await resolveModel({ kind: "directory", path: TINY48_DIR }, { cacheDir });
    try {
      expect(resolved.ecdcModelName).toBe("encodec_48khz");
      expect(resolved.ecdcLayout.normalize).toBe(true);
      expect((await resolved.loadLm()).hyper.pastContext).toBe(525);
    } finally {
      await resolved.release();
    }
  });

  test("a preset not in the cache is an error that gives the pull command", async () => {
    const error = await resolveModel({ kind: "preset", preset: MODEL_PRESETS["24khz"] }, { cacheDir }).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("model-not-found");
    expect((error as Error).message).toContain(`encstream pull facebook/encodec_24khz --cache-dir ${cacheDir}`);
  });

  test("a repo id is read from the pull cache layout", async () => {
    const dir = cachedModelDir("test/tiny24", { cacheDir });
    expect(dir).toBe(join(cacheDir, "models", "test--tiny24", "main"));
    await mkdir(dir, { recursive: true });
    await cp(join(TINY24_DIR, "config.json"), join(dir, "config.json"));
    await cp(join(TINY24_DIR, "model.safetensors"), join(dir, "model.safetensors"));
    const resolved = await resolveModel({ kind: "repo", repoId: "test/tiny24" }, { cacheDir });
    try {
      expect(resolved.source).toMatchObject({ kind: "cache", repoId: "test/tiny24", dir });
      expect(resolved.lmPath).toBeNull();
      const error = await resolved.loadLm().catch((e: unknown) => e);
      expect(isCliError(error) && error.code).toBe("lm-unavailable");
      expect((error as Error).message).toMatch(/--lm PATH, or use --no-lm/);
    } finally {
      await resolved.release();
    }
    const required = await resolveModel({ kind: "repo", repoId: "test/tiny24" }, { cacheDir, requireLm: true }).catch((e: unknown) => e);
    expect(isCliError(required) && required.code).toBe("lm-unavailable");
  });

  test("--lm names another LM file; a missing one is an error", async () => {
    const resolved = await resolveModel({ kind: "directory", path: TINY24_DIR }, { cacheDir, lmPath: join(TINY24_DIR, "lm.th") });
    try {
      expect(resolved.lmPath).toBe(join(TINY24_DIR, "lm.th"));
      expect((await resolved.loadLm()).hyper.numLayers).toBe(2);
    } finally {
      await resolved.release();
    }
    const missing = await resolveModel({ kind: "directory", path: TINY24_DIR }, { cacheDir, lmPath: join(cacheDir, "nope.th") }).catch((e: unknown) => e);
    expect(isCliError(missing) && missing.code).toBe("lm-unavailable");
  });

  test("an LM file that is not a language model is bad-model, naming the file", async () => {
    const garbage = join(cacheDir, "garbage-lm.safetensors");
    await writeFile(garbage, "not a safetensors file at all");
    const resolved = await resolveModel({ kind: "directory", path: TINY24_DIR }, { cacheDir, lmPath: garbage });
    try {
      const error = await resolved.loadLm().catch((e: unknown) => e);
      expect(isCliError(error) && error.code).toBe("bad-model");
      expect((error as Error).message).toContain(garbage);
    } finally {
      await resolved.release();
    }
  });

  test("opens no session until a graph runs (the main thread of send / receive never does); then builds once and reads the graph from the cache the next time", async () => {
    const dir = join(cacheDir, "lazy-model");
    await cp(TINY24_DIR, dir, { recursive: true });
    const graphCache = join(cacheDir, "lazy-cache");
    const first = await resolveModel({ kind: "directory", path: dir }, { cacheDir: graphCache });
    try {
      // send / receive run the model in worker threads: the main thread's model must hold nothing.
      expect(first.model.graphStats).toEqual({ built: 0, fromCache: 0, buildMs: 0 });
      const audio = [new Float32Array(first.model.hopLengthSamples * 4).map((_, i) => Math.sin(i / 7) * 0.3)];
      await first.model.encode(audio, { bandwidthKbps: 6 });
      expect(first.model.graphStats.built).toBeGreaterThan(0);
    } finally {
      await first.release();
    }
    const second = await resolveModel({ kind: "directory", path: dir }, { cacheDir: graphCache });
    try {
      await second.model.encode([new Float32Array(second.model.hopLengthSamples * 4)], { bandwidthKbps: 6 });
      expect(second.model.graphStats).toMatchObject({ built: 0 });
      expect(second.model.graphStats.fromCache).toBeGreaterThan(0);
    } finally {
      await second.release();
    }
  });

  test("a missing directory and a folder without weights are errors naming the folder", async () => {
    const gone = await resolveModel({ kind: "directory", path: join(cacheDir, "absent") }, { cacheDir }).catch((e: unknown) => e);
    expect(isCliError(gone) && gone.code).toBe("model-not-found");
    const empty = join(cacheDir, "empty-model");
    await mkdir(empty);
    const error = await resolveModel({ kind: "directory", path: empty }, { cacheDir }).catch((e: unknown) => e);
    expect(isCliError(error) && error.code).toBe("bad-model");
    expect((error as Error).message).toContain(empty);
  });
});
