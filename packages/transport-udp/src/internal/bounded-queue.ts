/** What a full queue gives up for a new item. Re-exported as the public `OverflowPolicy`. */
export type OverflowPolicy = "drop-oldest" | "drop-newest";

/** What {@link BoundedQueue.push} did with the item. */
export type PushOutcome = "delivered" | "queued" | "dropped-oldest" | "dropped-newest";

/**
 * A first-in first-out queue of at most `capacity` items read by `next()` as an async
 * iterator would: a ring buffer, so memory is bounded whatever the reader's speed. When it is
 * full, a push drops the oldest queued item or the new one, as `policy` says.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private readonly waiters: {
    resolve: (result: IteratorResult<T, undefined>) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly capacity: number,
    private readonly policy: OverflowPolicy,
  ) {
    this.items = new Array<T | undefined>(capacity);
  }

  /** Items waiting to be read. */
  get length(): number {
    return this.count;
  }

  /** Hands `item` to a waiting reader, or queues it; ignored (returns "dropped-newest") once ended. */
  push(item: T): PushOutcome {
    if (this.ended) return "dropped-newest";
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: item, done: false });
      return "delivered";
    }
    if (this.count < this.capacity) {
      this.items[(this.head + this.count) % this.capacity] = item;
      this.count += 1;
      return "queued";
    }
    if (this.policy === "drop-newest") return "dropped-newest";
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    return "dropped-oldest";
  }

  /** The next item; waits for one; `done` once ended and drained, or rejects with the end's error. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.count > 0) return Promise.resolve({ value: this.shift(), done: false });
    if (this.failure !== undefined) {
      const { error } = this.failure;
      this.failure = undefined; // reported once, then the iteration is simply over
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  /**
   * Ends the queue: readers get what is queued, then `done` (or `error`, once, if given).
   * With `discard`, queued items are dropped at once. Idempotent; the first error wins.
   */
  end(error?: { error: unknown }, discard = false): void {
    if (discard) this.clear();
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) {
      if (this.failure !== undefined) {
        waiter.reject(this.failure.error);
        this.failure = undefined;
      } else {
        waiter.resolve({ value: undefined, done: true });
      }
    }
  }

  private shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
    return item;
  }

  private clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
