/**
 * A bounded memory of the last `capacity` keys added: a ring of keys plus a set for the
 * lookup. Adding past the capacity forgets the oldest. Capacity 0 remembers nothing.
 */
export class RecentKeys<K> {
  readonly #ring: (K | undefined)[];
  readonly #set = new Set<K>();
  #next = 0;

  constructor(capacity: number) {
    this.#ring = new Array<K | undefined>(capacity).fill(undefined);
  }

  has(key: K): boolean {
    return this.#set.has(key);
  }

  /** Remembers `key` (nothing if it is remembered already). */
  add(key: K): void {
    const capacity = this.#ring.length;
    if (capacity === 0 || this.#set.has(key)) return;
    if (this.#set.size === capacity) this.#set.delete(this.#ring[this.#next] as K);
    this.#ring[this.#next] = key;
    this.#set.add(key);
    this.#next = this.#next + 1 === capacity ? 0 : this.#next + 1;
  }
}
