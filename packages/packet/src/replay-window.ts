import { DEFAULT_REPLAY_WINDOW_DATAGRAMS } from "./constants.js";
import { checkInteger } from "./internal/check-integer.js";

/**
 * What {@link ReplayWindow.check} says of a counter: `"fresh"` (never accepted and inside or
 * ahead of the window), `"replayed"` (accepted before), `"too-old"` (behind the window: it
 * cannot be told from a replay, so it is refused).
 */
export type ReplayVerdict = "fresh" | "replayed" | "too-old";

/**
 * The sliding replay window of SRTP (RFC 3711 §3.3.2) over one sender's uint32 datagram
 * counters, which never wrap. It remembers the highest counter accepted and which of the
 * `sizeDatagrams` counters below it were accepted; a counter is accepted at most once.
 *
 * Use it as RFC 3711 does: {@link check} before authenticating (a cheap early drop), and
 * {@link accept} only after the datagram authenticated, so a forgery never moves the window.
 */
export class ReplayWindow {
  readonly #size: number;
  /** Bit (c mod size) is set when counter c, within (top − size, top], was accepted. */
  readonly #seen: Uint32Array;
  /** Highest counter accepted, or −1 before the first. */
  #top = -1;

  /**
   * @param sizeDatagrams window width, a multiple of 32 from 64 to 1 048 576.
   * @default 1024 (`DEFAULT_REPLAY_WINDOW_DATAGRAMS`)
   * @throws RangeError naming `sizeDatagrams`.
   */
  constructor(sizeDatagrams: number = DEFAULT_REPLAY_WINDOW_DATAGRAMS) {
    checkInteger("sizeDatagrams", sizeDatagrams, 64, 1 << 20);
    if (sizeDatagrams % 32 !== 0) throw new RangeError(`sizeDatagrams must be a multiple of 32, got ${sizeDatagrams}`);
    this.#size = sizeDatagrams;
    this.#seen = new Uint32Array(sizeDatagrams / 32);
  }

  /** Highest counter accepted so far, or −1 before the first. */
  get highest(): number {
    return this.#top;
  }

  /** Whether `counter` (a uint32) could be accepted now; changes nothing. */
  check(counter: number): ReplayVerdict {
    const top = this.#top;
    if (counter > top) return "fresh";
    if (top - counter >= this.#size) return "too-old";
    const bit = counter % this.#size;
    return (this.#seen[bit >>> 5]! & (1 << (bit & 31))) === 0 ? "fresh" : "replayed";
  }

  /**
   * Records `counter` as accepted if {@link check} says `"fresh"`; returns the verdict it had
   * (anything else leaves the window as it was). Call it once the datagram authenticated.
   */
  accept(counter: number): ReplayVerdict {
    const verdict = this.check(counter);
    if (verdict !== "fresh") return verdict;
    const size = this.#size;
    if (counter > this.#top) {
      // Forget the counters the window slides past: top+1 .. counter (at most `size` bits).
      const steps = Math.min(counter - this.#top, size);
      if (steps === size) this.#seen.fill(0);
      else for (let c = counter - steps + 1; c <= counter; c++) this.#clear(c % size);
      this.#top = counter;
    }
    const bit = counter % size;
    this.#seen[bit >>> 5] = this.#seen[bit >>> 5]! | (1 << (bit & 31));
    return "fresh";
  }

  #clear(bit: number): void {
    this.#seen[bit >>> 5] = this.#seen[bit >>> 5]! & ~(1 << (bit & 31));
  }
}
