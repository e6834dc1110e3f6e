/** The signals {@link onInterrupt} handles: Ctrl-C and a polite `kill`. */
export type InterruptSignal = "SIGINT" | "SIGTERM";

/** Work to finish before the process exits on a signal (close a WAV, print stats). */
export type InterruptHandler = (signal: InterruptSignal) => void | Promise<void>;

const EXIT_CODES: Readonly<Record<InterruptSignal, number>> = { SIGINT: 130, SIGTERM: 143 };
const handlers = new Set<InterruptHandler>();
let exiting = false;

function handleSignal(signal: InterruptSignal): void {
  if (exiting) {
    // A second Ctrl-C while finishing: stop waiting.
    process.exit(EXIT_CODES[signal]);
  }
  exiting = true;
  const running = [...handlers].map(async (handler) => handler(signal));
  void Promise.allSettled(running).then((results) => {
    for (const result of results) {
      if (result.status === "rejected") {
        const reason = result.reason as unknown;
        process.stderr.write(`encstream: while stopping: ${reason instanceof Error ? reason.message : String(reason)}\n`);
      }
    }
    process.exit(EXIT_CODES[signal]);
  });
}

const onSigint = () => handleSignal("SIGINT");
const onSigterm = () => handleSignal("SIGTERM");

/**
 * Runs `handler` when the process gets SIGINT (Ctrl-C) or SIGTERM, waits for it (and for every
 * other registered handler, concurrently), then exits with 128 + the signal number (130 or 143).
 * A second signal during that wait exits at once. A handler that throws is reported on stderr;
 * the process still exits.
 *
 * Returns a function that unregisters `handler`; once none is left the process's default
 * signal behaviour is back.
 */
export function onInterrupt(handler: InterruptHandler): () => void {
  if (typeof handler !== "function") throw new TypeError("handler must be a function");
  if (handlers.size === 0) {
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
  }
  handlers.add(handler);
  return () => {
    if (!handlers.delete(handler) || handlers.size > 0) return;
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  };
}
