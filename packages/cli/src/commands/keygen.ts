import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { formatKeyFile, generateKey, isPacketError, parseKeyFile, type StreamKey } from "@encstream/packet";
import type { KeygenOptions } from "../command-options.js";
import { CliError } from "../errors.js";
import { writeAtomically } from "../internal/atomic-file.js";
import { processIo, type CommandIo } from "../internal/command-io.js";
import { describeIoError } from "../internal/io-error.js";

/** What {@link runKeygen} wrote. */
export interface KeygenResult {
  /** The key file. */
  readonly output: string;
  /** Id of the new key (first in the file: the one `send` seals with). */
  readonly keyId: number;
  /** Keys in the file now. */
  readonly keys: number;
}

/**
 * `encstream keygen FILE`: writes a key file (mode 0600) holding a new random AES-256 key with a
 * random id (or `--key-id`). With `--rotate` the new key goes first in an existing file and the
 * old keys stay, so receivers given the new file accept both while senders switch. Refuses to
 * replace an existing file without `--force`. The file is written to a temporary name with mode
 * 0600 and renamed, so it is never readable by others and never half-written.
 *
 * @throws CliError `"io"` (exists, cannot write), `"bad-key"` (`--rotate` on a file that is not
 *   a key file), `"usage"` (`--key-id` already in the file)
 */
export async function runKeygen(options: KeygenOptions, io: CommandIo = processIo()): Promise<KeygenResult> {
  const { output } = options;
  const exists = await stat(output).then(
    () => true,
    () => false,
  );
  let old: StreamKey[] = [];
  if (options.rotate) {
    if (!exists) throw new CliError("io", `${output}: no key file to rotate (leave out --rotate to make one)`);
    let text: string;
    try {
      text = await readFile(output, "utf8");
    } catch (error) {
      throw new CliError("io", describeIoError(output, "cannot read the key file", error), { cause: error });
    }
    try {
      old = parseKeyFile(text, output);
    } catch (error) {
      if (isPacketError(error)) throw new CliError("bad-key", error.message, { cause: error });
      throw error;
    }
  } else if (exists && !options.force) {
    throw new CliError("io", `${output} already exists: --rotate adds a new key to it, --force replaces it`);
  }
  const used = new Set(old.map((k) => k.keyId));
  if (options.keyId !== undefined && used.has(options.keyId)) {
    throw new CliError("usage", `--key-id ${options.keyId}: ${output} already holds a key with that id`);
  }
  if (used.size >= 256) throw new CliError("usage", `${output} already holds 256 keys; remove old ones first`);
  let key = generateKey(options.keyId);
  while (used.has(key.keyId)) key = generateKey();
  const keys = [key, ...old];
  await writeAtomically(output, async (temp) => {
    try {
      await writeFile(temp, formatKeyFile(keys), { mode: 0o600, flag: "wx" });
      await chmod(temp, 0o600); // whatever the umask
    } catch (error) {
      throw new CliError("io", describeIoError(output, "cannot write the key file", error), { cause: error });
    }
  });
  io.stdout.write(
    `${options.rotate ? "added" : "wrote"} key ${key.keyId} ${options.rotate ? "to" : "in"} ${output} (mode 0600${keys.length > 1 ? `, ${keys.length} keys` : ""}); ` +
      `give it to both sides: encstream send|receive --key-file ${output}\n`,
  );
  return { output, keyId: key.keyId, keys: keys.length };
}
