import { readFile, stat } from "node:fs/promises";
import { isPacketError, MAX_KEY_FILE_BYTES, parseKeyFile, parseKeyList, type StreamKey } from "@encstream/packet";
import { CliError } from "./errors.js";
import { describeIoError } from "./internal/io-error.js";

/** The environment variable that holds keys in one line (`42:<64 hex digits>`, comma-separated). */
export const KEY_ENV = "ENCSTREAM_KEY";

/** Keys for `send`/`receive`, and where they came from. */
export interface LoadedKeys {
  /** The key ring; the first key is the one `send` seals with. */
  readonly keys: readonly StreamKey[];
  /** The key file's path, or `ENCSTREAM_KEY`. */
  readonly source: string;
  /** A warning to print (a key file others can read), or undefined. */
  readonly warning: string | undefined;
}

/**
 * The keys of `--key-file PATH`, else of `$ENCSTREAM_KEY`, else undefined (no key: the seed's
 * wire, unauthenticated). The file is bounded (64 KiB) and parsed before use.
 *
 * @throws CliError `"io"` (missing, unreadable, not a file, too large) or `"bad-key"` (not
 *   in the key format), naming the file or the variable, the line and the problem.
 */
export async function loadStreamKeys(keyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LoadedKeys | undefined> {
  if (keyFile !== undefined) {
    let info;
    try {
      info = await stat(keyFile);
    } catch (error) {
      throw new CliError("io", describeIoError(keyFile, "cannot read the key file", error), { cause: error });
    }
    if (!info.isFile()) throw new CliError("io", `${keyFile}: the key file is not a regular file`);
    if (info.size > MAX_KEY_FILE_BYTES) throw new CliError("bad-key", `${keyFile}: ${info.size} bytes, more than a key file's ${MAX_KEY_FILE_BYTES}`);
    let text: string;
    try {
      text = await readFile(keyFile, "utf8");
    } catch (error) {
      throw new CliError("io", describeIoError(keyFile, "cannot read the key file", error), { cause: error });
    }
    const open = process.platform !== "win32" && (info.mode & 0o077) !== 0;
    const warning = open ? `${keyFile} can be read by other users (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it` : undefined;
    return { keys: parse(() => parseKeyFile(text, keyFile)), source: keyFile, warning };
  }
  const value = env[KEY_ENV];
  if (value === undefined || value.trim() === "") return undefined;
  return { keys: parse(() => parseKeyList(value, KEY_ENV)), source: KEY_ENV, warning: undefined };
}

function parse(run: () => StreamKey[]): StreamKey[] {
  try {
    return run();
  } catch (error) {
    if (isPacketError(error)) throw new CliError("bad-key", error.message, { cause: error });
    throw error;
  }
}
