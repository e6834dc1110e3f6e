import { ReplayWindow } from "../replay-window.js";
import { RecentKeys } from "./recent-ids.js";

/**
 * The replay windows of the runs (salts) an opener has authenticated datagrams from: at most
 * `maxSalts` tracked, the least recently heard forgotten first into a bounded list of retired
 * runs, whose datagrams are then refused as replayed. Shared by the media and feedback openers.
 */
export class SaltReplayWindows {
  readonly #windows = new Map<string, ReplayWindow>();
  readonly #retired: RecentKeys<string>;

  constructor(
    readonly windowSize: number,
    readonly maxSalts: number,
    retiredSalts: number,
  ) {
    this.#retired = new RecentKeys<string>(retiredSalts);
    new ReplayWindow(windowSize); // checks the size now rather than at the first datagram
  }

  /** Why `counter` of run `salt` must be refused now, or undefined if it may be accepted. */
  verdict(salt: string, counter: number): "replayed" | "too-old" | undefined {
    const window = this.#windows.get(salt);
    if (window === undefined) return this.#retired.has(salt) ? "replayed" : undefined;
    const verdict = window.check(counter);
    return verdict === "fresh" ? undefined : verdict;
  }

  /** Records an authenticated `counter` of run `salt` (the run's window made if new). */
  accept(salt: string, counter: number): void {
    this.#windowOf(salt).accept(counter);
  }

  /** The window of an authenticated run, made (forgetting the least recently heard run) if new. */
  #windowOf(salt: string): ReplayWindow {
    let window = this.#windows.get(salt);
    if (window !== undefined) {
      // Map order is the recency order: move it to the end.
      this.#windows.delete(salt);
      this.#windows.set(salt, window);
      return window;
    }
    if (this.#windows.size >= this.maxSalts) {
      const oldest = this.#windows.keys().next().value as string;
      this.#windows.delete(oldest);
      this.#retired.add(oldest);
    }
    window = new ReplayWindow(this.windowSize);
    this.#windows.set(salt, window);
    return window;
  }
}
