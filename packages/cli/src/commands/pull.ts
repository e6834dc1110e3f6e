import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import { isCodecError } from "@encstream/codec";
import { defaultCacheDir, downloadFile, pullModel, type DownloadProgress } from "@encstream/codec/node";
import type { PullOptions } from "../command-options.js";
import { DEFAULT_LM_BASE_URL } from "../constants.js";
import { CliError } from "../errors.js";
import { isTty, processIo, secondsSince, type CommandIo } from "../internal/command-io.js";


/**
 * The language model of each published model: file name and the sha256 prefix in its name,
 * which the download is checked against.
 */
export const PUBLISHED_LMS: Readonly<Record<string, { readonly file: string; readonly sha256: string }>> = {
  "facebook/encodec_24khz": { file: "encodec_lm_24khz-1608e3c0.th", sha256: "1608e3c0" },
  "facebook/encodec_48khz": { file: "encodec_lm_48khz-7add9fc3.th", sha256: "7add9fc3" },
};

/** What {@link runPull} did. */
export interface PullResult {
  /** The model folder in the cache (what `--model <repo-id>` loads). */
  readonly dir: string;
  /** Every file of the model (weights, config, language model when there is a published one). */
  readonly files: readonly string[];
  /** The files this call downloaded (others were already cached). */
  readonly downloaded: readonly string[];
}

/**
 * `encstream pull <repo-id>`: downloads `config.json` and `model.safetensors` of a Hugging Face
 * repository (or a mirror's, `--base-url`) into `<cacheDir>/models/<owner>--<name>/<revision>`,
 * and for Meta's two published models also their language model: from the mirror's repository
 * folder with `--base-url`, else from `$ENCSTREAM_LM_URL`, else from {@link DEFAULT_LM_BASE_URL}.
 * Downloads are resumable and checked (size and sha256); cached files are kept unless `--force`.
 * Progress is a bar on a terminal's stderr, plain lines otherwise.
 *
 * @throws CliError `"download-failed"` naming the file and the URL; `"usage"` for a bad repo id
 *   or revision.
 */
export async function runPull(options: PullOptions, io: CommandIo = processIo()): Promise<PullResult> {
  const started = performance.now();
  const cacheRoot = resolve(options.cacheDir ?? defaultCacheDir());
  const progress = new DownloadReporter(io.stderr);
  let pulled;
  try {
    pulled = await pullModel(options.repoId, {
      revision: options.revision,
      cacheDir: join(cacheRoot, "models"),
      force: options.force,
      onProgress: (p) => progress.update(p.file, p),
      ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
      ...(io.signal !== undefined ? { signal: io.signal } : {}),
    });
  } catch (error) {
    throw asPullError(error, options.repoId);
  } finally {
    progress.stop();
  }
  const files = [...pulled.files];
  const downloaded = [...pulled.downloaded];

  const lm = PUBLISHED_LMS[options.repoId];
  if (lm !== undefined) {
    const dest = join(pulled.dir, lm.file);
    const url = `${lmBaseUrl(options)}/${lm.file}`;
    const cached = !options.force && ((await stat(dest).catch(() => null))?.isFile() ?? false);
    const lmProgress = new DownloadReporter(io.stderr);
    try {
      if (!cached) {
        await downloadFile(url, dest, {
          sha256: lm.sha256,
          onProgress: (p) => lmProgress.update(lm.file, p),
          ...(io.signal !== undefined ? { signal: io.signal } : {}),
        });
        downloaded.push(dest);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CliError(
        "download-failed",
        `the model is in ${pulled.dir}, but its language model could not be downloaded from ${url}: ${reason}; ` +
          `run the pull again, or encode and send with --no-lm`,
        { cause: error },
      );
    } finally {
      lmProgress.stop();
    }
    files.push(dest);
  }

  io.stdout.write(
    `${options.repoId}: ${downloaded.length === 0 ? "already in the cache" : `downloaded ${downloaded.length} file(s)`} in ${pulled.dir} (${secondsSince(started)})\n` +
      `use it with: encstream encode --model ${options.repoId}${options.cacheDir !== undefined ? ` --cache-dir ${options.cacheDir}` : ""} IN.wav OUT.ecdc\n`,
  );
  return { dir: pulled.dir, files, downloaded };
}

/**
 * Where the language model of a published model is downloaded from: a mirror (`--base-url`)
 * serves it beside the model's files, in the repository's folder; otherwise `$ENCSTREAM_LM_URL`,
 * else the reference's download location.
 */
function lmBaseUrl(options: PullOptions): string {
  if (options.baseUrl !== undefined) return `${options.baseUrl}/${options.repoId}/resolve/${encodeURIComponent(options.revision)}`;
  return (process.env.ENCSTREAM_LM_URL ?? DEFAULT_LM_BASE_URL).replace(/\/+$/, "");
}

/** One progress bar (terminal) or a few plain lines (pipe, file) per downloaded file. */
class DownloadReporter {
  #stream: NodeJS.WritableStream;
  #tty: boolean;
  #bar: SingleBar | undefined;
  #file: string | undefined;
  #lastQuarter = -1;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    this.#tty = isTty(stream);
  }

  update(file: string, progress: DownloadProgress): void {
    const total = progress.totalBytes;
    if (file !== this.#file) {
      this.stop();
      this.#file = file;
      this.#lastQuarter = -1;
      if (this.#tty) {
        this.#bar = new SingleBar({
          stream: this.#stream,
          format: `${file} [{bar}] {percentage}% {value}/{total} bytes, eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
        });
        this.#bar.start(total ?? 0, progress.receivedBytes);
      } else {
        this.#stream.write(`pull: downloading ${file}${total !== null ? ` (${formatBytes(total)})` : ""}\n`);
      }
    }
    if (this.#bar !== undefined) {
      if (total !== null) this.#bar.setTotal(total);
      this.#bar.update(progress.receivedBytes);
    } else if (total !== null && total > 0) {
      const quarter = Math.floor((4 * progress.receivedBytes) / total);
      if (quarter > this.#lastQuarter && quarter > 0) {
        this.#lastQuarter = quarter;
        this.#stream.write(`pull: ${file} ${Math.min(100, quarter * 25)}% (${formatBytes(progress.receivedBytes)})\n`);
      }
    }
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function asPullError(error: unknown, repoId: string): unknown {
  if (error instanceof CliError) return error;
  if (isCodecError(error)) return new CliError("download-failed", `pull ${repoId}: ${error.message}`, { cause: error });
  if (error instanceof RangeError) return new CliError("usage", `pull ${repoId}: ${error.message}`, { cause: error });
  return error;
}
