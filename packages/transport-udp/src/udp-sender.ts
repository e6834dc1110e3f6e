import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import {
  DEFAULT_MULTICAST_TTL_HOPS,
  MAX_MULTICAST_TTL_HOPS,
  MAX_UDP_PAYLOAD_IPV4_BYTES,
  MAX_UDP_PAYLOAD_IPV6_BYTES,
} from "./constants.js";
import { TransportError } from "./errors.js";
import {
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
import { Pacer, type ClockMs, type SleepMs } from "./internal/pacer.js";
import { bindSocket, closeQuietly, connectSocket } from "./internal/socket-ops.js";
import { wrapSystemError } from "./internal/system-error.js";

/** How {@link UdpSender.sendFrame} spaces frames in time. */
export type PacingMode = "real-time" | "none";

/** Options of {@link UdpSender.open}. */
export interface UdpSenderOptions {
  /** Destination IPv4 or IPv6 address literal, unicast or multicast (host names are not resolved). */
  address: string;
  /** Destination port, 1–65535. */
  port: number;
  /**
   * IP version of the socket; must match `address`.
   * @default the family of `address`
   */
  family?: IpFamily;
  /**
   * Local address to bind to (must be of the same family).
   * @default any address ("0.0.0.0" or "::")
   */
  bindAddress?: string;
  /**
   * Local port to bind to, 0 for an ephemeral one.
   * @default 0
   */
  bindPort?: number;
  /**
   * Multicast time-to-live (IPv4) / hop limit (IPv6) in hops, 0–255; only used when `address`
   * is a multicast group.
   * @default 1
   */
  multicastTtl?: number;
  /**
   * Whether this host's own members of the group receive the datagrams (needed to receive on
   * the sending machine); only used for a multicast `address`.
   * @default true
   */
  multicastLoopback?: boolean;
  /**
   * Outgoing interface for multicast, as an address of that interface (`"127.0.0.1"`, or
   * `"::%lo"` with an IPv6 scope); only used for a multicast `address`.
   * @default the kernel's choice (from the routing table)
   */
  multicastInterface?: string;
  /**
   * `"real-time"`: frame k goes out no earlier than the first frame's time plus the durations
   * of frames 0…k−1. `"none"`: every frame goes out at once (benchmarks, files).
   * @default "real-time"
   */
  pacing?: PacingMode;
  /**
   * Largest datagram in bytes {@link UdpSender.sendFrame} accepts; larger ones reject with
   * `"too-large"` before anything is sent.
   * @default 65507 for IPv4, 65527 for IPv6 (the protocol limits)
   */
  maxDatagramBytes?: number;
  /**
   * Called with errors the socket reports on its own, not in answer to a send (`"socket-error"`,
   * e.g. `ECONNREFUSED` after "port unreachable" from the destination). Without it such an
   * error is kept and the next `send`/`sendFrame` rejects with it instead.
   * @default undefined
   */
  onError?: (error: TransportError) => void;
  /**
   * Monotonic clock in milliseconds, for the schedule and stats (tests inject a fake one).
   * @default performance.now
   */
  clock?: ClockMs;
  /**
   * How to wait until a frame is due; must let `clock` advance (tests inject a fake one).
   * @default a `setTimeout` that `close()` cancels
   */
  sleep?: SleepMs;
}

/** Counters of a {@link UdpSender}; a snapshot, not live. */
export interface UdpSenderStats {
  /** Datagrams the kernel accepted. */
  datagramsSent: number;
  /** Bytes in those datagrams (UDP payload, no IP/UDP headers). */
  bytesSent: number;
  /** Frames whose every datagram the kernel accepted. */
  framesSent: number;
  /** Sends, frames or socket errors that were reported (rejected or given to `onError`). */
  errors: number;
  /** How late the last frame went out relative to its due time, in milliseconds (≥ 0). */
  behindScheduleMs: number;
  /** The largest `behindScheduleMs` seen so far, in milliseconds. */
  maxBehindScheduleMs: number;
  /** Sum of the durations of the frames scheduled so far, in milliseconds. */
  scheduledMs: number;
}

/**
 * Sends datagrams to one IPv4/IPv6 unicast or multicast destination over UDP, paced at real
 * time from the durations of the frames they belong to. Node-only (`node:dgram`).
 *
 * The socket is connected to the destination, so "port unreachable" answers surface as
 * `"socket-error"` with `systemCode` `"ECONNREFUSED"` (see `onError`). Create with
 * {@link UdpSender.open}; release with {@link UdpSender.close}.
 */
export class UdpSender {
  /** The destination address. */
  readonly remoteAddress: string;
  /** The destination port. */
  readonly remotePort: number;
  /** The socket's IP version. */
  readonly family: IpFamily;
  /** Whether the destination is a multicast group. */
  readonly multicast: boolean;

  private readonly socket: Socket;
  private readonly pacer: Pacer;
  private readonly pacing: PacingMode;
  private readonly maxDatagramBytes: number;
  private readonly onError: ((error: TransportError) => void) | undefined;
  private pendingError: TransportError | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private isClosed = false;
  private closing: Promise<void> | undefined;
  private readonly counters: UdpSenderStats = {
    datagramsSent: 0,
    bytesSent: 0,
    framesSent: 0,
    errors: 0,
    behindScheduleMs: 0,
    maxBehindScheduleMs: 0,
    scheduledMs: 0,
  };

  private constructor(
    socket: Socket,
    config: {
      remoteAddress: string;
      remotePort: number;
      family: IpFamily;
      multicast: boolean;
      pacing: PacingMode;
      maxDatagramBytes: number;
      onError: ((error: TransportError) => void) | undefined;
      clock: ClockMs;
      sleep: SleepMs | undefined;
    },
  ) {
    this.socket = socket;
    this.remoteAddress = config.remoteAddress;
    this.remotePort = config.remotePort;
    this.family = config.family;
    this.multicast = config.multicast;
    this.pacing = config.pacing;
    this.maxDatagramBytes = config.maxDatagramBytes;
    this.onError = config.onError;
    this.pacer = new Pacer(config.clock, config.sleep);
    socket.on("error", (error) => this.reportSocketError(error));
  }

  /**
   * Opens a socket bound to `bindAddress:bindPort`, sets the multicast options when `address`
   * is a group, and connects it to `address:port`.
   *
   * @throws TypeError / RangeError for a bad option, naming it (`port`, `address`, …).
   * @throws TransportError `"bind-failed"`, `"multicast-failed"` or `"connect-failed"` (with
   *   `systemCode`) when the kernel refuses; the promise rejects with it.
   */
  static async open(options: UdpSenderOptions): Promise<UdpSender> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object");
    }
    const addressFamily = checkAddress("address", options.address);
    const remotePort = checkPort("port", options.port, 1);
    const family = checkFamily("family", options.family) ?? addressFamily;
    checkSameFamily("address", addressFamily, family);
    if (options.bindAddress !== undefined) {
      checkSameFamily("bindAddress", checkAddress("bindAddress", options.bindAddress), family);
    }
    const bindPort = options.bindPort === undefined ? 0 : checkPort("bindPort", options.bindPort, 0);
    const multicastTtl = checkInteger(
      "multicastTtl",
      options.multicastTtl,
      0,
      MAX_MULTICAST_TTL_HOPS,
      DEFAULT_MULTICAST_TTL_HOPS,
    );
    const multicastLoopback = checkBoolean("multicastLoopback", options.multicastLoopback, true);
    if (options.multicastInterface !== undefined) {
      checkSameFamily(
        "multicastInterface",
        checkAddress("multicastInterface", options.multicastInterface),
        family,
      );
    }
    const pacing = options.pacing ?? "real-time";
    if (pacing !== "real-time" && pacing !== "none") {
      throw new RangeError(`pacing must be "real-time" or "none", got ${JSON.stringify(pacing)}`);
    }
    const protocolMax = family === "ipv4" ? MAX_UDP_PAYLOAD_IPV4_BYTES : MAX_UDP_PAYLOAD_IPV6_BYTES;
    // Above the protocol limit is allowed so that the kernel's own refusal can be seen.
    const maxDatagramBytes = checkInteger("maxDatagramBytes", options.maxDatagramBytes, 1, 1 << 20, protocolMax);
    const onError = checkFunction("onError", options.onError);
    const clock = checkFunction("clock", options.clock) ?? (() => performance.now());
    const sleep = checkFunction("sleep", options.sleep);
    const multicast = isMulticastAddress(options.address, family);

    const socket = createSocket(family === "ipv4" ? "udp4" : "udp6");
    try {
      await bindSocket(socket, bindPort, options.bindAddress);
      if (multicast) {
        try {
          socket.setMulticastTTL(multicastTtl);
          socket.setMulticastLoopback(multicastLoopback);
          if (options.multicastInterface !== undefined) {
            socket.setMulticastInterface(options.multicastInterface);
          }
        } catch (error) {
          throw wrapSystemError("multicast-failed", "cannot set the multicast options", error);
        }
      }
      await connectSocket(socket, remotePort, options.address);
    } catch (error) {
      await closeQuietly(socket);
      throw error;
    }
    return new UdpSender(socket, {
      remoteAddress: options.address,
      remotePort,
      family,
      multicast,
      pacing,
      maxDatagramBytes,
      onError,
      clock,
      sleep,
    });
  }

  /** The local address the socket is bound to. */
  get localAddress(): string {
    return this.socket.address().address;
  }

  /** The local port the socket is bound to. */
  get localPort(): number {
    return this.socket.address().port;
  }

  /** Whether {@link UdpSender.close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** A snapshot of the counters. */
  get stats(): UdpSenderStats {
    return { ...this.counters };
  }

  /**
   * Sends the datagrams of one frame, then moves the schedule on by `durationMs`. With
   * `pacing: "real-time"` the frame waits until `start + (sum of the previous frames'
   * durations)`, where `start` is when the first frame was sent; a frame that is already late
   * goes out at once, so a sender that fell behind catches up without drifting. Frames are
   * sent in call order, even when calls are not awaited. An empty `datagrams` keeps the
   * frame's time slot and sends nothing.
   *
   * The datagrams are sent as they are (each one UDP datagram, typically from
   * `splitIntoFragments`); the caller must not change them until the promise settles.
   *
   * @throws TypeError / RangeError (synchronously) for a `datagrams` that is not an array of
   *   Uint8Array or a `durationMs` that is not a finite number ≥ 0.
   * @throws TransportError (the promise rejects): `"too-large"` for a datagram above
   *   `maxDatagramBytes` (nothing of the frame is sent, the schedule does not move),
   *   `"closed"`, `"send-failed"`, or a kept `"socket-error"` (see `onError`).
   */
  sendFrame(datagrams: readonly Uint8Array[], durationMs: number): Promise<void> {
    checkDatagrams(datagrams);
    if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0) {
      throw new RangeError(`durationMs must be a finite number >= 0, got ${String(durationMs)}`);
    }
    const frame = this.tail.then(() => this.sendFrameNow(datagrams, durationMs));
    this.tail = frame.catch(() => undefined);
    return frame;
  }

  /**
   * Sends one datagram at once, outside the schedule (it neither waits nor moves it), after
   * the frames already passed to `sendFrame`. Ownership and errors as {@link UdpSender.sendFrame}.
   */
  send(datagram: Uint8Array): Promise<void> {
    checkDatagrams([datagram]);
    const sent = this.tail.then(() => this.sendNow([datagram]));
    this.tail = sent.catch(() => undefined);
    return sent;
  }

  /**
   * Closes the socket. Frames not yet sent reject with `"closed"`; a frame waiting for its time
   * stops waiting. Await `sendFrame` first to send everything. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.isClosed = true;
    this.pacer.cancel();
    this.closing = closeQuietly(this.socket);
    return this.closing;
  }

  private async sendFrameNow(datagrams: readonly Uint8Array[], durationMs: number): Promise<void> {
    this.throwIfUnusable(datagrams);
    if (this.pacing === "real-time") {
      const behindMs = await this.pacer.waitForNextFrame();
      if (behindMs < 0) throw this.countError(closedError());
      this.counters.behindScheduleMs = behindMs;
      this.counters.maxBehindScheduleMs = Math.max(this.counters.maxBehindScheduleMs, behindMs);
    }
    // The slot is used whether or not the kernel takes the datagrams: later frames keep time.
    this.pacer.advance(durationMs);
    this.counters.scheduledMs += durationMs;
    await this.sendNow(datagrams);
    this.counters.framesSent += 1;
  }

  private throwIfUnusable(datagrams: readonly Uint8Array[]): void {
    if (this.isClosed) throw this.countError(closedError());
    for (const [index, datagram] of datagrams.entries()) {
      if (datagram.length > this.maxDatagramBytes) {
        throw this.countError(
          new TransportError(
            "too-large",
            `datagrams[${index}] is ${datagram.length} bytes, above maxDatagramBytes (${this.maxDatagramBytes})`,
          ),
        );
      }
    }
  }

  /** Sends all of `datagrams` without waiting between them; settles when the kernel answered each. */
  private sendNow(datagrams: readonly Uint8Array[]): Promise<void> {
    this.throwIfUnusable(datagrams);
    if (this.pendingError !== undefined) {
      const error = this.pendingError;
      this.pendingError = undefined;
      throw error; // already counted when it was kept
    }
    return new Promise<void>((resolve, reject) => {
      let waiting = datagrams.length;
      let failure: TransportError | undefined;
      const settle = (): void => {
        if (failure !== undefined) reject(failure);
        else resolve();
      };
      if (waiting === 0) {
        settle();
        return;
      }
      const onSent = (error: Error | null, byteLength: number): void => {
        if (error) {
          failure ??= this.countError(wrapSystemError("send-failed", "send failed", error));
        } else {
          this.counters.datagramsSent += 1;
          this.counters.bytesSent += byteLength;
        }
        waiting -= 1;
        if (waiting === 0) settle();
      };
      for (const datagram of datagrams) {
        try {
          this.socket.send(datagram, (error) => onSent(error, datagram.length));
        } catch (error) {
          // dgram throws synchronously once the socket is closed (ERR_SOCKET_DGRAM_NOT_RUNNING).
          onSent(
            this.isClosed ? closedError() : error instanceof Error ? error : new Error(String(error)),
            0,
          );
        }
      }
    });
  }

  private reportSocketError(error: Error): void {
    const wrapped = this.countError(
      wrapSystemError(
        "socket-error",
        `socket error from ${this.remoteAddress}:${this.remotePort}`,
        error,
      ),
    );
    if (this.onError !== undefined) this.onError(wrapped);
    else this.pendingError ??= wrapped;
  }

  private countError(error: TransportError): TransportError {
    this.counters.errors += 1;
    return error;
  }
}

function closedError(): TransportError {
  return new TransportError("closed", "the UdpSender is closed");
}

function checkDatagrams(datagrams: readonly Uint8Array[]): void {
  if (!Array.isArray(datagrams)) throw new TypeError("datagrams must be an array of Uint8Array");
  for (const [index, datagram] of datagrams.entries()) {
    if (!(datagram instanceof Uint8Array)) {
      throw new TypeError(`datagrams[${index}] must be a Uint8Array, got ${typeof datagram}`);
    }
  }
}
