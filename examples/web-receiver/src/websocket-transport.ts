import type { DatagramEndpoint, DatagramTransport, DatagramTransportStats, InboundDatagram, SendOutcome } from "@encstream/session";

/** Largest datagram accepted from the relay, bytes (UDP's limit); bigger messages are malformed. */
export const MAX_DATAGRAM_BYTES = 65_507;
/** Datagrams held for a slow reader before new ones are dropped. */
export const MAX_QUEUED_DATAGRAMS = 4096;

/**
 * The browser side of `encstream receive --web`: a receive-only {@link DatagramTransport} over a
 * WebSocket, one binary message per UDP datagram. A text or oversized message is malformed and
 * dropped (counted), never fatal; the iterator ends when the socket closes.
 */
export class WebSocketTransport implements DatagramTransport {
  readonly #ws: WebSocket;
  readonly #queue: InboundDatagram[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #received = 0;
  #bytes = 0;
  #malformed = 0;
  #dropped = 0;
  /** Resolves once the socket is open; rejects if it fails first. */
  readonly opened: Promise<void>;

  constructor(url: string | URL) {
    this.#ws = new WebSocket(url);
    this.#ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.#ws.addEventListener("open", () => resolve(), { once: true });
      this.#ws.addEventListener("error", () => reject(new Error(`WebSocket ${String(url)}: connection failed`)), { once: true });
    });
    this.opened.catch(() => undefined);
    this.#ws.addEventListener("message", (e: MessageEvent) => this.#onMessage(e.data));
    this.#ws.addEventListener("close", () => this.#end());
  }

  #onMessage(data: unknown): void {
    const receivedAtMs = performance.now();
    this.#received++;
    if (!(data instanceof ArrayBuffer) || data.byteLength === 0 || data.byteLength > MAX_DATAGRAM_BYTES) {
      this.#malformed++;
      return;
    }
    this.#bytes += data.byteLength;
    if (this.#queue.length >= MAX_QUEUED_DATAGRAMS) {
      this.#dropped++;
      return;
    }
    this.#queue.push({ bytes: new Uint8Array(data), receivedAtMs, remoteAddress: "relay", remotePort: 0 });
    this.#wake?.();
  }

  #end(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** A snapshot of the counters. */
  get stats(): DatagramTransportStats {
    return { datagramsReceived: this.#received, bytesReceived: this.#bytes, malformed: this.#malformed, dropped: this.#dropped, datagramsSent: 0, bytesSent: 0 };
  }

  /** Receive-only: pages never send. @throws Error always */
  send(_datagrams: readonly Uint8Array[], _to?: DatagramEndpoint): Promise<SendOutcome> {
    return Promise.reject(new Error("WebSocketTransport is receive-only"));
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
