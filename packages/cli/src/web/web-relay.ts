import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { DataChannelPeer, loadDataChannelLibrary, MAX_DATA_CHANNEL_ATTEMPTS, MAX_SIGNAL_BYTES, parseSignal, type DataChannelLibrary, type SignalToPage } from "./data-channel-peer.js";

/*
 * The relay behind `encstream receive --web [HOST:]PORT`: one HTTP server that serves the web
 * receiver page, the model's files, and a WebSocket (path /ws) on which every UDP datagram is
 * forwarded, unchanged, as one binary message to every open page. Pages decode and play on their
 * own (see examples/web-receiver). Routes:
 *
 *   GET /                    the page (web root's index.html); other files from the web root
 *   GET /receiver.json       what the page needs to decode: overlap, buffer size, model and LM URLs
 *   GET /model/<file>        config.json, model.safetensors and the language model, nothing else
 *   GET /relay-stats.json    the relay's counters (and the local receiver's, when it decodes too)
 *   WS  /ws                  the datagrams, and the signalling of a WebRTC data channel
 *
 * A page may ask on its WebSocket for a WebRTC data channel (see data-channel-peer.ts); once the
 * channel is open, that page's datagrams go on it (unordered, never retransmitted: no head-of-line
 * blocking) instead of on the WebSocket, and back on the WebSocket if the channel closes. Each
 * datagram goes to each page exactly once, on one of the two.
 *
 * Every response carries COOP/COEP (cross-origin isolation, for onnxruntime-web's threads). A page
 * that reads too slowly (more than maxBufferedBytes waiting) misses datagrams, counted in
 * `dropped`; the network never blocks the relay. Anything malformed a page sends (binary frames,
 * text that is not a signalling message, signalling out of turn) is dropped and counted in
 * `signalsDropped`.
 */

/** Options of {@link WebRelay.open}. */
export interface WebRelayOptions {
  /** Address to listen on. */
  readonly host: string;
  /** TCP port (0: any free port). */
  readonly port: number;
  /** Folder of the built page (index.html and its bundles). */
  readonly webRoot: string;
  /** The model's folder (`config.json` + `model.safetensors`), served under /model/. */
  readonly modelDir: string;
  /** The language-model file, served as /model/lm<ext>, or null. */
  readonly lmPath: string | null;
  /** What /receiver.json tells pages (must match the sender: `--overlap`; and `--buffer-size`). */
  readonly overlapRatio: number;
  readonly bufferFrames: number;
  /** The prefill as a duration, ms (`--buffer-size 200ms`): pages then buffer that much of each stream, in whole units. @default undefined */
  readonly bufferMs?: number | undefined;
  /** Bytes a page may have waiting before datagrams to it are dropped. @default 1048576 */
  readonly maxBufferedBytes?: number;
  /**
   * Offer pages a WebRTC data channel (node-datachannel, an optional dependency; without it pages
   * stay on the WebSocket). @default true
   */
  readonly webrtc?: boolean;
  /** Data channels open or being set up at once; pages asking beyond it stay on the WebSocket. @default 64 */
  readonly maxDataChannels?: number;
  /** Where the relay says a page's data channel opened or closed. @default undefined (silent) */
  readonly log?: (line: string) => void;
}

/** The relay's counters. */
export interface WebRelayStats {
  /** Pages connected now. */
  readonly pages: number;
  /** Pages connected since the start. */
  readonly pagesTotal: number;
  /** Datagrams given to the relay. */
  readonly datagrams: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Datagram copies not sent to a page that was too slow. */
  readonly dropped: number;
  /** Pages whose datagrams go on a WebRTC data channel now (the others: on their WebSocket). */
  readonly pagesOnDataChannel: number;
  /** Data channels opened since the start. */
  readonly dataChannelsOpened: number;
  /** Datagram copies sent on data channels (the rest of the relayed copies went on WebSockets). */
  readonly sentOnDataChannels: number;
  /** Messages from pages dropped as malformed or out of turn. */
  readonly signalsDropped: number;
  /** Why pages get no data channel, when they cannot (WebRTC off, node-datachannel missing). */
  readonly webrtcUnavailable: string | undefined;
}

/** One open page: its WebSocket and, once asked for, its data channel. */
interface PageLink {
  readonly ws: WebSocket;
  peer: DataChannelPeer | undefined;
  /** Data channels asked for on this WebSocket (a failed one may be asked for again). */
  attempts: number;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".map": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

const SECURITY_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
  "x-content-type-options": "nosniff",
};

/** The relay: see the comment at the top of this file. */
export class WebRelay {
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #options: WebRelayOptions;
  readonly #maxBuffered: number;
  readonly #pages = new Set<PageLink>();
  readonly #rtc: DataChannelLibrary | Error;
  #pagesTotal = 0;
  #datagrams = 0;
  #bytes = 0;
  #dropped = 0;
  #channelsOpened = 0;
  #sentOnChannels = 0;
  #signalsDropped = 0;
  #extraStats: (() => unknown) | undefined;

  private constructor(server: Server, wss: WebSocketServer, options: WebRelayOptions, rtc: DataChannelLibrary | Error) {
    this.#server = server;
    this.#wss = wss;
    this.#options = options;
    this.#maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    this.#rtc = rtc;
  }

  /**
   * Starts the HTTP and WebSocket server.
   * @throws Error when the port cannot be listened on, or the web root has no index.html
   */
  static async open(options: WebRelayOptions): Promise<WebRelay> {
    if (!existsSync(path.join(options.webRoot, "index.html"))) {
      throw new Error(`${options.webRoot}: no index.html (build the web receiver: pnpm --filter @encstream/example-web-receiver build, or give --web-root)`);
    }
    const rtc = options.webrtc === false ? new Error("WebRTC is off (--no-webrtc)") : await loadDataChannelLibrary();
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SIGNAL_BYTES });
    const relay = new WebRelay(server, wss, options, rtc);
    server.on("request", (req, res) => relay.#serve(req, res));
    server.on("upgrade", (req, socket, head) => {
      if (new URL(req.url ?? "/", "http://x").pathname !== "/ws") {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => relay.#addPage(ws));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return relay;
  }

  /** The page's URL (a host of 0.0.0.0/:: is shown as 127.0.0.1/[::1]). */
  get url(): string {
    const a = this.#server.address() as AddressInfo;
    const host = a.address === "0.0.0.0" ? "127.0.0.1" : a.address === "::" ? "::1" : a.address;
    return `http://${host.includes(":") ? `[${host}]` : host}:${a.port}/`;
  }

  /** A snapshot of the counters. */
  get stats(): WebRelayStats {
    let onChannel = 0;
    for (const page of this.#pages) if (page.peer?.open === true) onChannel++;
    return {
      pages: this.#pages.size,
      pagesTotal: this.#pagesTotal,
      datagrams: this.#datagrams,
      bytes: this.#bytes,
      dropped: this.#dropped,
      pagesOnDataChannel: onChannel,
      dataChannelsOpened: this.#channelsOpened,
      sentOnDataChannels: this.#sentOnChannels,
      signalsDropped: this.#signalsDropped,
      webrtcUnavailable: this.#rtc instanceof Error ? this.#rtc.message : undefined,
    };
  }

  /** Adds `receiver` (the local receiver's statistics) to /relay-stats.json. */
  setReceiverStats(receiver: () => unknown): void {
    this.#extraStats = receiver;
  }

  /** Forwards one datagram to every open page (never blocks, never throws). */
  relay(bytes: Uint8Array): void {
    this.#datagrams++;
    this.#bytes += bytes.byteLength;
    for (const { ws, peer } of this.#pages) {
      if (peer?.open === true) {
        const sent = peer.send(bytes, this.#maxBuffered);
        if (sent === "sent") {
          this.#sentOnChannels++;
          continue;
        }
        if (sent === "full") {
          this.#dropped++;
          continue;
        }
        // Closed just now: the WebSocket takes over.
      }
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount > this.#maxBuffered) {
        this.#dropped++;
        continue;
      }
      ws.send(bytes, { binary: true }, () => undefined);
    }
  }

  /** Closes every page's connection and the server. */
  async close(): Promise<void> {
    for (const { ws, peer } of this.#pages) {
      peer?.close();
      ws.terminate();
    }
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #addPage(ws: WebSocket): void {
    const page: PageLink = { ws, peer: undefined, attempts: 0 };
    this.#pages.add(page);
    this.#pagesTotal++;
    const id = this.#pagesTotal;
    ws.on("message", (data: RawData, isBinary: boolean) => this.#onPageMessage(page, id, data, isBinary));
    const remove = (): void => {
      page.peer?.close();
      this.#pages.delete(page);
    };
    ws.on("error", remove);
    ws.on("close", remove);
  }

  /** A message from a page: only signalling (text); anything else is dropped and counted. */
  #onPageMessage(page: PageLink, id: number, data: RawData, isBinary: boolean): void {
    const message = isBinary ? undefined : parseSignal(Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString("utf8"));
    if (message === undefined) {
      this.#signalsDropped++;
      return;
    }
    const signal = (m: SignalToPage): void => {
      if (page.ws.readyState === page.ws.OPEN) page.ws.send(JSON.stringify(m));
    };
    if (message.type !== "rtc-request") {
      if (page.peer === undefined || !page.peer.accept(message)) this.#signalsDropped++;
      return;
    }
    // One data channel per WebSocket at a time; a page whose channel failed (or never opened) may ask again.
    if (page.peer?.open === true || page.attempts >= MAX_DATA_CHANNEL_ATTEMPTS) {
      this.#signalsDropped++;
      return;
    }
    const rtc = this.#rtc;
    if (rtc instanceof Error) {
      signal({ type: "rtc-unavailable", reason: rtc.message });
      return;
    }
    page.peer?.close("replaced by the page's new request");
    page.peer = undefined;
    let peers = 0;
    for (const p of this.#pages) if (p.peer !== undefined) peers++;
    if (peers >= (this.#options.maxDataChannels ?? 64)) {
      signal({ type: "rtc-unavailable", reason: "the relay has as many data channels as it allows" });
      return;
    }
    page.attempts++;
    try {
      page.peer = new DataChannelPeer(rtc, `page-${id}-${page.attempts}`, {
        signal,
        onOpenChange: (open, why) => {
          if (open) this.#channelsOpened++;
          this.#options.log?.(`page ${id}: ${open ? "on a WebRTC data channel" : `data channel closed (${why}), back on its WebSocket`}`);
        },
      });
    } catch (error) {
      signal({ type: "rtc-unavailable", reason: `the relay could not create a data channel: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, SECURITY_HEADERS).end();
        return;
      }
      const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      if (urlPath === "/receiver.json") {
        const lmName = this.#options.lmPath === null ? null : `lm${path.extname(this.#options.lmPath)}`;
        this.#json(res, {
          overlapRatio: this.#options.overlapRatio,
          bufferFrames: this.#options.bufferFrames,
          ...(this.#options.bufferMs !== undefined ? { bufferMs: this.#options.bufferMs } : {}),
          modelUrl: "model/",
          lmUrl: lmName === null ? null : `model/${lmName}`,
          websocketPath: "ws",
          webrtc: !(this.#rtc instanceof Error),
        });
        return;
      }
      if (urlPath === "/relay-stats.json") {
        this.#json(res, { relay: this.stats, receiver: this.#extraStats?.() ?? null });
        return;
      }
      if (urlPath.startsWith("/model/")) {
        const name = urlPath.slice("/model/".length);
        const lm = this.#options.lmPath;
        const file =
          name === "config.json" || name === "model.safetensors"
            ? path.join(this.#options.modelDir, name)
            : lm !== null && name === `lm${path.extname(lm)}`
              ? lm
              : undefined;
        this.#file(res, file, req.method === "HEAD", "no-cache");
        return;
      }
      const root = path.resolve(this.#options.webRoot);
      const file = path.resolve(root, `.${urlPath === "/" ? "/index.html" : urlPath}`);
      this.#file(res, file.startsWith(root + path.sep) ? file : undefined, req.method === "HEAD", "no-cache");
    } catch {
      if (!res.headersSent) res.writeHead(400, SECURITY_HEADERS);
      res.end();
    }
  }

  #json(res: ServerResponse, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  #file(res: ServerResponse, file: string | undefined, head: boolean, cacheControl: string): void {
    let size: number;
    try {
      if (file === undefined) throw new Error("not served");
      const info = statSync(file);
      if (!info.isFile()) throw new Error("not a file");
      size = info.size;
    } catch {
      res.writeHead(404, SECURITY_HEADERS).end();
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": cacheControl,
    });
    if (head) {
      res.end();
      return;
    }
    createReadStream(file)
      .on("error", () => res.destroy())
      .pipe(res);
  }
}
