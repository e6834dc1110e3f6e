// The page's side of the relay's WebRTC data channel (RTCPeerConnection exists only on the page's
// main thread, not in workers). The decode worker owns the WebSocket: it forwards the relay's
// signalling here and what this sends back; the channel's datagrams go to the worker on a
// MessagePort. See the cli's src/web/data-channel-peer.ts for the messages.

/** How long the channel may take to open before the page stays on the WebSocket. */
export const DATA_CHANNEL_OPEN_TIMEOUT_MS = 10_000;
/**
 * Data channels the page asks for on one WebSocket: a handshake that fails (they do now and then,
 * even on loopback) is tried again, up to this many in all (the relay allows as many).
 */
export const DATA_CHANNEL_ATTEMPTS = 3;

/** What happened to a link, for the page to show. */
export type DataChannelLinkState =
  | { readonly kind: "open" }
  | { readonly kind: "failed"; readonly reason: string; readonly retryable: boolean }
  | { readonly kind: "closed"; readonly reason: string };

/** Options of {@link DataChannelLink}. */
export interface DataChannelLinkOptions {
  /** Sends a signalling message to the relay (through the worker's WebSocket). */
  readonly signal: (text: string) => void;
  /** Each datagram of the channel. */
  readonly onDatagram: (bytes: ArrayBuffer) => void;
  /** The channel opened, could not be had, or closed after opening. */
  readonly onState: (state: DataChannelLinkState) => void;
}

/** One WebRTC data channel to the relay, answering the relay's offer (the worker asks for it). */
export class DataChannelLink {
  readonly #options: DataChannelLinkOptions;
  readonly #pc: RTCPeerConnection;
  #remoteSet: Promise<void> | undefined;
  /** Held so that the channel lives as long as the link (a collected channel would stop delivering). */
  #channel: RTCDataChannel | undefined;
  #done = false;
  #opened = false;
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(options: DataChannelLinkOptions) {
    this.#options = options;
    this.#pc = new RTCPeerConnection({ iceServers: [] });
    this.#pc.addEventListener("icecandidate", (e) => {
      if (e.candidate) this.#options.signal(JSON.stringify({ type: "rtc-candidate", candidate: e.candidate.candidate, mid: e.candidate.sdpMid ?? "0" }));
    });
    this.#pc.addEventListener("datachannel", (e) => this.#adopt(e.channel));
    this.#pc.addEventListener("connectionstatechange", () => {
      if (this.#pc.connectionState === "failed") this.#fail("the WebRTC connection failed");
    });
    this.#timer = setTimeout(() => this.#fail(`the data channel did not open within ${DATA_CHANNEL_OPEN_TIMEOUT_MS / 1000} s`), DATA_CHANNEL_OPEN_TIMEOUT_MS);
  }

  /** Takes one signalling message from the relay (malformed ones are ignored). */
  handle(text: string): void {
    if (this.#done) return;
    let m: { type?: unknown; sdp?: unknown; candidate?: unknown; mid?: unknown; reason?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    if (m.type === "rtc-offer" && typeof m.sdp === "string" && this.#remoteSet === undefined) {
      this.#remoteSet = this.#answer(m.sdp);
      this.#remoteSet.catch((error: unknown) => this.#fail(`the relay's offer was refused: ${error instanceof Error ? error.message : String(error)}`));
    } else if (m.type === "rtc-candidate" && typeof m.candidate === "string" && typeof m.mid === "string") {
      const init = { candidate: m.candidate, sdpMid: m.mid };
      // Candidates may come before the offer is set: add them after it.
      void (this.#remoteSet ?? Promise.reject(new Error("no offer yet")))
        .then(() => this.#pc.addIceCandidate(init))
        .catch(() => undefined);
    } else if (m.type === "rtc-unavailable") {
      this.#fail(typeof m.reason === "string" ? `the relay offers none: ${m.reason}` : "the relay offers none", false);
    }
  }

  /** Closes the channel and the connection. */
  close(): void {
    clearTimeout(this.#timer);
    this.#done = true;
    this.#channel?.close();
    this.#pc.close();
  }

  async #answer(sdp: string): Promise<void> {
    await this.#pc.setRemoteDescription({ type: "offer", sdp });
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    const local = this.#pc.localDescription;
    if (local) this.#options.signal(JSON.stringify({ type: "rtc-answer", sdp: local.sdp }));
  }

  #adopt(channel: RTCDataChannel): void {
    this.#channel?.close();
    this.#channel = channel;
    channel.binaryType = "arraybuffer";
    channel.addEventListener("message", (e: MessageEvent) => {
      if (e.data instanceof ArrayBuffer) this.#options.onDatagram(e.data);
    });
    const opened = (): void => {
      if (this.#done || this.#opened) return;
      this.#opened = true;
      clearTimeout(this.#timer);
      this.#options.onState({ kind: "open" });
    };
    if (channel.readyState === "open") opened();
    else channel.addEventListener("open", opened);
    let error = "";
    channel.addEventListener("error", (e) => {
      const detail = (e as RTCErrorEvent).error;
      error = `: ${detail?.message ?? "error"}${detail?.errorDetail ? ` (${detail.errorDetail}${detail.sctpCauseCode ? `, SCTP cause ${detail.sctpCauseCode}` : ""})` : ""}`;
    });
    channel.addEventListener("close", () => {
      if (this.#done) return;
      if (this.#opened) {
        const why = `the data channel closed${error} (connection ${this.#pc.connectionState}, ICE ${this.#pc.iceConnectionState})`;
        // The relay may not know (an association can fail on one side only): it goes back to the WebSocket.
        this.#options.signal(JSON.stringify({ type: "rtc-closed" }));
        this.close();
        this.#options.onState({ kind: "closed", reason: why });
      } else this.#fail("the data channel closed before opening");
    });
  }

  #fail(reason: string, retryable = true): void {
    if (this.#done || this.#opened) return;
    this.close();
    this.#options.onState({ kind: "failed", reason, retryable });
  }
}
