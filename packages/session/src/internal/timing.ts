/**
 * Resolves at `targetMs` on `performance.now()`'s clock (at once when it has passed), or as soon
 * as `signal` aborts; resolves to false when aborted, true otherwise. Never rejects.
 */
export function sleepUntil(targetMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  const delay = targetMs - performance.now();
  if (delay <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, delay);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A wake-up call between two async loops: {@link Waker.wait} sleeps until {@link Waker.wake}
 * is called or a deadline passes. A wake with nobody waiting is remembered for the next wait.
 */
export class Waker {
  #pending = false;
  #resolve: (() => void) | undefined;

  /** Wakes the waiter (or the next one). */
  wake(): void {
    if (this.#resolve !== undefined) {
      const resolve = this.#resolve;
      this.#resolve = undefined;
      resolve();
    } else {
      this.#pending = true;
    }
  }

  /** Sleeps until woken, or until `deadlineMs` (performance.now() clock; Infinity: no deadline). */
  wait(deadlineMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const delay = deadlineMs - performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.#resolve = undefined;
        resolve();
      };
      if (Number.isFinite(delay)) {
        if (delay <= 0) {
          resolve();
          return;
        }
        timer = setTimeout(done, delay);
      }
      this.#resolve = done;
    });
  }
}
