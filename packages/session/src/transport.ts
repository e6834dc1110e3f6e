/*
 * What the sessions need of a network: a structural interface, so that a transport needs no
 * dependency on this package. `@encstream/transport-udp`'s `UdpTransport` implements it for
 * Node; `createMemoryTransportPair` (this package) for tests; a page implements it over a
 * WebSocket or a WebRTC data channel.
 */

/** A network address and port (for UDP: an IP literal and a port number). */
export interface DatagramEndpoint {
  /** The address, as the transport writes it (`"127.0.0.1"`, `"::1"`, a name for other transports). */
  readonly address: string;
  /** The port. */
  readonly port: number;
}

/** One datagram as a transport delivers it. */
export interface InboundDatagram {
  /** The whole datagram; the receiver's to keep (the transport never reuses or changes it). */
  readonly bytes: Uint8Array;
  /** When it was taken off the network, `performance.now()` milliseconds. */
  readonly receivedAtMs: number;
  /** Where it came from: the source address (the receiver follows its stream's source). */
  readonly remoteAddress: string;
  /** The source port. */
  readonly remotePort: number;
}

/**
 * What a send did: `"sent"`, or `"refused"` when the destination said nothing listens there
 * (UDP's ICMP "port unreachable"; a closed peer). A refusal is a lost datagram, not an error:
 * UDP needs no listener.
 */
export type SendOutcome = "sent" | "refused";

/** Counters of a transport; a snapshot. */
export interface DatagramTransportStats {
  /** Datagrams taken off the network, malformed ones included. */
  readonly datagramsReceived: number;
  /** Their bytes. */
  readonly bytesReceived: number;
  /** Datagrams the transport itself rejected (never delivered). */
  readonly malformed: number;
  /** Datagrams lost because the reader was too slow (the transport's queue was full). */
  readonly dropped: number;
  /** Datagrams handed to the network. */
  readonly datagramsSent: number;
  /** Their bytes. */
  readonly bytesSent: number;
}

/**
 * A datagram network endpoint: an async iterable of the datagrams it receives, and a way to
 * send datagrams to an address. The iterator ends when the transport is closed.
 */
export interface DatagramTransport extends AsyncIterable<InboundDatagram> {
  /**
   * Sends `datagrams`, in order, each as one datagram, to `to` (or the transport's default
   * destination, when it has one). The caller must not change them until the promise settles.
   *
   * @returns `"refused"` when the destination refused any of them, else `"sent"`
   * @throws the transport's own error class when sending is impossible (closed, no route, too large)
   */
  send(datagrams: readonly Uint8Array[], to?: DatagramEndpoint): Promise<SendOutcome>;
  /** Stops receiving and releases the transport (the iterator ends); idempotent. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  readonly stats: DatagramTransportStats;
}
