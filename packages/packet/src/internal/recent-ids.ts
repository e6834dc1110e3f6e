/**
 * A bounded memory of the last `capacity` uint32 ids added: a ring of ids plus a set for the
 * lookup. Adding past the capacity forgets the oldest. Capacity 0 remembers nothing.
 */
export class RecentIds {
  readonly #ring: Uint32Array;
  readonly #set = new Set<number>();
  #next = 0;

  constructor(capacity: number) {
    this.#ring = new Uint32Array(capacity);
  }

  has(id: number): boolean {
    return this.#set.has(id);
  }

  /** Remembers `id`; the caller adds only ids not already remembered. */
  add(id: number): void {
    const capacity = this.#ring.length;
    if (capacity === 0) return;
    if (this.#set.size === capacity) this.#set.delete(this.#ring[this.#next]!);
    this.#ring[this.#next] = id;
    this.#set.add(id);
    this.#next = this.#next + 1 === capacity ? 0 : this.#next + 1;
  }
}
