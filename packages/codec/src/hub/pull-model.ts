import { stat } from "node:fs/promises";
import path from "node:path";
import { defaultCacheDir } from "../node/cache-dir.js";
import { downloadFile, type DownloadProgress } from "./download-file.js";

/** The Hugging Face Hub. */
export const DEFAULT_HUB_URL = "https://huggingface.co";
/** Files of a model in the Hugging Face layout. */
export const DEFAULT_MODEL_FILES: readonly string[] = ["config.json", "model.safetensors"];

/** Progress of {@link pullModel}: the file being downloaded and its bytes. */
export interface PullProgress extends DownloadProgress {
  /** The file name within the repository (`model.safetensors`). */
  readonly file: string;
}

/** Options for {@link pullModel}. */
export interface PullModelOptions {
  /**
   * Hub base URL; files are fetched from `${baseUrl}/${repoId}/resolve/${revision}/${file}`.
   * @default process.env.ENCSTREAM_HUB_URL, else "https://huggingface.co"
   */
  baseUrl?: string;
  /**
   * Branch, tag or commit.
   * @default "main"
   */
  revision?: string;
  /**
   * Where models are kept: `<cacheDir>/<owner>--<name>/<revision>/<file>`.
   * @default defaultCacheDir()/models
   */
  cacheDir?: string;
  /**
   * Files to fetch.
   * @default ["config.json", "model.safetensors"]
   */
  files?: readonly string[];
  /**
   * Expected SHA-256 (full or ≥ 8-digit prefix) by file name, checked besides the Hub's own.
   * @default {}
   */
  sha256?: Readonly<Record<string, string>>;
  /**
   * Download again even when the file is already in the cache.
   * @default false
   */
  force?: boolean;
  /**
   * Resumes per file within this call after a dropped connection (see `downloadFile`).
   * @default 2
   */
  retries?: number;
  /**
   * Called as bytes arrive, per file, with `receivedBytes` never decreasing within a file.
   * @default undefined
   */
  onProgress?: (progress: PullProgress) => void;
  /**
   * Cancels the pull; partial files stay as `.part` for the next pull to resume.
   * @default undefined
   */
  signal?: AbortSignal;
}

/** Where {@link pullModel} put the model. */
export interface PulledModel {
  /** The model folder, ready for `loadModelFiles`. */
  readonly dir: string;
  /** Absolute path of each requested file, in the order asked. */
  readonly files: readonly string[];
  /** The files actually downloaded by this call (the others were already cached). */
  readonly downloaded: readonly string[];
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const FILE_NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * Download a model repository's files from the Hugging Face Hub (or a mirror) into the cache
 * (Node only). Files already in the cache are not fetched again (unless `force`); each download
 * is resumable and verified (see `downloadFile`).
 *
 * @param repoId `owner/name`, e.g. `facebook/encodec_24khz`
 * @returns the folder and file paths
 * @throws TypeError/RangeError for a malformed `repoId`, `revision` or file name; CodecError
 *   `download-failed` / `checksum-mismatch` from the downloads
 */
export async function pullModel(repoId: string, options: PullModelOptions = {}): Promise<PulledModel> {
  if (typeof repoId !== "string" || !REPO_ID.test(repoId) || repoId.split("/").some((s) => s === "." || s === "..")) {
    throw new RangeError(`repoId must look like "owner/name", got ${JSON.stringify(repoId)}`);
  }
  const revision = options.revision ?? "main";
  if (!REVISION.test(revision) || revision.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new RangeError(`revision must be a branch, tag or commit name, got ${JSON.stringify(revision)}`);
  }
  const files = options.files ?? DEFAULT_MODEL_FILES;
  for (const f of files) {
    if (typeof f !== "string" || !FILE_NAME.test(f) || f.split("/").some((s) => s === "." || s === "..")) {
      throw new RangeError(`files must be relative names inside the repository, got ${JSON.stringify(f)}`);
    }
  }
  const baseUrl = (options.baseUrl ?? process.env.ENCSTREAM_HUB_URL ?? DEFAULT_HUB_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/i.test(baseUrl)) throw new RangeError(`baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);

  const cacheDir = options.cacheDir ?? path.join(defaultCacheDir(), "models");
  const dir = path.resolve(cacheDir, repoId.replaceAll("/", "--"), revision.replaceAll("/", "--"));
  const paths: string[] = [];
  const downloaded: string[] = [];
  for (const file of files) {
    const dest = path.join(dir, ...file.split("/"));
    paths.push(dest);
    if (!options.force && (await stat(dest).catch(() => null))?.isFile()) continue;
    const url = `${baseUrl}/${repoId}/resolve/${encodeURIComponent(revision)}/${file.split("/").map(encodeURIComponent).join("/")}`;
    const onProgress = options.onProgress;
    await downloadFile(url, dest, {
      sha256: options.sha256?.[file],
      retries: options.retries,
      signal: options.signal,
      onProgress: onProgress && ((p: DownloadProgress) => onProgress({ ...p, file })),
    });
    downloaded.push(dest);
  }
  return { dir, files: paths, downloaded };
}
