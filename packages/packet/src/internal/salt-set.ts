/**
 * A bounded memory of the last `capacity` strings added (a ring plus a set): the run salts a
 * `DatagramOpener` has forgotten but still refuses. Capacity 0 remembers nothing.
 */
export class RecentStrings {
  readonly #ring: (string | undefined)[];
  readonly #set = new Set<string>();
  #next = 0;

  constructor(capacity: number) {
    this.#ring = new Array<string | undefined>(capacity).fill(undefined);
  }

  has(value: string): boolean {
    return this.#set.has(value);
  }

  add(value: string): void {
    const capacity = this.#ring.length;
    if (capacity === 0 || this.#set.has(value)) return;
    const old = this.#ring[this.#next];
    if (old !== undefined) this.#set.delete(old);
    this.#ring[this.#next] = value;
    this.#set.add(value);
    this.#next = this.#next + 1 === capacity ? 0 : this.#next + 1;
  }
}
