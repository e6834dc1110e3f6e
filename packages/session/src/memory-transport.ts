import { QueuedTransport } from "./internal/queued-transport.js";
import type { DatagramEndpoint, DatagramTransport, SendOutcome } from "./transport.js";

/** Options of {@link createMemoryTransportPair}. */
export interface MemoryTransportOptions {
  /** Datagrams each side holds for its reader, 1 to 1 048 576; a full queue drops its oldest. @default 1024 */
  readonly maxQueue?: number;
}

/** One side of an in-memory transport pair: a {@link DatagramTransport} with its own endpoint. */
export interface MemoryTransport extends DatagramTransport {
  /** This side's address (`"memory-a"` or `"memory-b"`, port 1 or 2): the source of what it sends. */
  readonly endpoint: DatagramEndpoint;
  /** Whether {@link DatagramTransport.close} was called. */
  readonly closed: boolean;
}

class MemorySide extends QueuedTransport implements MemoryTransport {
  readonly endpoint: DatagramEndpoint;
  peer: MemorySide | undefined;

  constructor(endpoint: DatagramEndpoint, maxQueue: number) {
    super(maxQueue);
    this.endpoint = endpoint;
  }

  deliver(bytes: Uint8Array, from: DatagramEndpoint): boolean {
    return this.enqueue({ bytes, receivedAtMs: performance.now(), remoteAddress: from.address, remotePort: from.port });
  }

  async send(datagrams: readonly Uint8Array[], to?: DatagramEndpoint): Promise<SendOutcome> {
    if (this.closed) throw new Error("send: this memory transport is closed");
    const peer = this.peer as MemorySide;
    if (to !== undefined && (to.address !== peer.endpoint.address || to.port !== peer.endpoint.port)) {
      throw new RangeError(`to must be the peer ${peer.endpoint.address}:${peer.endpoint.port}, got ${to.address}:${to.port}`);
    }
    let outcome: SendOutcome = "sent";
    for (const datagram of datagrams) {
      // A copy: the sender may reuse its buffer once the promise settles, as with a socket.
      if (peer.deliver(datagram.slice(), this.endpoint)) this.countSent(datagram.length);
      else outcome = "refused";
    }
    return outcome;
  }
}

/**
 * Two {@link DatagramTransport}s joined in memory: what one sends, the other receives at once,
 * in order, without loss (unless its reader falls `maxQueue` behind). Sending to a closed side
 * returns `"refused"`, as UDP to a port nobody listens on. For tests and single-page demos.
 *
 * @throws RangeError for a `maxQueue` out of range
 */
export function createMemoryTransportPair(options: MemoryTransportOptions = {}): [MemoryTransport, MemoryTransport] {
  const maxQueue = options.maxQueue ?? 1024;
  if (!Number.isInteger(maxQueue) || maxQueue < 1 || maxQueue > 1 << 20) {
    throw new RangeError(`maxQueue must be an integer in [1, 1048576], got ${String(maxQueue)}`);
  }
  const a = new MemorySide({ address: "memory-a", port: 1 }, maxQueue);
  const b = new MemorySide({ address: "memory-b", port: 2 }, maxQueue);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
