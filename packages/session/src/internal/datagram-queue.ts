/**
 * A bounded FIFO read by one async iterator: a full queue drops its oldest item (what real-time
 * audio wants: the newest datagrams matter). `end()` lets the reader take what is queued, then
 * finishes it.
 */
export class DatagramQueue<T> {
  readonly #capacity: number;
  #items: T[] = [];
  #head = 0;
  #ended = false;
  #waiter: ((result: IteratorResult<T, undefined>) => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Queues `item` (or hands it to a waiting reader); returns false when the oldest was dropped for it. */
  push(item: T): boolean {
    if (this.#ended) return true;
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: item, done: false });
      return true;
    }
    let kept = true;
    if (this.length >= this.#capacity) {
      this.#head++;
      kept = false;
    }
    this.#items.push(item);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return kept;
  }

  /** The next item, waiting for one; done once ended and drained. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.length > 0) {
      const value = this.#items[this.#head] as T;
      this.#items[this.#head++] = undefined as T;
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** No more items: the reader gets what is queued, then done. */
  end(): void {
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }
}
