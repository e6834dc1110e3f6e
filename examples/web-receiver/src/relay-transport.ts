import type { DatagramEndpoint, DatagramTransport, DatagramTransportStats, InboundDatagram, SendOutcome } from "@encstream/session";

/** Largest datagram accepted from the relay, bytes (UDP's limit); bigger messages are malformed. */
export const MAX_DATAGRAM_BYTES = 65_507;
/** Datagrams held for a slow reader before new ones are dropped. */
export const MAX_QUEUED_DATAGRAMS = 4096;

/** The counters of a {@link RelayTransport}: the transport's, and which path the datagrams came by. */
export interface RelayTransportStats extends DatagramTransportStats {
  /** Datagrams that came on the WebSocket. */
  readonly onWebSocket: number;
  /** Datagrams that came on the WebRTC data channel (handed over by the page). */
  readonly onDataChannel: number;
}

/** Options of {@link RelayTransport}. */
export interface RelayTransportOptions {
  /** Called with each text message of the relay (WebRTC signalling, see the cli's data-channel-peer.ts). */
  readonly onSignal?: (text: string) => void;
}

/**
 * The browser side of `encstream receive --web`: a receive-only {@link DatagramTransport} fed by
 * the relay's WebSocket (one binary message per UDP datagram) and, once the page has one, by its
 * WebRTC data channel ({@link pushFromDataChannel}); the relay sends each datagram on one of the two.
 * Text messages on the WebSocket are signalling, handed to `onSignal`. An empty or oversized
 * datagram is malformed and dropped (counted), never fatal; the iterator ends when the WebSocket
 * closes.
 */
export class RelayTransport implements DatagramTransport {
  readonly #ws: WebSocket;
  readonly #queue: InboundDatagram[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #received = 0;
  #bytes = 0;
  #malformed = 0;
  #dropped = 0;
  #onWebSocket = 0;
  #onDataChannel = 0;
  /** Resolves once the socket is open; rejects if it fails first. */
  readonly opened: Promise<void>;

  constructor(url: string | URL, options: RelayTransportOptions = {}) {
    this.#ws = new WebSocket(url);
    this.#ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.#ws.addEventListener("open", () => resolve(), { once: true });
      this.#ws.addEventListener("error", () => reject(new Error(`WebSocket ${String(url)}: connection failed`)), { once: true });
    });
    this.opened.catch(() => undefined);
    this.#ws.addEventListener("message", (e: MessageEvent) => {
      if (typeof e.data === "string") options.onSignal?.(e.data);
      else if (this.#take(e.data, performance.now())) this.#onWebSocket++;
    });
    this.#ws.addEventListener("close", () => this.#end());
  }

  /** Sends a text (signalling) message to the relay; false when the socket is not open. */
  sendSignal(text: string): boolean {
    if (this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(text);
    return true;
  }

  /**
   * A datagram that came on the page's data channel, received at `receivedAtMs` (this context's
   * `performance.now()` clock). Ignored once the transport is closed.
   */
  pushFromDataChannel(data: unknown, receivedAtMs: number): void {
    if (this.#closed) return;
    if (this.#take(data, receivedAtMs)) this.#onDataChannel++;
  }

  /** Queues one datagram; false when it was malformed or dropped. */
  #take(data: unknown, receivedAtMs: number): boolean {
    this.#received++;
    if (!(data instanceof ArrayBuffer) || data.byteLength === 0 || data.byteLength > MAX_DATAGRAM_BYTES) {
      this.#malformed++;
      return false;
    }
    this.#bytes += data.byteLength;
    if (this.#queue.length >= MAX_QUEUED_DATAGRAMS) {
      this.#dropped++;
      return false;
    }
    this.#queue.push({ bytes: new Uint8Array(data), receivedAtMs, remoteAddress: "relay", remotePort: 0 });
    this.#wake?.();
    return true;
  }

  #end(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** A snapshot of the counters. */
  get stats(): RelayTransportStats {
    return {
      datagramsReceived: this.#received,
      bytesReceived: this.#bytes,
      malformed: this.#malformed,
      dropped: this.#dropped,
      datagramsSent: 0,
      bytesSent: 0,
      onWebSocket: this.#onWebSocket,
      onDataChannel: this.#onDataChannel,
    };
  }

  /** Receive-only: pages send no datagrams. @throws Error always */
  send(_datagrams: readonly Uint8Array[], _to?: DatagramEndpoint): Promise<SendOutcome> {
    return Promise.reject(new Error("RelayTransport is receive-only"));
  }

  /** Closes the socket; the iterator ends. */
  async close(): Promise<void> {
    this.#ws.close();
    this.#end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<InboundDatagram> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
