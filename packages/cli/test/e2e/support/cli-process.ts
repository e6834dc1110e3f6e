import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCli } from "../../build-cli.js";

const ENTRY = fileURLToPath(new URL("./cli-entry.ts", import.meta.url));

let built: Promise<string> | undefined;

/**
 * How the tests start `encstream`: `bin.js` built from the current sources (as shipped, once per
 * test file), or with ENCSTREAM_E2E_ENTRY=tsx a tsx entry that runs the command line with
 * `runSend`/`runReceive` straight from the sources.
 */
async function commandLine(args: readonly string[]): Promise<string[]> {
  if (process.env.ENCSTREAM_E2E_ENTRY === "tsx") return ["--import", "tsx", ENTRY, ...args];
  built ??= buildCli();
  return [join(await built, "bin.js"), ...args];
}

/** Builds the command (see {@link commandLine}); call it in `beforeAll` so no test pays for the build. */
export async function prepareCli(): Promise<void> {
  await commandLine([]);
}

/** Removes what {@link prepareCli} built; call it in `afterAll`. */
export async function cleanupCli(): Promise<void> {
  if (built !== undefined) await rm(await built, { recursive: true, force: true });
  built = undefined;
}

/** A running `encstream` process with its output collected. */
export class CliProcess {
  stdout = "";
  stderr = "";
  /** Stdout's bytes, when started with `binaryStdout` (then {@link stdout} stays empty). */
  stdoutBytes: Buffer[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  readonly #watchers: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  private constructor(child: ChildProcess, binaryStdout = false) {
    this.#child = child;
    if (binaryStdout) this.#child.stdout!.on("data", (bytes: Buffer) => this.stdoutBytes.push(bytes));
    else this.#child.stdout!.setEncoding("utf8").on("data", (text: string) => (this.stdout += text));
    this.#child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
      for (const w of [...this.#watchers]) {
        const m = this.stderr.match(w.pattern);
        if (m) {
          this.#watchers.splice(this.#watchers.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    this.exited = new Promise((resolve) => this.#child.on("exit", (code, signal) => resolve(code ?? (signal === null ? null : 128 + signalNumber(signal)))));
  }

  /**
   * Starts `encstream <args>` with `env` added to this process's environment. `options.stdin`:
   * bytes written to its stdin (then closed), as a pipe would; `options.binaryStdout`: collect
   * stdout as bytes in {@link stdoutBytes}; `options.nodeArgs`: arguments to node before the
   * script (benchmarks: `--import` a preload).
   */
  static async start(
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
    options: { stdin?: Uint8Array; binaryStdout?: boolean; nodeArgs?: readonly string[] } = {},
  ): Promise<CliProcess> {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...(await commandLine(args))], {
      env: { ...process.env, ...env },
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.stdin !== undefined) {
      child.stdin!.on("error", () => undefined);
      child.stdin!.end(options.stdin);
    }
    return new CliProcess(child, options.binaryStdout);
  }

  /** Resolves with the first match of `pattern` in stderr; rejects after `timeoutMs` or when the process exits first. */
  waitForStderr(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const already = this.stderr.match(pattern);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} on stderr after ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      this.#watchers.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before ${pattern} on stderr:\n${this.stderr}`));
      });
    });
  }

  /** Waits for the exit code, killing the process after `timeoutMs`. */
  async finish(timeoutMs = 60_000): Promise<number | null> {
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The process id (for /proc/PID figures such as peak memory). */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Sends a signal (SIGINT: Ctrl-C). */
  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }
}

/** Starts `encstream receive ... --port 0` and resolves with the process and the port it bound. */
export async function startReceiver(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  options: { binaryStdout?: boolean; nodeArgs?: readonly string[] } = {},
): Promise<{ receiver: CliProcess; port: number }> {
  const receiver = await CliProcess.start(["receive", "--bind", "127.0.0.1", "--port", "0", ...args], env, options);
  const match = await receiver.waitForStderr(/listening on [^\s]*:(\d+)/);
  return { receiver, port: Number(match[1]) };
}

/** The numbers of the `--stats` summary (see formatReceiveSummary). */
export function parseReceiveSummary(stderr: string): Record<string, number> {
  const start = stderr.lastIndexOf("receive: summary");
  if (start < 0) throw new Error(`no summary on stderr:\n${stderr}`);
  const text = stderr.slice(start);
  const figures: Record<string, number> = {};
  for (const name of ["datagrams", "malformed", "duplicates", "expired", "dropped", "unauthenticated", "foreign", "unfit", "mismatched", "played", "concealed", "lost", "late", "undecodable", "too-far-ahead", "underruns", "resyncs", "recovered", "comfort-noise"]) {
    const pattern = name === "datagrams" ? /datagrams (\d+) received/ : new RegExp(`(\\d+) ${name}\\b`);
    const m = text.match(pattern);
    if (m) figures[name] = Number(m[1]);
  }
  const samples = text.match(/\((\d+) samples at/);
  if (samples) figures.samples = Number(samples[1]);
  return figures;
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : signal === "SIGKILL" ? 9 : 0;
}
