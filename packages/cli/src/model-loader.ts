import { readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
  ECDC_MODEL_LAYOUTS,
  ecdcLayoutFromConfig,
  isCodecError,
  type EcdcModelLayout,
  type EncodecConfig,
  type EncodecModel,
  type LmWeights,
} from "@encstream/codec";
import { defaultCacheDir, loadEncodec, readLmWeightsFile, resolveModelFiles, type LoadEncodecOptions } from "@encstream/codec/node";
import { CliError } from "./errors.js";
import type { ModelRef } from "./model-ref.js";

/** Language-model files looked for beside a model's weights, in this order. */
export const LM_FILE_NAMES: readonly string[] = ["lm.safetensors", "lm.th"];

/** Largest language-model file read, in bytes (the published ones are about 70 MB). */
export const MAX_LM_FILE_BYTES = 512 * 1024 * 1024;

/** An original checkpoint of a language model (`encodec_lm_24khz-1608e3c0.th`). */
const ORIGINAL_LM_FILE = /^encodec_lm_.*\.th$/;

/** The revision `encstream pull` downloads when none is given. */
export const DEFAULT_MODEL_REVISION = "main";

/** Where a resolved model's files came from. */
export type ModelSource =
  | {
      /** A Hugging Face repository downloaded into the cache by `encstream pull`. */
      readonly kind: "cache";
      /** `owner/name`. */
      readonly repoId: string;
      /** The cached folder, `<cacheDir>/models/<owner>--<name>/<revision>`. */
      readonly dir: string;
      /** The weights file read. */
      readonly weightsPath: string;
    }
  | {
      /** A folder given with `--model`. */
      readonly kind: "directory";
      /** The folder, absolute. */
      readonly dir: string;
      /** The weights file read. */
      readonly weightsPath: string;
    };

/** What {@link resolveModel} reports while it works (for a progress line). */
export interface ModelLoadProgress {
  /**
   * `"reading"`: reading and checking the weights; `"building"`: building or loading the ONNX
   * graphs (slow the first time, then read from the graph cache); `"ready"`: loaded;
   * `"reading-lm"`: reading the language model.
   */
  readonly phase: "reading" | "building" | "ready" | "reading-lm";
  /** A one-line description, ready to print. */
  readonly message: string;
}

/** Options of {@link resolveModel}. */
export interface ResolveModelOptions {
  /**
   * Cache root (`--cache-dir`): downloaded models are under `<cacheDir>/models`, built graphs
   * under `<cacheDir>/graphs`.
   * @default $ENCSTREAM_CACHE_DIR, else the platform's user cache (`~/.cache/encstream`)
   */
  readonly cacheDir?: string;
  /**
   * Called at each step of loading.
   * @default undefined
   */
  readonly onProgress?: (progress: ModelLoadProgress) => void;
  /**
   * `--lm`: the language-model file to use instead of the one beside the weights.
   * @default undefined (`lm.safetensors`, `lm.th` or `encodec_lm_*.th` beside the weights)
   */
  readonly lmPath?: string;
  /**
   * Fail now, before any audio is touched, when no language model is found (for commands that
   * will LM-code).
   * @default false
   */
  readonly requireLm?: boolean;
  /**
   * Revision of a cached Hub model.
   * @default "main"
   */
  readonly revision?: string;
  /**
   * ONNX Runtime settings passed to `loadEncodec`.
   * @default {} (one intra-op thread, graphs cached, `openGraphs: "on-first-use"`)
   */
  readonly loadOptions?: Pick<LoadEncodecOptions, "intraOpNumThreads" | "preloadBandwidthsKbps" | "cacheGraphs" | "openGraphs" | "precision">;
}

/** A loaded model, ready to encode and decode: what {@link resolveModel} returns. */
export interface ResolvedModel {
  /**
   * The model, loaded by path: its facts (config, bandwidths, lengths) are there at once, its
   * graphs are opened on first use (unless `loadOptions.openGraphs` says "eager") and its
   * weights read only when a graph is not in the cache. Call {@link ResolvedModel.release} when done.
   */
  readonly model: EncodecModel;
  /** Its parsed config. */
  readonly config: EncodecConfig;
  /** Where it came from. */
  readonly source: ModelSource;
  /**
   * The name written in (and expected from) an `.ecdc` file's `m` field: `encodec_24khz` or
   * `encodec_48khz` for the published architectures' layouts (as the reference writes it, also
   * for smaller models of the same layout), else the folder's name.
   */
  readonly ecdcModelName: string;
  /** Segment and bit layout of `.ecdc` files for this model. */
  readonly ecdcLayout: EcdcModelLayout;
  /** The language-model file that {@link ResolvedModel.loadLm} reads, or null when none was found. */
  readonly lmPath: string | null;
  /**
   * Reads the language model (once per `numCodebooks`; later calls return the same weights).
   * With `numCodebooks`, only that many codebooks' embeddings and heads are read: an offline
   * coder at one bandwidth needs no more, and it saves most of the LM's memory (8 of 32 at 6 kbps).
   * Without it, the whole model (a stream may change its bandwidth).
   *
   * @throws CliError `"lm-unavailable"` (saying how to get one, or to use `--no-lm`) when there
   *   is none, `"bad-model"` when the file is not a valid EnCodec LM for this model.
   */
  loadLm(numCodebooks?: number): Promise<LmWeights>;
  /** Frees the model's inference sessions. */
  release(): Promise<void>;
}

/**
 * Finds and loads the model a `--model` value names:
 * - a preset (`24khz`, `48khz`) or a repository id: the folder `encstream pull` fills,
 *   `<cacheDir>/models/<owner>--<name>/<revision>`; nothing is downloaded here;
 * - a directory: `config.json` + `model.safetensors`, or an original `.th` checkpoint.
 *
 * Built ONNX graphs are cached under `<cacheDir>/graphs`, keyed on the files' identity, so the
 * second load reads no weights; sessions are opened on first use, so a command that runs the
 * model elsewhere (worker threads) holds none here. The language model is looked for but only
 * read by {@link ResolvedModel.loadLm}. The weights are checked against the config when a graph
 * is built (the first load): a bad weights file then fails at the first model call.
 *
 * @throws CliError `"model-not-found"` for a model not in the cache (the message gives the
 *   `encstream pull` command that fetches it) or a missing directory; `"bad-model"` for files
 *   that cannot be read or do not fit together; `"lm-unavailable"` with `requireLm` and no LM.
 */
export async function resolveModel(ref: ModelRef, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const cacheRoot = resolve(options.cacheDir ?? defaultCacheDir());
  const progress = options.onProgress ?? (() => undefined);
  let dir: string;
  let repoId: string | undefined;
  if (ref.kind === "directory") {
    dir = resolve(ref.path);
    if (!(await isDirectory(dir))) throw new CliError("model-not-found", `model directory ${dir} does not exist`);
  } else {
    repoId = ref.kind === "preset" ? ref.preset.repoId : ref.repoId;
    dir = cachedModelDir(repoId, { cacheDir: cacheRoot, revision: options.revision });
    if (!(await hasModelFiles(dir))) throw notInCache(repoId, dir, options);
  }

  progress({ phase: "reading", message: `reading the model in ${dir}` });
  let weightsPath: string;
  let model: EncodecModel;
  try {
    ({ weightsPath } = await resolveModelFiles(dir));
    progress({ phase: "building", message: "preparing the ONNX graphs (built once, then read from the cache)" });
    // Loaded by path: the graph cache is keyed on the files' identity, so the weights are read
    // only when a graph must be built, and no copy of them is kept in JS; no session is opened
    // until a graph runs (send / receive in worker threads never open these).
    model = await loadEncodec(dir, { openGraphs: "on-first-use", ...options.loadOptions, cacheDir: cacheRoot });
  } catch (error) {
    throw asModelError(error, dir);
  }
  const { config } = model;
  const source: ModelSource =
    repoId === undefined
      ? { kind: "directory", dir, weightsPath }
      : { kind: "cache", repoId, dir, weightsPath };
  const ecdcLayout = ecdcLayoutFromConfig(config);
  const ecdcModelName = publishedLayoutName(config, ecdcLayout) ?? basename(dir);
  let lmPath: string | null;
  try {
    lmPath = options.lmPath !== undefined ? resolve(options.lmPath) : await findLmFile(dir);
    if (options.lmPath !== undefined && !(await isFile(lmPath as string))) {
      throw new CliError("lm-unavailable", `language model ${lmPath}: no such file`);
    }
    if (options.requireLm && lmPath === null) throw noLm(source, options);
  } catch (error) {
    await model.release();
    throw error;
  }
  progress({ phase: "ready", message: `model ready (${config.sampleRateHz} Hz, ${config.audioChannels} channel(s), from ${describeSource(source)})` });

  const lms = new Map<number, Promise<LmWeights>>();
  return {
    model,
    config,
    source,
    ecdcModelName,
    ecdcLayout,
    lmPath,
    loadLm: (numCodebooks?: number) => {
      const key = numCodebooks ?? 0;
      let lm = lms.get(key);
      if (lm === undefined) {
        lm = readLm(lmPath, source, model.frameRateHz, numCodebooks, options, progress);
        lms.set(key, lm);
      }
      return lm;
    },
    release: () => model.release(),
  };
}

/**
 * The cache folder of a Hub model: `<cacheDir>/models/<owner>--<name>/<revision>`, the layout
 * of the codec's `pullModel`. Nothing is checked or created.
 *
 * @param options.cacheDir the cache root. @default $ENCSTREAM_CACHE_DIR, else the user cache
 * @param options.revision @default "main"
 */
export function cachedModelDir(repoId: string, options: { readonly cacheDir?: string | undefined; readonly revision?: string | undefined } = {}): string {
  const root = resolve(options.cacheDir ?? defaultCacheDir());
  const revision = options.revision ?? DEFAULT_MODEL_REVISION;
  return join(root, "models", repoId.replaceAll("/", "--"), revision.replaceAll("/", "--"));
}

/** A one-line description of where a model came from: `facebook/encodec_24khz (cache)` or its folder. */
export function describeSource(source: ModelSource): string {
  return source.kind === "cache" ? `${source.repoId} in the cache` : source.dir;
}

function notInCache(repoId: string, dir: string, options: ResolveModelOptions): CliError {
  const flags = [
    options.revision !== undefined && options.revision !== DEFAULT_MODEL_REVISION ? ` --revision ${options.revision}` : "",
    options.cacheDir !== undefined ? ` --cache-dir ${quoteArg(options.cacheDir)}` : "",
  ].join("");
  return new CliError(
    "model-not-found",
    `model ${repoId} is not in the cache (${dir}); download it first with: encstream pull ${repoId}${flags}`,
  );
}

function noLm(source: ModelSource, options: ResolveModelOptions): CliError {
  const where = source.kind === "cache" ? `the cached model ${source.repoId}` : source.dir;
  const pull =
    source.kind === "cache"
      ? ` (\`encstream pull ${source.repoId}${options.cacheDir !== undefined ? ` --cache-dir ${quoteArg(options.cacheDir)}` : ""}\` fetches the published one for facebook's models)`
      : "";
  return new CliError(
    "lm-unavailable",
    `no language model found beside ${where} (looked for ${LM_FILE_NAMES.join(", ")}, encodec_lm_*.th)${pull}; give one with --lm PATH, or use --no-lm`,
  );
}

async function readLm(
  lmPath: string | null,
  source: ModelSource,
  frameRateHz: number,
  numCodebooks: number | undefined,
  options: ResolveModelOptions,
  progress: (p: ModelLoadProgress) => void,
): Promise<LmWeights> {
  if (lmPath === null) throw noLm(source, options);
  progress({ phase: "reading-lm", message: `reading the language model ${lmPath}` });
  try {
    // Read tensor by tensor into the memory the LM's kernels use: its weights are held once.
    return await readLmWeightsFile(lmPath, { frameRateHz, source: lmPath, maxBytes: MAX_LM_FILE_BYTES, ...(numCodebooks !== undefined ? { numCodebooks } : {}) });
  } catch (error) {
    if (error instanceof CliError || isCodecError(error) || error instanceof RangeError || error instanceof TypeError) throw asModelError(error, lmPath);
    throw new CliError("lm-unavailable", `language model ${lmPath}: cannot be read (${(error as Error).message})`, { cause: error });
  }
}

/** `encodec_24khz` / `encodec_48khz` when the config has that layout and channel count. */
function publishedLayoutName(config: EncodecConfig, layout: EcdcModelLayout): string | undefined {
  const channelsByName: Readonly<Record<string, number>> = { encodec_24khz: 1, encodec_48khz: 2 };
  for (const [name, known] of Object.entries(ECDC_MODEL_LAYOUTS)) {
    const same =
      known.sampleRateHz === layout.sampleRateHz &&
      known.frameRateHz === layout.frameRateHz &&
      known.segmentSamples === layout.segmentSamples &&
      known.strideSamples === layout.strideSamples &&
      known.bitsPerCodebook === layout.bitsPerCodebook &&
      known.normalize === layout.normalize;
    if (same && channelsByName[name] === config.audioChannels) return name;
  }
  return undefined;
}

async function findLmFile(dir: string): Promise<string | null> {
  for (const name of LM_FILE_NAMES) {
    const path = join(dir, name);
    if (await isFile(path)) return path;
  }
  const originals = (await readdir(dir).catch(() => [] as string[])).filter((n) => ORIGINAL_LM_FILE.test(n)).sort();
  return originals.length > 0 ? join(dir, originals[0] as string) : null;
}

async function hasModelFiles(dir: string): Promise<boolean> {
  if (!(await isDirectory(dir))) return false;
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.includes("model.safetensors") || names.some((n) => n.endsWith(".th") && !ORIGINAL_LM_FILE.test(n) && n !== "lm.th");
}

function asModelError(error: unknown, where: string): Error {
  if (error instanceof CliError) return error;
  if (isCodecError(error)) return new CliError("bad-model", error.message, { cause: error });
  if (error instanceof RangeError || error instanceof TypeError) {
    return new CliError("bad-model", `${where}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function quoteArg(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}
