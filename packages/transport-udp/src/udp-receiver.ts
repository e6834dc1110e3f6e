import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import { decodePacket, decodeSealedHeader, HEADER_BYTES, isPacketError, PacketError, type PacketHeader } from "@encstream/packet";
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_QUEUE_DATAGRAMS, DEFAULT_RECEIVE_BUFFER_BYTES } from "./constants.js";
import { TransportError } from "./errors.js";
import { BoundedQueue, type OverflowPolicy } from "./internal/bounded-queue.js";
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
import { bindSocket, closeQuietly } from "./internal/socket-ops.js";
import { wrapSystemError } from "./internal/system-error.js";

/** One datagram that `decodePacket` accepted, as a {@link UdpReceiver} delivers it. */
export interface ReceivedDatagram {
  /** The decoded header. */
  readonly header: PacketHeader;
  /**
   * The payload: a view into `bytes` (no copy). For a sealed datagram (option `sealed`), the
   * sealed part: security header, ciphertext and tag.
   */
  readonly payload: Uint8Array;
  /** The whole datagram. It is the caller's: the receiver never reuses or changes it. */
  readonly bytes: Uint8Array;
  /** The sender's address. */
  readonly remoteAddress: string;
  /** The sender's port. */
  readonly remotePort: number;
  /** When the datagram was taken off the socket, in milliseconds of the receiver's `clock`. */
  readonly receivedAtMs: number;
}

/** Options of {@link UdpReceiver.bind}. */
export interface UdpReceiverOptions {
  /** Local port, 0–65535; 0 picks an ephemeral one (read it back from {@link UdpReceiver.port}). */
  port: number;
  /**
   * Local address literal to bind to.
   * @default "0.0.0.0", or "::" when `family` or `multicastGroup` is IPv6
   */
  address?: string;
  /**
   * IP version of the socket; must match `address` and `multicastGroup`.
   * @default the family of `address`, else of `multicastGroup`, else "ipv4"
   */
  family?: IpFamily;
  /**
   * Multicast group to join after binding (bind to the wildcard address or the group itself to
   * receive its datagrams).
   * @default undefined (unicast only)
   */
  multicastGroup?: string;
  /**
   * Interface on which to join `multicastGroup`, as an address of that interface
   * (`"127.0.0.1"`, or `"::%lo"` with an IPv6 scope).
   * @default the kernel's choice
   */
  multicastInterface?: string;
  /**
   * Let other sockets bind the same address and port (`SO_REUSEADDR`), as several receivers of
   * one multicast group on a host need.
   * @default false
   */
  reuseAddr?: boolean;
  /**
   * Size in bytes asked for the kernel's receive buffer (`SO_RCVBUF`); the kernel may cap it
   * (Linux: at `net.core.rmem_max`) or double it. The size granted is
   * {@link UdpReceiver.receiveBufferBytes}. Large, so that a burst or a flood of junk is held
   * until it is read instead of pushing real datagrams out.
   * @default 4194304 (`DEFAULT_RECEIVE_BUFFER_BYTES`, 4 MiB)
   */
  receiveBufferBytes?: number;
  /**
   * The datagrams are sealed (`DatagramSealer` of `@encstream/packet`): their header is checked
   * with `decodeSealedHeader` instead of `decodePacket`, and `payload` is the sealed part. The
   * receiver authenticates nothing; open them with a `DatagramOpener`.
   * @default false
   */
  sealed?: boolean;
  /**
   * Most datagrams held for the async iterator, 1–1 048 576. A reader slower than the network
   * never makes the queue grow past this; what it loses is counted in `stats.dropped`.
   * @default 1024
   */
  maxQueue?: number;
  /**
   * Which datagram a full queue gives up: `"drop-oldest"` keeps the newest (what real-time
   * audio wants), `"drop-newest"` keeps what is queued and drops the arrival.
   * @default "drop-oldest"
   */
  overflow?: OverflowPolicy;
  /**
   * Largest `total_length` in bytes a header may announce; datagrams above it are counted as
   * malformed (`PacketError` `"too-large"`) and not delivered.
   * @default 65536
   */
  maxMessageBytes?: number;
  /**
   * Called with every delivered datagram, synchronously as it arrives. When given, datagrams
   * are queued for the async iterator only once `[Symbol.asyncIterator]()` has been called;
   * without it they are queued from the moment of binding. What it throws is not caught.
   * @default undefined
   */
  onDatagram?: (datagram: ReceivedDatagram) => void;
  /**
   * Called with every datagram `decodePacket` rejected (already counted in `stats.malformed`).
   * @default undefined
   */
  onMalformed?: (error: PacketError, bytes: Uint8Array, remote: { address: string; port: number }) => void;
  /**
   * Called with an error the socket reports after binding (`"socket-error"`); the receiver
   * closes and the async iterator rejects with it after the queued datagrams.
   * @default undefined
   */
  onError?: (error: TransportError) => void;
  /**
   * Aborting it closes the receiver (the iterator ends cleanly). Already aborted: `bind`
   * rejects with `"aborted"`.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Monotonic clock in milliseconds for `receivedAtMs`.
   * @default performance.now
   */
  clock?: ClockMs;
}

/** Counters of a {@link UdpReceiver}; a snapshot, not live. */
export interface UdpReceiverStats {
  /** Datagrams taken off the socket, malformed ones included. */
  datagramsReceived: number;
  /** Bytes in those datagrams (UDP payload). */
  bytesReceived: number;
  /** Datagrams rejected by `decodePacket` or above `maxMessageBytes`; never delivered. */
  malformed: number;
  /** Valid datagrams handed to `onDatagram` and/or the queue. */
  delivered: number;
  /** Valid datagrams lost because the queue was full (the oldest or the new one, per `overflow`). */
  dropped: number;
  /** Datagrams waiting in the queue now. */
  queued: number;
}

/**
 * Receives encstream datagrams on a UDP port (IPv4, IPv6, multicast), checks each with
 * `decodePacket` from `@encstream/packet`, counts and drops malformed ones, and hands the others
 * out through `onDatagram` and/or `for await (const d of receiver)`. Node-only (`node:dgram`).
 *
 * The async iterator reads from a bounded queue (`maxQueue`, `overflow`). `close()` (or
 * `signal`) ends it: datagrams already queued are still delivered, then it is done. Leaving a
 * `for await` loop early (`break`) closes the receiver.
 */
export class UdpReceiver implements AsyncIterable<ReceivedDatagram> {
  /** The socket's IP version. */
  readonly family: IpFamily;
  /** The multicast group joined, or `undefined`. */
  readonly multicastGroup: string | undefined;

  private readonly socket: Socket;
  private readonly queue: BoundedQueue<ReceivedDatagram>;
  private readonly clock: ClockMs;
  private readonly maxMessageBytes: number;
  private readonly sealed: boolean;
  private readonly onDatagram: ((datagram: ReceivedDatagram) => void) | undefined;
  private readonly onMalformed: UdpReceiverOptions["onMalformed"];
  private readonly onError: ((error: TransportError) => void) | undefined;
  private readonly boundAddress: string;
  private readonly boundPort: number;
  private queueing: boolean;
  private closing: Promise<void> | undefined;
  private detachSignal: (() => void) | undefined;
  private readonly counters = {
    datagramsReceived: 0,
    bytesReceived: 0,
    malformed: 0,
    delivered: 0,
    dropped: 0,
  };

  private constructor(
    socket: Socket,
    config: {
      family: IpFamily;
      multicastGroup: string | undefined;
      maxQueue: number;
      overflow: OverflowPolicy;
      maxMessageBytes: number;
      sealed: boolean;
      clock: ClockMs;
      onDatagram: UdpReceiverOptions["onDatagram"];
      onMalformed: UdpReceiverOptions["onMalformed"];
      onError: UdpReceiverOptions["onError"];
    },
  ) {
    this.socket = socket;
    this.family = config.family;
    this.multicastGroup = config.multicastGroup;
    this.queue = new BoundedQueue(config.maxQueue, config.overflow);
    this.clock = config.clock;
    this.maxMessageBytes = config.maxMessageBytes;
    this.sealed = config.sealed;
    this.onDatagram = config.onDatagram;
    this.onMalformed = config.onMalformed;
    this.onError = config.onError;
    this.queueing = config.onDatagram === undefined;
    const local = socket.address();
    this.boundAddress = local.address;
    this.boundPort = local.port;
    socket.on("message", (message, remote) => this.receive(message, remote));
    socket.on("error", (error) => this.fail(error));
  }

  /**
   * Binds a socket to `address:port`, joins `multicastGroup` if given, and starts receiving.
   *
   * @throws TypeError / RangeError for a bad option, naming it (`port`, `address`, …).
   * @throws TransportError `"bind-failed"` or `"multicast-failed"` (with `systemCode`, e.g.
   *   `"EADDRINUSE"`, `"ENODEV"`), or `"aborted"`; the promise rejects with it.
   */
  static async bind(options: UdpReceiverOptions): Promise<UdpReceiver> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object");
    }
    const port = checkPort("port", options.port, 0);
    const addressFamily = options.address === undefined ? undefined : checkAddress("address", options.address);
    const groupFamily =
      options.multicastGroup === undefined ? undefined : checkAddress("multicastGroup", options.multicastGroup);
    const family = checkFamily("family", options.family) ?? addressFamily ?? groupFamily ?? "ipv4";
    if (addressFamily !== undefined) checkSameFamily("address", addressFamily, family);
    if (groupFamily !== undefined) {
      checkSameFamily("multicastGroup", groupFamily, family);
      if (!isMulticastAddress(options.multicastGroup as string, family)) {
        throw new RangeError(`multicastGroup must be a multicast address, got ${JSON.stringify(options.multicastGroup)}`);
      }
    }
    if (options.multicastInterface !== undefined) {
      checkSameFamily(
        "multicastInterface",
        checkAddress("multicastInterface", options.multicastInterface),
        family,
      );
    }
    const reuseAddr = checkBoolean("reuseAddr", options.reuseAddr, false);
    const receiveBufferBytes = checkInteger(
      "receiveBufferBytes",
      options.receiveBufferBytes,
      1,
      2 ** 31 - 1,
      DEFAULT_RECEIVE_BUFFER_BYTES,
    );
    const sealed = checkBoolean("sealed", options.sealed, false);
    const maxQueue = checkInteger("maxQueue", options.maxQueue, 1, 1 << 20, DEFAULT_MAX_QUEUE_DATAGRAMS);
    const overflow = options.overflow ?? "drop-oldest";
    if (overflow !== "drop-oldest" && overflow !== "drop-newest") {
      throw new RangeError(`overflow must be "drop-oldest" or "drop-newest", got ${JSON.stringify(overflow)}`);
    }
    const maxMessageBytes = checkInteger(
      "maxMessageBytes",
      options.maxMessageBytes,
      0,
      0xffff_ffff,
      DEFAULT_MAX_MESSAGE_BYTES,
    );
    const onDatagram = checkFunction("onDatagram", options.onDatagram);
    const onMalformed = checkFunction("onMalformed", options.onMalformed);
    const onError = checkFunction("onError", options.onError);
    const clock = checkFunction("clock", options.clock) ?? (() => performance.now());
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError("signal must be an AbortSignal");
    }
    if (signal?.aborted) throw abortedError(signal);

    const socket = createSocket({
      type: family === "ipv4" ? "udp4" : "udp6",
      reuseAddr,
      recvBufferSize: receiveBufferBytes,
    });
    try {
      await bindSocket(socket, port, options.address ?? anyAddress(family));
      if (options.multicastGroup !== undefined) {
        try {
          socket.addMembership(options.multicastGroup, options.multicastInterface);
        } catch (error) {
          throw wrapSystemError(
            "multicast-failed",
            `cannot join ${options.multicastGroup} on ${options.multicastInterface ?? "the default interface"}`,
            error,
          );
        }
      }
      if (signal?.aborted) throw abortedError(signal);
    } catch (error) {
      await closeQuietly(socket);
      throw error;
    }
    const receiver = new UdpReceiver(socket, {
      family,
      multicastGroup: options.multicastGroup,
      maxQueue,
      overflow,
      maxMessageBytes,
      sealed,
      clock,
      onDatagram,
      onMalformed,
      onError,
    });
    if (signal !== undefined) {
      const onAbort = (): void => {
        void receiver.close();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      receiver.detachSignal = () => signal.removeEventListener("abort", onAbort);
    }
    return receiver;
  }

  /** The local address the socket is bound to. */
  get address(): string {
    return this.boundAddress;
  }

  /** The local port the socket is bound to (the ephemeral one picked for `port: 0`). */
  get port(): number {
    return this.boundPort;
  }

  /**
   * Size in bytes of the kernel receive buffer the socket got (`SO_RCVBUF` as the kernel
   * reports it: Linux doubles the request and caps it at twice `net.core.rmem_max`), or 0 once
   * closed.
   */
  get receiveBufferBytes(): number {
    try {
      return this.socket.getRecvBufferSize();
    } catch {
      return 0;
    }
  }

  /** Whether {@link UdpReceiver.close} was called (or `signal` aborted, or the socket failed). */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** A snapshot of the counters. */
  get stats(): UdpReceiverStats {
    return { ...this.counters, queued: this.queue.length };
  }

  /**
   * Iterates over the delivered datagrams, oldest first, until the receiver is closed (then
   * the queued ones are still yielded). Leaving the loop early closes the receiver. Several
   * iterators share one queue: each datagram goes to one of them.
   *
   * @throws TransportError `"socket-error"` (from `next()`) if the socket failed.
   */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedDatagram, undefined> {
    this.queueing = true;
    const iterator: AsyncIterableIterator<ReceivedDatagram> & AsyncIterator<ReceivedDatagram, undefined> = {
      next: () => this.queue.next(),
      return: async () => {
        this.queue.end(undefined, true);
        await this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Stops receiving and closes the socket; resolves once it is closed. The iterator yields
   * what is already queued, then ends. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.queue.end();
    this.detachSignal?.();
    this.closing = closeQuietly(this.socket);
    return this.closing;
  }

  private receive(message: Buffer, remote: RemoteInfo): void {
    const receivedAtMs = this.clock();
    this.counters.datagramsReceived += 1;
    this.counters.bytesReceived += message.length;
    // A plain Uint8Array view of Node's Buffer: same memory, no copy, no Buffer API leak.
    const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    let decoded: { header: PacketHeader; payload: Uint8Array };
    try {
      decoded = this.sealed ? { header: decodeSealedHeader(bytes), payload: bytes.subarray(HEADER_BYTES) } : decodePacket(bytes);
      if (decoded.header.totalLength > this.maxMessageBytes) {
        throw new PacketError(
          "too-large",
          `totalLength must be at most maxMessageBytes (${this.maxMessageBytes}), got ${decoded.header.totalLength}`,
        );
      }
    } catch (error) {
      if (!isPacketError(error)) throw error;
      this.counters.malformed += 1;
      this.onMalformed?.(error, bytes, { address: remote.address, port: remote.port });
      return;
    }
    const datagram: ReceivedDatagram = {
      header: decoded.header,
      payload: decoded.payload,
      bytes,
      remoteAddress: remote.address,
      remotePort: remote.port,
      receivedAtMs,
    };
    this.counters.delivered += 1;
    this.onDatagram?.(datagram);
    if (this.queueing) {
      const outcome = this.queue.push(datagram);
      if (outcome === "dropped-oldest" || outcome === "dropped-newest") this.counters.dropped += 1;
    }
  }

  private fail(error: Error): void {
    const wrapped = wrapSystemError("socket-error", "the receiving socket failed", error);
    this.onError?.(wrapped);
    this.queue.end({ error: wrapped });
    void this.close();
  }
}

function abortedError(signal: AbortSignal): TransportError {
  return new TransportError("aborted", "UdpReceiver.bind was aborted", { cause: signal.reason });
}
