import type { FeedbackOpener } from "@encstream/packet";
import { decodeReport } from "./receiver-report.js";
import { MAX_TRACKS } from "./constants.js";
import { randomStreamId, trackStreamId } from "./frag-id.js";
import { ChildTransport } from "./internal/child-transport.js";
import { runSenderSession, type SenderSessionOptions, type SenderSessionSummary } from "./sender-session.js";
import type { DatagramTransport } from "./transport.js";

/*
 * Several tracks from one sender, on one socket, on one timeline (see "Tracks" in
 * docs/architecture.md):
 * - every track is a stream of its own on the wire: its own stream id in the frag_id's high
 *   16 bits (track t of the run: `trackStreamId(base, t)` = base + t), its own message counter in
 *   the low 16 bits, its own seq space from 0, its own end of stream; so the seed header and the
 *   reassembler need nothing new, and a track is received, reordered and concealed on its own;
 * - every payload of track t ≥ 1 carries the track extension (0x01) with t; track 0 carries
 *   none, so track 0 is byte for byte a single-track stream, and a receiver that knows nothing
 *   of tracks plays it;
 * - one timeline: all tracks warm their encoders up, then their capture clocks start together,
 *   so sample n of every track (its media timestamp, at the track's own rate) is the same
 *   instant; the receiver aligns the tracks on it;
 * - the receiver's reports (which name the stream id they report on) are handed to the track of
 *   that stream, so `--fec`/adaptive bitrate work per track.
 */

/** One track of {@link runMultiTrackSender}: a sender session's options, less what the run shares. */
export type TrackSenderOptions = Omit<SenderSessionOptions, "transport" | "streamId" | "trackId" | "startGate" | "signal" | "destination">;

/** Options of {@link runMultiTrackSender}. */
export interface MultiTrackSenderOptions {
  /** The tracks, in track-id order (track i gets id i), 1 to {@link MAX_TRACKS}. */
  readonly tracks: readonly TrackSenderOptions[];
  /** An open transport, shared by every track. Not closed here. */
  readonly transport: DatagramTransport;
  /** Where the datagrams go. @default undefined (the transport's own destination) */
  readonly destination?: SenderSessionOptions["destination"];
  /** Stream id of track 0 (track t uses `trackStreamId(base, t)`), 1 to 65535. @default a random one */
  readonly baseStreamId?: number;
  /** Stops every track (each flags its end and sends it). @default undefined */
  readonly signal?: AbortSignal | undefined;
  /**
   * Opens the receiver reports of a keyed run (a `FeedbackOpener`) before they are routed by
   * the stream id they name; what does not authenticate goes to track 0, which counts it
   * (`unauthenticatedReports`). The tracks' own `feedbackOpener` is then not used.
   * @default undefined (reports read in clear)
   */
  readonly feedbackOpener?: FeedbackOpener | undefined;
}

/** What {@link runMultiTrackSender} did, per track. */
export interface MultiTrackSenderSummary {
  /** Stream id of track 0. */
  readonly baseStreamId: number;
  /** Each track's summary, by track id. */
  readonly tracks: readonly SenderSessionSummary[];
}

/**
 * Sends several tracks as one run over one transport (see the comment at the top of this file):
 * one {@link runSenderSession} per track, each its own stream, their clocks started together.
 * With one track this is `runSenderSession` with a stream id of its own: the same wire.
 *
 * @throws RangeError for no tracks or more than {@link MAX_TRACKS}, or a bad base stream id;
 *   whatever a track's session throws (the other tracks are then stopped)
 */
export async function runMultiTrackSender(options: MultiTrackSenderOptions): Promise<MultiTrackSenderSummary> {
  const { tracks, transport } = options;
  if (tracks.length < 1 || tracks.length > MAX_TRACKS) throw new RangeError(`tracks must hold 1 to ${MAX_TRACKS} tracks, got ${tracks.length}`);
  const base = options.baseStreamId ?? randomStreamId();
  trackStreamId(base, 0); // checks the base
  const ids = tracks.map((_, t) => trackStreamId(base, t));
  const children = tracks.map(() => new ChildTransport(transport, 256));
  // Reports come back on the shared socket: each goes to the track it reports on.
  const reader = (async () => {
    const opener = options.feedbackOpener;
    for await (const datagram of transport) {
      if (opener !== undefined) {
        const opened = await opener.open(datagram.bytes);
        if (opened.status !== "opened") {
          tracks[0]!.resilience?.onUnauthenticated();
          continue;
        }
        const report = decodeReport(opened.message);
        const t = report === null ? -1 : ids.indexOf(report.streamId);
        children[t < 0 ? 0 : t]!.deliver({ ...datagram, bytes: opened.message });
        continue;
      }
      const report = decodeReport(datagram.bytes);
      const t = report === null ? -1 : ids.indexOf(report.streamId);
      // not a report of this run: handed to track 0, whose resilience counts it as a bad report
      children[t < 0 ? 0 : t]!.deliver(datagram);
    }
  })().catch(() => undefined);
  // One timeline: every track waits here until all have warmed up.
  let warm = 0;
  let release!: () => void;
  const allWarm = new Promise<void>((resolve) => (release = resolve));
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  try {
    const results = await Promise.allSettled(
      tracks.map((track, t) =>
        runSenderSession({
          ...track,
          transport: children[t]!,
          ...(options.feedbackOpener !== undefined ? { feedbackOpener: undefined } : {}),
          destination: options.destination,
          streamId: ids[t]!,
          trackId: t,
          signal,
          startGate: () => {
            if (++warm === tracks.length) release();
            return allWarm;
          },
        }).catch((error: unknown) => {
          // one track failed: release the others and stop them
          release();
          stop.abort();
          throw error;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return { baseStreamId: base, tracks: results.map((r) => (r as PromiseFulfilledResult<SenderSessionSummary>).value) };
  } finally {
    await Promise.all(children.map((c) => c.close()));
    // the reader ends when the caller closes the transport
    void reader;
  }
}
