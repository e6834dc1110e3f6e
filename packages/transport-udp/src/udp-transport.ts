import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import {
  DEFAULT_MAX_QUEUE_DATAGRAMS,
  DEFAULT_MULTICAST_TTL_HOPS,
  DEFAULT_RECEIVE_BUFFER_BYTES,
  MAX_MULTICAST_TTL_HOPS,
  MAX_UDP_PAYLOAD_IPV4_BYTES,
  MAX_UDP_PAYLOAD_IPV6_BYTES,
} from "./constants.js";
import { TransportError } from "./errors.js";
import { BoundedQueue } from "./internal/bounded-queue.js";
import {
  anyAddress,
  checkAddress,
  checkBoolean,
  checkFamily,
  checkFunction,
  checkInteger,
  checkPort,
  checkSameFamily,
  isMulticastAddress,
  type IpFamily,
} from "./internal/check-options.js";
import type { ClockMs } from "./internal/pacer.js";
import { bindSocket, closeQuietly, connectSocket } from "./internal/socket-ops.js";
import { systemCodeOf, wrapSystemError } from "./internal/system-error.js";

/** One datagram as a {@link UdpTransport} delivers it (any bytes: nothing is parsed). */
export interface UdpTransportDatagram {
  /** The whole datagram. It is the caller's: the transport never reuses or changes it. */
  readonly bytes: Uint8Array;
  /** When it was taken off the socket, in milliseconds of the transport's `clock`. */
  readonly receivedAtMs: number;
  /** The sender's address. */
  readonly remoteAddress: string;
  /** The sender's port. */
  readonly remotePort: number;
}

/** An address and port to send to. */
export interface UdpEndpoint {
  /** IPv4 or IPv6 address literal (host names are not resolved). */
  readonly address: string;
  /** Port, 1–65535. */
  readonly port: number;
}

/** What {@link UdpTransport.send} did: `"refused"` when the destination answered "port unreachable". */
export type UdpSendOutcome = "sent" | "refused";

/** Options of {@link UdpTransport.open}. */
export interface UdpTransportOptions {
  /**
   * Local port, 0–65535; 0 picks an ephemeral one (read it back from {@link UdpTransport.port}).
   * @default 0
   */
  port?: number;
  /**
   * Local address literal to bind to.
   * @default "0.0.0.0", or "::" for IPv6
   */
  address?: string;
  /**
   * IP version of the socket; must match `address` and `remote`.
   * @default the family of `address`, else of `remote`, else "ipv4"
   */
  family?: IpFamily;
  /**
   * The default destination. The socket is then connected to it: only its datagrams are
   * received, and "port unreachable" answers are seen (`send` returns `"refused"`).
   * @default undefined (unconnected: receives from anyone; every send names its destination)
   */
  remote?: UdpEndpoint;
  /**
   * Multicast group to join after binding, so that the group's datagrams arrive (bind to the
   * wildcard address, the default, or to the group itself).
   * @default undefined (unicast only)
   */
  multicastGroup?: string;
  /**
   * The interface for multicast, as an address of it (`"127.0.0.1"`, or `"::%lo"` with an IPv6
   * scope): where `multicastGroup` is joined, and where datagrams to a multicast `remote` leave.
   * @default the kernel's choice (from the routing table)
   */
  multicastInterface?: string;
  /**
   * Multicast time-to-live (IPv4) / hop limit (IPv6) of datagrams to a multicast `remote`, 0–255.
   * @default 1 (the local network)
   */
  multicastTtl?: number;
  /**
   * Whether this host's own members of a multicast `remote` group receive what is sent to it.
   * @default true
   */
  multicastLoopback?: boolean;
  /**
   * Let other sockets bind the same address and port (`SO_REUSEADDR`), as several receivers of
   * one multicast group on a host need.
   * @default false
   */
  reuseAddr?: boolean;
  /**
   * Size in bytes asked for the kernel's receive buffer (`SO_RCVBUF`); the kernel may cap it
   * (Linux: at `net.core.rmem_max`) or double it. The size granted is
   * {@link UdpTransport.receiveBufferBytes}.
   * @default 4194304 (`DEFAULT_RECEIVE_BUFFER_BYTES`, 4 MiB, as `UdpReceiver`)
   */
  receiveBufferBytes?: number;
  /**
   * Most datagrams held for the async iterator, 1–1 048 576; a full queue drops its oldest
   * (counted in `stats.dropped`).
   * @default 1024
   */
  maxQueue?: number;
  /**
   * Largest datagram in bytes `send` accepts; larger ones reject with `"too-large"` before
   * anything is sent.
   * @default 65507 for IPv4, 65527 for IPv6
   */
  maxDatagramBytes?: number;
  /**
   * Called with errors the socket reports on its own, not in answer to a send: `"socket-error"`,
   * e.g. `ECONNREFUSED` after "port unreachable" from the connected destination (also counted in
   * `stats.refused`). An error other than ECONNREFUSED also ends the iterator with it.
   * @default undefined
   */
  onError?: (error: TransportError) => void;
  /**
   * Monotonic clock in milliseconds for `receivedAtMs`.
   * @default performance.now
   */
  clock?: ClockMs;
}

/** Counters of a {@link UdpTransport}; a snapshot, not live. */
export interface UdpTransportStats {
  /** Datagrams taken off the socket, empty ones included. */
  datagramsReceived: number;
  /** Bytes in those datagrams (UDP payload). */
  bytesReceived: number;
  /** Empty datagrams (nothing of encstream is empty); never delivered. */
  malformed: number;
  /** Datagrams lost because the queue was full (the oldest queued one is dropped). */
  dropped: number;
  /** Datagrams waiting in the queue now. */
  queued: number;
  /** Datagrams the kernel accepted. */
  datagramsSent: number;
  /** Bytes in those datagrams. */
  bytesSent: number;
  /** Sends and socket reports refused with ECONNREFUSED (nothing listened at the destination). */
  refused: number;
}

/**
 * One UDP socket that both receives and sends datagrams (IPv4 or IPv6), with no parsing: the
 * `DatagramTransport` of `@encstream/session` (structurally; no dependency on it) for Node.
 * Unconnected, it receives from anyone and sends to the address each `send` names (a receiver
 * answering its sender); connected (`remote`), it receives only from that peer and sends to it
 * by default (a sender reading the receiver's reports). Node-only (`node:dgram`).
 */
export class UdpTransport implements AsyncIterable<UdpTransportDatagram> {
  /** The socket's IP version. */
  readonly family: IpFamily;
  /** The connected destination, or undefined. */
  readonly remote: UdpEndpoint | undefined;

  readonly #socket: Socket;
  readonly #queue: BoundedQueue<UdpTransportDatagram>;
  readonly #clock: ClockMs;
  readonly #maxDatagramBytes: number;
  readonly #onError: ((error: TransportError) => void) | undefined;
  readonly #boundAddress: string;
  readonly #boundPort: number;
  #closing: Promise<void> | undefined;
  readonly #counters = { datagramsReceived: 0, bytesReceived: 0, malformed: 0, dropped: 0, datagramsSent: 0, bytesSent: 0, refused: 0 };

  private constructor(
    socket: Socket,
    config: {
      family: IpFamily;
      remote: UdpEndpoint | undefined;
      maxQueue: number;
      maxDatagramBytes: number;
      clock: ClockMs;
      onError: ((error: TransportError) => void) | undefined;
    },
  ) {
    this.#socket = socket;
    this.family = config.family;
    this.remote = config.remote;
    this.#queue = new BoundedQueue(config.maxQueue, "drop-oldest");
    this.#clock = config.clock;
    this.#maxDatagramBytes = config.maxDatagramBytes;
    this.#onError = config.onError;
    const local = socket.address();
    this.#boundAddress = local.address;
    this.#boundPort = local.port;
    socket.on("message", (message, remote) => this.#receive(message, remote));
    socket.on("error", (error) => this.#fail(error));
  }

  /**
   * Binds a socket to `address:port`, joins `multicastGroup` if given, sets the multicast
   * options when `remote` is a multicast group, and, with `remote`, connects it.
   *
   * @throws TypeError / RangeError for a bad option, naming it (`port`, `remote.address`,
   *   `multicastGroup` that is not a multicast address, …).
   * @throws TransportError `"bind-failed"`, `"multicast-failed"` or `"connect-failed"` (with
   *   `systemCode`, e.g. `"EADDRINUSE"`, `"ENODEV"`); the promise rejects with it.
   */
  static async open(options: UdpTransportOptions = {}): Promise<UdpTransport> {
    if (typeof options !== "object" || options === null) throw new TypeError("options must be an object");
    const port = options.port === undefined ? 0 : checkPort("port", options.port, 0);
    const addressFamily = options.address === undefined ? undefined : checkAddress("address", options.address);
    let remote: UdpEndpoint | undefined;
    let remoteFamily: IpFamily | undefined;
    if (options.remote !== undefined) {
      if (typeof options.remote !== "object" || options.remote === null) throw new TypeError("remote must be an object");
      remoteFamily = checkAddress("remote.address", options.remote.address);
      remote = { address: options.remote.address, port: checkPort("remote.port", options.remote.port, 1) };
    }
    const family = checkFamily("family", options.family) ?? addressFamily ?? remoteFamily ?? "ipv4";
    if (addressFamily !== undefined) checkSameFamily("address", addressFamily, family);
    if (remoteFamily !== undefined) checkSameFamily("remote.address", remoteFamily, family);
    if (options.multicastGroup !== undefined) {
      checkSameFamily("multicastGroup", checkAddress("multicastGroup", options.multicastGroup), family);
      if (!isMulticastAddress(options.multicastGroup, family)) {
        throw new RangeError(`multicastGroup must be a multicast address, got ${JSON.stringify(options.multicastGroup)}`);
      }
    }
    if (options.multicastInterface !== undefined) {
      checkSameFamily("multicastInterface", checkAddress("multicastInterface", options.multicastInterface), family);
    }
    const multicastTtl = checkInteger("multicastTtl", options.multicastTtl, 0, MAX_MULTICAST_TTL_HOPS, DEFAULT_MULTICAST_TTL_HOPS);
    const multicastLoopback = checkBoolean("multicastLoopback", options.multicastLoopback, true);
    const reuseAddr = checkBoolean("reuseAddr", options.reuseAddr, false);
    const receiveBufferBytes = checkInteger("receiveBufferBytes", options.receiveBufferBytes, 1, 2 ** 31 - 1, DEFAULT_RECEIVE_BUFFER_BYTES);
    const maxQueue = checkInteger("maxQueue", options.maxQueue, 1, 1 << 20, DEFAULT_MAX_QUEUE_DATAGRAMS);
    const protocolMax = family === "ipv4" ? MAX_UDP_PAYLOAD_IPV4_BYTES : MAX_UDP_PAYLOAD_IPV6_BYTES;
    const maxDatagramBytes = checkInteger("maxDatagramBytes", options.maxDatagramBytes, 1, 1 << 20, protocolMax);
    const onError = checkFunction("onError", options.onError);
    const clock = checkFunction("clock", options.clock) ?? (() => performance.now());

    const socket = createSocket({
      type: family === "ipv4" ? "udp4" : "udp6",
      reuseAddr,
      recvBufferSize: receiveBufferBytes,
    });
    try {
      await bindSocket(socket, port, options.address ?? anyAddress(family));
      try {
        if (options.multicastGroup !== undefined) socket.addMembership(options.multicastGroup, options.multicastInterface);
        if (remote !== undefined && isMulticastAddress(remote.address, family)) {
          socket.setMulticastTTL(multicastTtl);
          socket.setMulticastLoopback(multicastLoopback);
          if (options.multicastInterface !== undefined) socket.setMulticastInterface(options.multicastInterface);
        }
      } catch (error) {
        const what = options.multicastGroup !== undefined ? `cannot join ${options.multicastGroup} on ${options.multicastInterface ?? "the default interface"}` : "cannot set the multicast options";
        throw wrapSystemError("multicast-failed", what, error);
      }
      if (remote !== undefined) await connectSocket(socket, remote.port, remote.address);
    } catch (error) {
      await closeQuietly(socket);
      throw error;
    }
    return new UdpTransport(socket, { family, remote, maxQueue, maxDatagramBytes, clock, onError });
  }

  /** The local address the socket is bound to. */
  get address(): string {
    return this.#boundAddress;
  }

  /** The local port the socket is bound to (the ephemeral one picked for `port: 0`). */
  get port(): number {
    return this.#boundPort;
  }

  /** Size in bytes of the kernel receive buffer the socket got (as the kernel reports it), or 0 once closed. */
  get receiveBufferBytes(): number {
    try {
      return this.#socket.getRecvBufferSize();
    } catch {
      return 0;
    }
  }

  /** Whether {@link UdpTransport.close} was called (or the socket failed). */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** A snapshot of the counters. */
  get stats(): UdpTransportStats {
    return { ...this.#counters, queued: this.#queue.length };
  }

  /**
   * Sends each of `datagrams` as one UDP datagram to `to` (or the connected `remote`), all at
   * once; settles when the kernel has answered each. The caller must not change them until then.
   *
   * @returns `"refused"` when the kernel reported ECONNREFUSED for any of them (nothing listens
   *   at a connected destination: a lost datagram, as on a network), else `"sent"`
   * @throws TypeError / RangeError (synchronously) for datagrams that are not Uint8Arrays, or a
   *   bad or missing `to`
   * @throws TransportError (the promise rejects): `"too-large"` (nothing is sent), `"closed"`,
   *   `"send-failed"`
   */
  send(datagrams: readonly Uint8Array[], to?: UdpEndpoint): Promise<UdpSendOutcome> {
    if (!Array.isArray(datagrams)) throw new TypeError("datagrams must be an array of Uint8Array");
    for (const [index, datagram] of datagrams.entries()) {
      if (!(datagram instanceof Uint8Array)) throw new TypeError(`datagrams[${index}] must be a Uint8Array, got ${typeof datagram}`);
    }
    let destination: UdpEndpoint | undefined;
    if (to !== undefined && (this.remote === undefined || to.address !== this.remote.address || to.port !== this.remote.port)) {
      if (this.remote !== undefined) {
        throw new RangeError(`to must be the connected destination ${this.remote.address}:${this.remote.port}, got ${String(to.address)}:${String(to.port)}`);
      }
      checkSameFamily("to.address", checkAddress("to.address", to.address), this.family);
      destination = { address: to.address, port: checkPort("to.port", to.port, 1) };
    } else if (this.remote === undefined) {
      throw new RangeError("to is required: this transport is not connected to a destination");
    }
    return this.#sendNow(datagrams, destination);
  }

  async #sendNow(datagrams: readonly Uint8Array[], to: UdpEndpoint | undefined): Promise<UdpSendOutcome> {
    if (this.closed) throw new TransportError("closed", "the UdpTransport is closed");
    for (const [index, datagram] of datagrams.entries()) {
      if (datagram.length > this.#maxDatagramBytes) {
        throw new TransportError("too-large", `datagrams[${index}] is ${datagram.length} bytes, above maxDatagramBytes (${this.#maxDatagramBytes})`);
      }
    }
    let refused = false;
    let failure: TransportError | undefined;
    await Promise.all(
      datagrams.map(
        (datagram) =>
          new Promise<void>((resolve) => {
            const done = (error: Error | null | undefined): void => {
              if (!error) {
                this.#counters.datagramsSent += 1;
                this.#counters.bytesSent += datagram.length;
              } else if (systemCodeOf(error) === "ECONNREFUSED") {
                refused = true;
              } else {
                failure ??= wrapSystemError("send-failed", "send failed", error);
              }
              resolve();
            };
            try {
              if (to === undefined) this.#socket.send(datagram, done);
              else this.#socket.send(datagram, to.port, to.address, done);
            } catch (error) {
              // dgram throws synchronously once the socket is closed (ERR_SOCKET_DGRAM_NOT_RUNNING).
              done(this.closed ? new TransportError("closed", "the UdpTransport is closed") : error instanceof Error ? error : new Error(String(error)));
            }
          }),
      ),
    );
    if (failure !== undefined) throw failure;
    if (refused) this.#counters.refused += 1;
    return refused ? "refused" : "sent";
  }

  /**
   * Iterates over the received datagrams, oldest first, until the transport is closed (then the
   * queued ones are still yielded). Leaving the loop early closes the transport.
   *
   * @throws TransportError `"socket-error"` (from `next()`) if the socket failed.
   */
  [Symbol.asyncIterator](): AsyncIterator<UdpTransportDatagram, undefined> {
    return {
      next: () => this.#queue.next(),
      return: async () => {
        this.#queue.end(undefined, true);
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Stops receiving and closes the socket; resolves once it is closed. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#queue.end();
    this.#closing = closeQuietly(this.#socket);
    return this.#closing;
  }

  #receive(message: Buffer, remote: RemoteInfo): void {
    const receivedAtMs = this.#clock();
    this.#counters.datagramsReceived += 1;
    this.#counters.bytesReceived += message.length;
    if (message.length === 0) {
      this.#counters.malformed += 1;
      return;
    }
    // A plain Uint8Array view of Node's Buffer: same memory, no copy, no Buffer API leak.
    const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    const outcome = this.#queue.push({ bytes, receivedAtMs, remoteAddress: remote.address, remotePort: remote.port });
    if (outcome === "dropped-oldest" || outcome === "dropped-newest") this.#counters.dropped += 1;
  }

  #fail(error: Error): void {
    const wrapped = wrapSystemError("socket-error", "the socket failed", error);
    if (wrapped.systemCode === "ECONNREFUSED") {
      // "Port unreachable" from the connected destination: nothing listens there now. UDP goes on.
      this.#counters.refused += 1;
      this.#onError?.(wrapped);
      return;
    }
    this.#onError?.(wrapped);
    this.#queue.end({ error: wrapped });
    void this.close();
  }
}
