import type { DatagramEndpoint, DatagramTransport, InboundDatagram, SendOutcome } from "../transport.js";
import { QueuedTransport } from "./queued-transport.js";

/**
 * One track's view of a shared transport: what it sends goes out on the parent (unchanged), and
 * it reads only the datagrams the multiplexer hands it with {@link ChildTransport.deliver}.
 * Closing it ends its reader and leaves the parent open (the multiplexer owns the parent).
 */
export class ChildTransport extends QueuedTransport {
  readonly #parent: DatagramTransport;

  /** @param parent the shared transport; @param maxQueue datagrams held for the reader (a full queue drops its oldest) */
  constructor(parent: DatagramTransport, maxQueue = 4096) {
    super(maxQueue);
    this.#parent = parent;
  }

  /** Hands a datagram to this child's reader (ignored once closed). */
  deliver(datagram: InboundDatagram): void {
    this.enqueue(datagram);
  }

  async send(datagrams: readonly Uint8Array[], to?: DatagramEndpoint): Promise<SendOutcome> {
    const outcome = await this.#parent.send(datagrams, to);
    if (outcome === "sent") for (const d of datagrams) this.countSent(d.length);
    return outcome;
  }
}
