import type { DatagramEndpoint, DatagramTransport, DatagramTransportStats, InboundDatagram, SendOutcome } from "../transport.js";
import { DatagramQueue } from "./datagram-queue.js";

/**
 * What the in-process transports share: the datagrams handed to this side wait in a bounded queue
 * for its reader (a full queue drops its oldest, counted), the counters, and closing (which ends the
 * reader). Subclasses say how datagrams are sent.
 */
export abstract class QueuedTransport implements DatagramTransport {
  readonly #queue: DatagramQueue<InboundDatagram>;
  #closed = false;
  readonly #counters = { datagramsReceived: 0, bytesReceived: 0, malformed: 0, dropped: 0, datagramsSent: 0, bytesSent: 0 };

  /** @param maxQueue datagrams held for the reader */
  constructor(maxQueue: number) {
    this.#queue = new DatagramQueue(maxQueue);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  get stats(): DatagramTransportStats {
    return { ...this.#counters };
  }

  abstract send(datagrams: readonly Uint8Array[], to?: DatagramEndpoint): Promise<SendOutcome>;

  /** Queues a datagram for this side's reader; false (nothing queued) once closed. */
  protected enqueue(datagram: InboundDatagram): boolean {
    if (this.#closed) return false;
    this.#counters.datagramsReceived++;
    this.#counters.bytesReceived += datagram.bytes.length;
    if (!this.#queue.push(datagram)) this.#counters.dropped++;
    return true;
  }

  /** Counts one datagram sent. */
  protected countSent(bytes: number): void {
    this.#counters.datagramsSent++;
    this.#counters.bytesSent += bytes;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<InboundDatagram, undefined> {
    return {
      next: () => this.#queue.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}
