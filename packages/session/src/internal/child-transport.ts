import type { DatagramEndpoint, DatagramTransport, DatagramTransportStats, InboundDatagram, SendOutcome } from "../transport.js";
import { DatagramQueue } from "./datagram-queue.js";

/**
 * One track's view of a shared transport: what it sends goes out on the parent (unchanged), and
 * it reads only the datagrams the multiplexer hands it with {@link ChildTransport.deliver}.
 * Closing it ends its reader and leaves the parent open (the multiplexer owns the parent).
 */
export class ChildTransport implements DatagramTransport {
  readonly #parent: DatagramTransport;
  readonly #queue: DatagramQueue<InboundDatagram>;
  #closed = false;
  readonly #counters = { datagramsReceived: 0, bytesReceived: 0, malformed: 0, dropped: 0, datagramsSent: 0, bytesSent: 0 };

  /** @param parent the shared transport; @param maxQueue datagrams held for the reader (a full queue drops its oldest) */
  constructor(parent: DatagramTransport, maxQueue = 4096) {
    this.#parent = parent;
    this.#queue = new DatagramQueue(maxQueue);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  get stats(): DatagramTransportStats {
    return { ...this.#counters };
  }

  /** Hands a datagram to this child's reader (ignored once closed). */
  deliver(datagram: InboundDatagram): void {
    if (this.#closed) return;
    this.#counters.datagramsReceived++;
    this.#counters.bytesReceived += datagram.bytes.length;
    if (!this.#queue.push(datagram)) this.#counters.dropped++;
  }

  async send(datagrams: readonly Uint8Array[], to?: DatagramEndpoint): Promise<SendOutcome> {
    const outcome = await this.#parent.send(datagrams, to);
    if (outcome === "sent") {
      this.#counters.datagramsSent += datagrams.length;
      for (const d of datagrams) this.#counters.bytesSent += d.length;
    }
    return outcome;
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
