import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { access, constants, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CliError } from "../errors.js";
import { describeIoError } from "./io-error.js";

/**
 * A temporary path in the same directory as `path` (so that a rename onto `path` is atomic on
 * one file system): `.<name>.<random>.tmp`.
 */
export function temporarySibling(path: string): string {
  const target = resolve(path);
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * Runs `write(tempPath)` and then renames the temporary file onto `path`, so that `path` holds
 * either its old content or the whole new file, never a half-written one. On any failure the
 * temporary file is removed and the error rethrown.
 *
 * @throws CliError `"io"` naming `path` if the rename fails, and whatever `write` throws.
 */
export async function writeAtomically<T>(path: string, write: (tempPath: string) => Promise<T>): Promise<T> {
  const temp = temporarySibling(path);
  pending.add(temp);
  try {
    const result = await write(temp);
    try {
      await rename(temp, path);
    } catch (error) {
      throw new CliError("io", describeIoError(path, "cannot write", error), { cause: error });
    }
    return result;
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    pending.delete(temp);
  }
}

/** Temporary files of the {@link writeAtomically} calls in progress. */
const pending = new Set<string>();

/**
 * Deletes the temporary files of every {@link writeAtomically} in progress, synchronously: for
 * a process about to exit on Ctrl-C, which would otherwise leave `.name.xxxx.tmp` files behind.
 */
export function removePendingTemporaries(): void {
  for (const temp of pending) rmSync(temp, { force: true });
  pending.clear();
}

/**
 * Writes `bytes` to `path` through {@link writeAtomically}.
 *
 * @throws CliError `"io"` naming `path` when the directory is missing, not writable or full.
 */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomically(path, async (temp) => {
    try {
      await writeFile(temp, bytes, { flag: "wx" });
    } catch (error) {
      throw new CliError("io", describeIoError(path, "cannot write", error), { cause: error });
    }
  });
}

/**
 * Checks, before any work, that `output` can be written and is not `input`: its folder exists
 * and is writable, it is not a folder, and it is not the input file (by path or, when both
 * exist, by device and inode).
 *
 * @throws CliError `"usage"` when `output` is the input; `"io"` naming `output` otherwise
 */
export async function checkOutputPath(output: string, input: string): Promise<void> {
  const target = resolve(output);
  const [outInfo, inInfo] = await Promise.all([stat(target).catch(() => null), stat(resolve(input)).catch(() => null)]);
  const sameFile = target === resolve(input) || (outInfo !== null && inInfo !== null && outInfo.dev === inInfo.dev && outInfo.ino === inInfo.ino);
  if (sameFile) throw new CliError("usage", `${output} is the input file; give another output path (the input is left as it is)`);
  if (outInfo?.isDirectory()) throw new CliError("io", describeIoError(output, "cannot write", Object.assign(new Error("is a directory"), { code: "EISDIR" })));
  try {
    await access(dirname(target), constants.W_OK);
  } catch (error) {
    throw new CliError("io", describeIoError(output, "cannot write", error), { cause: error });
  }
}
