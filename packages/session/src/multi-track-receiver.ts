import type { PayloadModelKind } from "@encstream/codec";
import type { DatagramOpener, FeedbackSealer } from "@encstream/packet";
import { MAX_TRACKS } from "./constants.js";
import { streamIdOf } from "./frag-id.js";
import { ChildTransport } from "./internal/child-transport.js";
import { Waker } from "./internal/timing.js";
import { ReceiverSession, type AudioSink, type PlayedBlock, type ReceiverSessionOptions, type ReceiverStats } from "./receiver-session.js";
import type { SessionCodec } from "./session-codec.js";
import type { DatagramTransport, InboundDatagram } from "./transport.js";

/*
 * The receiving side of a multi-track run (see multi-track-sender.ts for the wire): a
 * demultiplexer over one transport, and one ReceiverSession per track, unchanged, each with its
 * own reassembly, jitter buffer, decoder, concealment, reports and exact end.
 * - Before anything else, as in ReceiverSession: `allowFrom` (else `foreign`), then the key
 *   (`opener`; else `unauthenticated`); a datagram shorter than the seed header is `malformed`.
 * - Routing reads only the seed header: a track is the stream of one source address and port
 *   whose frag_id carries one stream id. The first track fixes the source; datagrams of other
 *   sources are `foreign`.
 * - A new stream's datagrams wait (MAX_PENDING_STREAMS streams of MAX_PENDING_DATAGRAMS at
 *   most) until one with frag_index 0 shows the payload's first two bytes (version and flags:
 *   the model kind); the stream then gets the codec of its kind (`codecFor`; none: the stream
 *   is ignored, `mismatched`) and a session, which is handed every datagram of it. At most
 *   `maxTracks` tracks; streams beyond are ignored (`ignored`).
 * - A track's session names its track (the payload's track id) when its stream starts; its
 *   audio goes to `sinkFor(track)`, opened then. Every session aligns its output from the
 *   stream's sample 0 and cuts it to the stream's exact length, so sample n of every track's
 *   output is the same instant of the run's timeline (the media timestamp). Two streams that
 *   claim one track id: the later one is ignored.
 * - End: once every track has ended (each on its end of stream, or its stream idle time), or
 *   with no track after `idleTimeoutMs` of silence, or on the signal.
 */

/** Datagrams of a stream not yet known held until its first fragment 0 shows its model kind. */
const MAX_PENDING_DATAGRAMS = 64;
/** Streams held that way at once (the oldest is forgotten). */
const MAX_PENDING_STREAMS = 16;

/** One track as the receiver knows it. */
export interface TrackInfo {
  /** The track id its payloads carry (0: none). */
  readonly trackId: number;
  /** The stream id of its datagrams (frag_id bits 31–16). */
  readonly streamId: number;
  /** Its model kind, rate and channels (its codec's). */
  readonly modelKind: PayloadModelKind;
  readonly sampleRateHz: number;
  readonly channels: number;
}

/** Options of {@link MultiTrackReceiver}. */
export interface MultiTrackReceiverOptions
  extends Pick<ReceiverSessionOptions, "overlapRatio" | "bufferFrames" | "bufferMs" | "streamIdleMs" | "reports" | "log"> {
  /** The codec for a model kind, or undefined when this receiver cannot decode that kind. */
  readonly codecFor: (modelKind: PayloadModelKind) => SessionCodec | undefined;
  /** Opens the sink of a track, once its track id is known (before its first audio). */
  readonly sinkFor: (track: TrackInfo) => AudioSink | Promise<AudioSink>;
  /** End after this long without a datagram while no track has started, ms; also each track's idle timeout. @default undefined */
  readonly idleTimeoutMs?: number | undefined;
  /** Accept datagrams from this address (and port) only. @default undefined */
  readonly allowFrom?: ReceiverSessionOptions["allowFrom"];
  /** Opens sealed datagrams; with it every datagram must authenticate. @default undefined */
  readonly opener?: DatagramOpener | undefined;
  /** Seals every track's receiver reports (a `FeedbackSealer`, with its first key). @default undefined (reports in clear) */
  readonly reportSealer?: FeedbackSealer | undefined;
  /** Most tracks followed, 1 to 255. @default 16 (`MAX_TRACKS`) */
  readonly maxTracks?: number;
  /** Stops receiving: every track plays out what it holds. @default undefined */
  readonly signal?: AbortSignal | undefined;
  /** Called for every block of audio handed to a track's sink. @default undefined */
  readonly onPlayed?: ((track: TrackInfo, block: PlayedBlock) => void) | undefined;
}

/** One track's statistics. */
export interface TrackStats {
  readonly track: TrackInfo;
  readonly stats: ReceiverStats;
}

/** The demultiplexer's counters and every track's statistics. */
export interface MultiTrackStats {
  /** Datagrams taken off the shared transport. */
  readonly datagrams: number;
  readonly bytes: number;
  /** Datagrams shorter than the seed header, or a fragment 0 of no known payload version. */
  readonly malformed: number;
  readonly unauthenticated: number;
  /** Datagrams of another source than the run's (or than `allowFrom`). */
  readonly foreign: number;
  /** Datagrams of streams of a model kind without a codec here. */
  readonly mismatched: number;
  /** Datagrams of streams beyond `maxTracks`, of a track id already taken, or of a track that has ended. */
  readonly ignored: number;
  /** Datagrams dropped while waiting for their stream's first fragment 0 (the wait was full). */
  readonly unrouted: number;
  /** Every track, in order of track id. */
  readonly tracks: readonly TrackStats[];
}

interface Handle {
  readonly key: string;
  readonly streamId: number;
  readonly codec: SessionCodec;
  readonly child: ChildTransport;
  readonly session: ReceiverSession;
  info: TrackInfo | undefined;
  sink: Promise<AudioSink> | undefined;
  duplicate: boolean;
  done: boolean;
  result: Promise<ReceiverStats>;
}

/**
 * Receives a multi-track run from one transport: one {@link ReceiverSession} per track (see the
 * comment at the top of this file). Nothing from the network is fatal.
 */
export class MultiTrackReceiver {
  readonly #transport: DatagramTransport;
  readonly #options: MultiTrackReceiverOptions;
  readonly #handles = new Map<string, Handle>();
  readonly #pending = new Map<string, InboundDatagram[]>();
  readonly #ignoredKeys = new Set<string>();
  readonly #waker = new Waker();
  #source: string | undefined;
  #lastPacketMs = performance.now();
  readonly #counts = { malformed: 0, unauthenticated: 0, foreign: 0, mismatched: 0, ignored: 0, unrouted: 0 };

  /** @param transport shared by every track; {@link MultiTrackReceiver.run} closes it */
  constructor(transport: DatagramTransport, options: MultiTrackReceiverOptions) {
    const max = options.maxTracks ?? MAX_TRACKS;
    if (!Number.isInteger(max) || max < 1 || max > 255) throw new RangeError(`maxTracks must be an integer in [1, 255], got ${String(max)}`);
    this.#transport = transport;
    this.#options = options;
  }

  /** A snapshot of the statistics. */
  get stats(): MultiTrackStats {
    const t = this.#transport.stats;
    const tracks = [...this.#handles.values()]
      .filter((h) => h.info !== undefined && !h.duplicate)
      .map((h) => ({ track: h.info as TrackInfo, stats: h.session.stats }))
      .sort((a, b) => a.track.trackId - b.track.trackId);
    return { datagrams: t.datagramsReceived, bytes: t.bytesReceived, ...this.#counts, tracks };
  }

  /**
   * Receives until every track has ended (or, with no track, `idleTimeoutMs` of silence, or the
   * signal); closes the transport before returning.
   *
   * @returns the final statistics
   * @throws what a track's sink or codec throws
   */
  async run(): Promise<MultiTrackStats> {
    const pump = (async () => {
      for await (const datagram of this.#transport) await this.#onDatagram(datagram);
    })();
    const signal = this.#options.signal;
    const onAbort = () => this.#waker.wake();
    signal?.addEventListener("abort", onAbort);
    let failure: unknown;
    try {
      for (;;) {
        const handles = [...this.#handles.values()];
        if (handles.length > 0 && handles.every((h) => h.done)) break;
        if (handles.length === 0) {
          const timeout = this.#options.idleTimeoutMs;
          if (signal?.aborted === true) break;
          if (timeout !== undefined && performance.now() >= this.#lastPacketMs + timeout) break;
          await this.#waker.wait(timeout === undefined ? Number.POSITIVE_INFINITY : this.#lastPacketMs + timeout);
          continue;
        }
        await this.#waker.wait();
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await this.#transport.close();
      await pump.catch((error: unknown) => (failure ??= error));
      for (const h of this.#handles.values()) {
        await h.child.close();
        await h.result.catch((error: unknown) => (failure ??= error));
      }
    }
    if (failure !== undefined) throw failure;
    return this.stats;
  }

  async #onDatagram(datagram: InboundDatagram): Promise<void> {
    this.#lastPacketMs = performance.now();
    const pin = this.#options.allowFrom;
    if (pin !== undefined && (datagram.remoteAddress !== pin.address || (pin.port !== undefined && datagram.remotePort !== pin.port))) {
      this.#counts.foreign++;
      return;
    }
    let bytes = datagram.bytes;
    const opener = this.#options.opener;
    if (opener !== undefined) {
      const result = await opener.open(bytes);
      if (result.status !== "opened") {
        this.#counts.unauthenticated++;
        return;
      }
      bytes = result.datagram;
    }
    if (bytes.length < 24) {
      this.#counts.malformed++;
      return;
    }
    const source = `${datagram.remoteAddress}|${datagram.remotePort}`;
    if (this.#source !== undefined && source !== this.#source) {
      this.#counts.foreign++;
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const streamId = streamIdOf(view.getUint32(12, false));
    const key = `${source}|${streamId}`;
    const opened: InboundDatagram = bytes === datagram.bytes ? datagram : { ...datagram, bytes };
    const handle = this.#handles.get(key);
    if (handle !== undefined) {
      if (handle.done || handle.duplicate) this.#counts.ignored++;
      else handle.child.deliver(opened);
      return;
    }
    if (this.#ignoredKeys.has(key)) {
      this.#counts.mismatched++;
      return;
    }
    let waiting = this.#pending.get(key);
    if (waiting === undefined) {
      if (this.#pending.size >= MAX_PENDING_STREAMS) {
        const [oldest, dropped] = this.#pending.entries().next().value as [string, InboundDatagram[]];
        this.#counts.unrouted += dropped.length;
        this.#pending.delete(oldest);
      }
      waiting = [];
      this.#pending.set(key, waiting);
    }
    waiting.push(opened);
    if (waiting.length > MAX_PENDING_DATAGRAMS) {
      waiting.shift();
      this.#counts.unrouted++;
    }
    if (view.getUint32(20, false) !== 0 || bytes.length < 26) return;
    // A fragment 0: the payload's version and flags say the model kind.
    const version = bytes[24];
    if (version !== 1 && version !== 2) {
      this.#counts.malformed++;
      waiting.pop();
      return;
    }
    const modelKind: PayloadModelKind = ((bytes[25] as number) & 0x01) !== 0 ? "48k" : "24k";
    this.#pending.delete(key);
    const codec = this.#options.codecFor(modelKind);
    if (codec === undefined) {
      this.#counts.mismatched += waiting.length;
      this.#ignoredKeys.add(key);
      this.#options.log?.(`ignoring stream ${hex(streamId)}: it carries ${modelKind === "48k" ? "48 kHz stereo" : "24 kHz mono"} codes, and no model of that kind is loaded`);
      return;
    }
    if (this.#handles.size >= (this.#options.maxTracks ?? MAX_TRACKS)) {
      this.#counts.ignored += waiting.length;
      this.#ignoredKeys.add(key);
      this.#options.log?.(`ignoring stream ${hex(streamId)}: already following ${this.#handles.size} tracks`);
      return;
    }
    this.#source ??= source;
    const created = this.#open(key, streamId, codec);
    for (const d of waiting) created.child.deliver(d);
  }

  #open(key: string, streamId: number, codec: SessionCodec): Handle {
    const o = this.#options;
    const child = new ChildTransport(this.#transport);
    const handle = { key, streamId, codec, child, info: undefined, sink: undefined, duplicate: false, done: false } as unknown as Handle;
    const sink: AudioSink = {
      write: async (audio) => {
        if (handle.duplicate || handle.info === undefined) return;
        handle.sink ??= Promise.resolve(o.sinkFor(handle.info));
        await (await handle.sink).write(audio);
      },
    };
    const name = () => (handle.info === undefined ? `stream ${hex(streamId)}` : `track ${handle.info.trackId}`);
    const session = new ReceiverSession(child, {
      codec,
      overlapRatio: o.overlapRatio,
      bufferFrames: o.bufferFrames,
      bufferMs: o.bufferMs,
      sink,
      idleTimeoutMs: o.idleTimeoutMs,
      streamIdleMs: o.streamIdleMs,
      reports: o.reports,
      reportSealer: o.reportSealer,
      exitOnEnd: true,
      signal: o.signal,
      log: o.log === undefined ? undefined : (line) => o.log?.(`${name()}: ${line}`),
      onPlayed: o.onPlayed === undefined ? undefined : (block) => handle.info !== undefined && !handle.duplicate && o.onPlayed?.(handle.info, block),
      onStreamStart: (start) => {
        if (handle.info !== undefined) return; // a later stream of this session (it follows one stream id)
        const taken = [...this.#handles.values()].some((h) => h !== handle && !h.duplicate && h.info?.trackId === start.trackId);
        handle.info = { trackId: start.trackId, streamId: start.streamId, modelKind: codec.modelKind, sampleRateHz: codec.sampleRateHz, channels: codec.channels };
        if (taken) {
          handle.duplicate = true;
          o.log?.(`ignoring stream ${hex(streamId)}: track ${start.trackId} is already received`);
        }
      },
    });
    (handle as { session: ReceiverSession }).session = session;
    handle.result = session.run().finally(() => {
      handle.done = true;
      this.#waker.wake();
    });
    handle.result.catch(() => undefined);
    this.#handles.set(key, handle);
    this.#waker.wake();
    return handle;
  }
}

function hex(id: number): string {
  return id.toString(16).padStart(4, "0");
}
