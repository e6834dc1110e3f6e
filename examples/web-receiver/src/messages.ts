// Messages between the page, the decode worker and the playout worklet.
import type { ReceiverStats } from "@encstream/session";
import type { RelayTransportStats } from "./relay-transport.js";

/** What /receiver.json (served by `encstream receive --web`) tells the page. */
export interface ReceiverConfig {
  readonly overlapRatio: number;
  readonly bufferFrames: number;
  /** The prefill as a duration (`--buffer-size 200ms`), ms, when given so; then `bufferFrames` is unused. */
  readonly bufferMs?: number;
  readonly modelUrl: string;
  readonly lmUrl: string | null;
  readonly websocketPath: string;
  /** Whether the relay offers a WebRTC data channel (absent from older relays: no). */
  readonly webrtc?: boolean;
}

/** Page → worker: start (with the worklet's port). */
export interface WorkerStart {
  readonly type: "start";
  readonly config: ReceiverConfig;
  /** The page's URL: relative URLs are resolved against it. */
  readonly baseUrl: string;
  readonly websocketUrl: string;
  readonly worklet: MessagePort;
  /** The key typed in the page (encrypted streams), or "". */
  readonly key: string;
  /** Ask the relay for a WebRTC data channel on each connection (the page hosts it: {@link WorkerSignal}). */
  readonly webrtc: boolean;
  /** The page hands the data channel's datagrams to the worker on this port ({@link ChannelDatagram}). */
  readonly datagrams: MessagePort;
}

/** Page → worker: a signalling message for the relay, on the connection it belongs to. */
export interface WorkerSignal {
  readonly type: "signal";
  readonly connection: number;
  readonly text: string;
}

/** Page → worker (the datagrams port): one datagram of a connection's data channel. */
export interface ChannelDatagram {
  readonly connection: number;
  readonly bytes: ArrayBuffer;
}

/**
 * Page → worker: use this key from now on (the key field, submitted): `<id>:<64 hex digits>`, or
 * several comma-separated (as `ENCSTREAM_KEY`); "" listens without a key again.
 */
export interface WorkerKey {
  readonly type: "key";
  readonly key: string;
}

/** Worker → page. */
export type WorkerEvent =
  | { readonly type: "status"; readonly text: string }
  /**
   * A receive session is listening on relay connection `connection` (a new one for each key);
   * `keyIds` are the ids of the keys it opens datagrams with ([] for none).
   */
  | { readonly type: "listening"; readonly connection: number; readonly keyIds: readonly number[] }
  /** A signalling message from the relay on `connection`, for the page's data channel. */
  | { readonly type: "signal"; readonly connection: number; readonly text: string }
  /** Relay connection `connection` closed: its data channel goes too. */
  | { readonly type: "disconnected"; readonly connection: number }
  /** The model is loaded and warmed up; `phasesMs`: each phase's wall time, and `workerStartAtMs` (epoch ms) when the worker began. */
  | { readonly type: "ready"; readonly sampleRateHz: number; readonly channels: number; readonly warmUpMs: number; readonly phasesMs: Readonly<Record<string, number>> }
  | { readonly type: "stats"; readonly stats: ReceiverStats; readonly transport: RelayTransportStats }
  | { readonly type: "error"; readonly message: string };

/** Worker → worklet. */
export type WorkletCommand =
  | { readonly type: "audio"; readonly channels: Float32Array[] }
  | { readonly type: "stream-ended" }
  | { readonly type: "tap"; readonly on: boolean };

/** Worklet → page (its node's port). */
export type WorkletEvent =
  | {
      readonly type: "stats";
      /** Samples per channel waiting in the ring. */
      readonly levelSamples: number;
      readonly underruns: number;
      /** Samples per channel played from the ring (silence while prefilling or starved not counted). */
      readonly playedSamples: number;
      /** Samples dropped (+) or repeated (−) by drift correction. */
      readonly driftSamples: number;
      /** Samples lost to a full ring. */
      readonly overflowSamples: number;
      /** Peak absolute value since the last report. */
      readonly peak: number;
      readonly playing: boolean;
    }
  | { readonly type: "tap"; readonly channels: Float32Array[] };
