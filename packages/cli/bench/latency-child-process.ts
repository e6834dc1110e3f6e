// Starting bench/latency-child.ts (an `encstream` command run in-process, reporting its timing
// on stdout) from the latency and workers benchmarks, and reading its report lines.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./latency-child.ts", import.meta.url));

/** A running latency child: what it wrote so far, its exit, and its report lines. */
export interface LatencyChild {
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
  /** The rest of the first complete stdout line that starts with `prefix` (`PORT `, `RESULT `); rejects if the child exits without one. */
  line(prefix: string): Promise<string>;
}

/** Start `encstream argv…` in a latency child with `env` added to this process's environment. */
export function startLatencyChild(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LatencyChild {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...argv], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  const side: LatencyChild = {
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const look = () => {
          // Complete lines only: a RESULT line is longer than one pipe read, and a line without
          // its newline yet may be cut anywhere.
          const found = side.stdout.split("\n").slice(0, -1).find((l) => l.startsWith(prefix));
          if (found !== undefined) resolve(found.slice(prefix.length));
          return found !== undefined;
        };
        if (look()) return;
        child.stdout.on("data", () => look());
        void side.exited.then(() => look() || reject(new Error(`child exited without ${prefix}\n${side.stderr.slice(-3000)}`)));
      }),
  };
  child.stdout.setEncoding("utf8").on("data", (t: string) => (side.stdout += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (side.stderr += t));
  return side;
}
