import type { CommandHandlers } from "./command-options.js";
import { CliError } from "./errors.js";
import { removePendingTemporaries } from "./internal/atomic-file.js";
import { processIo, type CommandIo } from "./internal/command-io.js";
import { endLean } from "./internal/lean-v8.js";
import { onInterrupt } from "./interrupt.js";
import { runCommandLine } from "./options.js";

/**
 * How long a Ctrl-C waits for the running command to stop cleanly (a receiver plays out its
 * buffer and finalises its WAV) before the process exits, ms. A second Ctrl-C exits at once.
 */
const STOP_GRACE_MS = 15_000;

/**
 * The `encstream` command's handlers, one per command, writing to `io`: `send`, `receive`,
 * `encode`, `decode`, `pull`, `devices` and `keygen`. Each resolves when its command has finished.
 *
 * Each handler imports its command's module when it runs, so a process loads only the command
 * it runs (a `receive` does not load the web relay's HTTP and WebSocket servers, the encoder's
 * input readers or the LM coder): every module loaded costs resident memory for the process's
 * life (its code, its compiled functions and the young generation its loading grew).
 */
export function createHandlers(io: CommandIo = processIo()): CommandHandlers {
  // The bin starts V8 lean (startLean): a receiver keeps it so, every other command sets V8's
  // defaults back as it starts.
  const optimized = <T>(run: (options: T) => Promise<void>) => async (options: T) => {
    endLean();
    await run(options);
  };
  return {
    send: optimized(async (options) => void (await (await import("./commands/send.js")).runSend(options, io))),
    receive: async (options) => void (await (await import("./commands/receive.js")).runReceive(options, io)),
    encode: optimized(async (options) => void (await (await import("./commands/encode.js")).runEncode(options, io))),
    decode: optimized(async (options) => void (await (await import("./commands/decode.js")).runDecode(options, io))),
    pull: optimized(async (options) => void (await (await import("./commands/pull.js")).runPull(options, io))),
    devices: optimized(async (options) => void (await (await import("./commands/devices.js")).runDevices(options, io))),
    keygen: optimized(async (options) => void (await (await import("./commands/keygen.js")).runKeygen(options, io))),
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
