import type { DataChannel, PeerConnection } from "node-datachannel";

/*
 * The relay's side of a WebRTC data channel to one page (node-datachannel, libdatachannel's Node
 * binding). The page asks for it on its WebSocket; the relay offers, both trickle ICE candidates
 * over the same WebSocket, and once the channel is open the relay sends that page its datagrams on
 * it instead of the WebSocket. The channel is unordered with no retransmission (`ordered: false,
 * maxRetransmits: 0`), so a lost or late SCTP packet holds nothing behind it: UDP's semantics.
 *
 * Signalling messages are JSON text frames on /ws:
 *
 *   page → relay  {"type":"rtc-request"}                             offer me a data channel (again, after one
 *                                                                    that failed: MAX_DATA_CHANNEL_ATTEMPTS in all)
 *                 {"type":"rtc-answer","sdp":"…"}                    the page's answer
 *                 {"type":"rtc-candidate","candidate":"…","mid":"…"}  one of the page's ICE candidates
 *                 {"type":"rtc-closed"}                              the page's channel closed: back to the WebSocket
 *   relay → page  {"type":"rtc-offer","sdp":"…"}
 *                 {"type":"rtc-candidate","candidate":"…","mid":"…"}
 *                 {"type":"rtc-unavailable","reason":"…"}            no data channel: stay on the WebSocket
 *
 * A page's candidates are often mDNS names (`….local`, Chromium hides host addresses that way);
 * libdatachannel cannot resolve those, but it learns the page's address from the page's own
 * connectivity checks (a peer-reflexive candidate), which is enough on a LAN or loopback.
 */

/** Longest signalling message accepted from a page, bytes (an SDP answer is about 600). */
export const MAX_SIGNAL_BYTES = 16_384;
/**
 * Data channels one page may ask for on one WebSocket: a new `rtc-request` replaces a channel that
 * never opened or has closed (a WebRTC handshake can fail now and then, even on loopback), up to this
 * many in all; a request while the channel is open, or past this count, is dropped (counted).
 */
export const MAX_DATA_CHANNEL_ATTEMPTS = 3;
/**
 * How long a connection may stay in ICE's "disconnected" state before the relay closes it, ms. The
 * state is often transient (consent checks missed on a loaded machine) and returns to "connected";
 * "failed" closes at once.
 */
export const DISCONNECTED_GRACE_MS = 5000;
/** ICE candidates accepted from one page; more are dropped (counted). */
export const MAX_REMOTE_CANDIDATES = 32;
/** Longest candidate line and media id accepted, characters. */
const MAX_CANDIDATE_CHARS = 1024;
const MAX_MID_CHARS = 64;

/** A signalling message from a page, checked. */
export type SignalFromPage =
  | { readonly type: "rtc-request" }
  | { readonly type: "rtc-closed" }
  | { readonly type: "rtc-answer"; readonly sdp: string }
  | { readonly type: "rtc-candidate"; readonly candidate: string; readonly mid: string };

/** A signalling message to a page. */
export type SignalToPage =
  | { readonly type: "rtc-offer"; readonly sdp: string }
  | { readonly type: "rtc-candidate"; readonly candidate: string; readonly mid: string }
  | { readonly type: "rtc-unavailable"; readonly reason: string };

/**
 * Parses a text frame from a page into a signalling message; undefined when it is not one
 * (malformed JSON, unknown type, a field missing, of the wrong type or too long). Never throws.
 */
export function parseSignal(text: string): SignalFromPage | undefined {
  if (text.length > MAX_SIGNAL_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case "rtc-request":
      return { type: "rtc-request" };
    case "rtc-closed":
      return { type: "rtc-closed" };
    case "rtc-answer":
      return typeof m.sdp === "string" && m.sdp.length > 0 ? { type: "rtc-answer", sdp: m.sdp } : undefined;
    case "rtc-candidate":
      return typeof m.candidate === "string" &&
        m.candidate.length <= MAX_CANDIDATE_CHARS &&
        typeof m.mid === "string" &&
        m.mid.length <= MAX_MID_CHARS
        ? { type: "rtc-candidate", candidate: m.candidate, mid: m.mid }
        : undefined;
    default:
      return undefined;
  }
}

/** The part of node-datachannel the relay uses. */
export type DataChannelLibrary = typeof import("node-datachannel");

let library: Promise<DataChannelLibrary | Error> | undefined;

/**
 * node-datachannel (an optional dependency with prebuilt binaries per platform), loaded once;
 * an Error saying why when it cannot be (not installed, no binary for this platform).
 */
export function loadDataChannelLibrary(): Promise<DataChannelLibrary | Error> {
  library ??= import("node-datachannel").then(
    (m) => ((m as unknown as { default?: DataChannelLibrary }).default ?? m) as DataChannelLibrary,
    (error: unknown) => new Error(`node-datachannel could not be loaded: ${error instanceof Error ? error.message : String(error)}`),
  );
  return library;
}

/** What sending one datagram to a page's channel did. */
export type ChannelSendResult = "sent" | "full" | "closed";

/** Options of {@link DataChannelPeer}. */
export interface DataChannelPeerOptions {
  /** Sends a signalling message to the page (over its WebSocket). */
  readonly signal: (message: SignalToPage) => void;
  /** Called once when the channel opens, and once when it closes after that, with why. */
  readonly onOpenChange: (open: boolean, why: string) => void;
  /** How long the connection may stay "disconnected" before it is closed, ms ({@link DISCONNECTED_GRACE_MS} by default). */
  readonly disconnectedGraceMs?: number;
}

/** One page's data channel, from the relay's offer to its close. */
export class DataChannelPeer {
  readonly #pc: PeerConnection;
  readonly #channel: DataChannel;
  readonly #options: DataChannelPeerOptions;
  #open = false;
  #closed = false;
  #answered = false;
  #candidates = 0;
  /** Candidates that came before the answer, added once it is set. */
  #early: { candidate: string; mid: string }[] = [];
  readonly #disconnectedGraceMs: number;
  #disconnectedTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates the peer connection and the channel; the offer and candidates go out through `options.signal`. */
  constructor(lib: DataChannelLibrary, name: string, options: DataChannelPeerOptions) {
    this.#options = options;
    this.#disconnectedGraceMs = options.disconnectedGraceMs ?? DISCONNECTED_GRACE_MS;
    // No STUN/TURN servers: host candidates only, and the page's address learnt from its checks.
    this.#pc = new lib.PeerConnection(name, { iceServers: [] });
    // Handlers first: creating the channel starts the negotiation at once.
    this.#pc.onLocalDescription((sdp, type) => {
      if (type === "offer") this.#send({ type: "rtc-offer", sdp });
    });
    this.#pc.onLocalCandidate((candidate, mid) => this.#send({ type: "rtc-candidate", candidate, mid }));
    this.#pc.onStateChange((state) => {
      if (state === "failed" || state === "closed") {
        this.close(`connection ${state}`);
      } else if (state === "disconnected") {
        // ICE may recover from "disconnected" (missed consent checks on a busy machine): close
        // only if it stays so; SCTP holds what is sent meanwhile.
        this.#disconnectedTimer ??= setTimeout(() => this.close("connection disconnected"), this.#disconnectedGraceMs);
        this.#disconnectedTimer.unref?.();
      } else if (state === "connected") {
        this.#clearDisconnectedTimer();
      }
    });
    this.#channel = this.#pc.createDataChannel("datagrams", { unordered: true, maxRetransmits: 0 });
    this.#channel.onOpen(() => {
      if (this.#closed || this.#open) return;
      this.#open = true;
      this.#options.onOpenChange(true, "opened");
    });
    this.#channel.onClosed(() => this.close("channel closed"));
    this.#channel.onError((error) => this.close(`channel error: ${error}`));
    this.#channel.onMessage(() => undefined); // pages send nothing on it
  }

  /** True while the channel is open. */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Takes a signalling message from the page. Returns false when it was not acceptable here (a
   * second answer, too many candidates, one the library refused), to be counted; never throws.
   */
  accept(message: Exclude<SignalFromPage, { type: "rtc-request" }>): boolean {
    if (this.#closed) return false;
    if (message.type === "rtc-closed") {
      // The page's side closed (the association can fail on one side only): stop sending into it.
      this.close("closed by the page");
      return true;
    }
    try {
      if (message.type === "rtc-answer") {
        if (this.#answered) return false;
        this.#answered = true;
        this.#pc.setRemoteDescription(message.sdp, "answer");
        const early = this.#early;
        this.#early = [];
        for (const c of early) this.#pc.addRemoteCandidate(c.candidate, c.mid);
        return true;
      }
      if (++this.#candidates > MAX_REMOTE_CANDIDATES) return false;
      // End-of-candidates markers are empty: nothing to add.
      if (message.candidate === "") return true;
      if (this.#answered) this.#pc.addRemoteCandidate(message.candidate, message.mid);
      else this.#early.push({ candidate: message.candidate, mid: message.mid });
      return true;
    } catch {
      return false;
    }
  }

  /** Sends one datagram unless more than `maxBufferedBytes` wait to leave (a slow page). Never throws. */
  send(bytes: Uint8Array, maxBufferedBytes: number): ChannelSendResult {
    if (!this.#open) return "closed";
    try {
      if (this.#channel.bufferedAmount() > maxBufferedBytes) return "full";
      return this.#channel.sendMessageBinary(bytes) ? "sent" : "full";
    } catch (error) {
      this.close(`send failed: ${error instanceof Error ? error.message : String(error)}`);
      return "closed";
    }
  }

  /** Closes the channel and the connection (idempotent); `why` goes to `onOpenChange`. */
  close(why = "closed by the relay"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearDisconnectedTimer();
    const wasOpen = this.#open;
    this.#open = false;
    try {
      this.#channel.close();
    } catch {
      // already closed by the library
    }
    try {
      this.#pc.close();
    } catch {
      // idem
    }
    if (wasOpen) this.#options.onOpenChange(false, why);
  }

  #clearDisconnectedTimer(): void {
    if (this.#disconnectedTimer !== undefined) clearTimeout(this.#disconnectedTimer);
    this.#disconnectedTimer = undefined;
  }

  #send(message: SignalToPage): void {
    if (!this.#closed) this.#options.signal(message);
  }
}
