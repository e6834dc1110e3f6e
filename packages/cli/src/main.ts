import { runDecode } from "./commands/decode.js";
import { runDevices } from "./commands/devices.js";
import { runEncode } from "./commands/encode.js";
import { runKeygen } from "./commands/keygen.js";
import { runPull } from "./commands/pull.js";
import { runReceive } from "./commands/receive.js";
import { runSend } from "./commands/send.js";
import type { CommandHandlers } from "./command-options.js";
import { CliError } from "./errors.js";
import { removePendingTemporaries } from "./internal/atomic-file.js";
import { processIo, type CommandIo } from "./internal/command-io.js";
import { onInterrupt } from "./interrupt.js";
import { runCommandLine } from "./options.js";

/**
 * How long a Ctrl-C waits for the running command to stop cleanly (a receiver plays out its
 * buffer and finalises its WAV) before the process exits, ms. A second Ctrl-C exits at once.
 */
const STOP_GRACE_MS = 15_000;

/**
 * The `encstream` command's handlers, one per command, writing to `io`: `send`, `receive`,
 * `encode`, `decode` and `pull`. Each resolves when its command has finished.
 */
export function createHandlers(io: CommandIo = processIo()): CommandHandlers {
  return {
    send: async (options) => void (await runSend(options, io)),
    receive: async (options) => void (await runReceive(options, io)),
    encode: async (options) => void (await runEncode(options, io)),
    decode: async (options) => void (await runDecode(options, io)),
    pull: async (options) => void (await runPull(options, io)),
    devices: async (options) => void (await runDevices(options, io)),
    keygen: async (options) => void (await runKeygen(options, io)),
  };
}

/**
 * Runs an `encstream` command line (`argv` without `node` and the script) and resolves with the
 * exit code: 0 success, 1 failure, 2 bad command line. Ctrl-C or SIGTERM aborts `io.signal` for
 * the running command, deletes half-written temporary files and exits with 130 or 143 once the
 * command has stopped (or after 5 s).
 */
export async function main(argv: readonly string[], io: Omit<CommandIo, "signal"> = processIo()): Promise<number> {
  const controller = new AbortController();
  let running: Promise<number> = Promise.resolve(0);
  const stopInterrupt = onInterrupt(async (signal) => {
    controller.abort(new CliError("io", `stopped by ${signal}`));
    removePendingTemporaries();
    await Promise.race([running.catch(() => 1), new Promise((done) => setTimeout(done, STOP_GRACE_MS).unref())]);
    removePendingTemporaries();
  });
  try {
    running = runCommandLine(argv, createHandlers({ ...io, signal: controller.signal }), {
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
    return await running;
  } finally {
    stopInterrupt();
  }
}
