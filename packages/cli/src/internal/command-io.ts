/** Where a command writes: results on `stdout`, progress and warnings on `stderr`. */
export interface CommandIo {
  /** Results (paths written, statistics). */
  readonly stdout: NodeJS.WritableStream;
  /** Progress lines and the progress bar. */
  readonly stderr: NodeJS.WritableStream;
  /** Stops the command early when aborted (Ctrl-C). @default undefined */
  readonly signal?: AbortSignal;
}

/** The process's own streams. */
export function processIo(signal?: AbortSignal): CommandIo {
  return signal === undefined ? { stdout: process.stdout, stderr: process.stderr } : { stdout: process.stdout, stderr: process.stderr, signal };
}

/** True when `stream` is a terminal (a progress bar may redraw itself there). */
export function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Seconds since `startMs` (a `performance.now()` reading), one decimal. */
export function secondsSince(startMs: number): string {
  return `${((performance.now() - startMs) / 1000).toFixed(1)} s`;
}

/** Throws the signal's reason (an AbortError) when `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}
