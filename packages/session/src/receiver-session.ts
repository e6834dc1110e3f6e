import { decodePayload, parsePayloadHeader, type PayloadHeader } from "@encstream/codec";
import { JitterBuffer, MAX_CAPACITY_FRAMES, seqDiff, type JitterStats, type PopResult } from "@encstream/jitter";
import { computeOverlapSamples } from "@encstream/ola";
import { Reassembler, type DatagramOpener, type FeedbackSealer, type ReassembledMessage } from "@encstream/packet";
import {
  BITRATE_WINDOW_MS,
  CATCH_UP_HEADROOM_UNITS,
  DEFAULT_STREAM_IDLE_MS,
  DEFAULT_TAKEOVER_SILENCE_MS,
  END_OF_STREAM_LINGER_MS,
  FRAME_SAMPLES,
  MAX_CANDIDATE_MESSAGES,
  MAX_CANDIDATE_STREAMS,
  MAX_LEADING_FILL_FRAMES,
  MIN_JITTER_CAPACITY_FRAMES,
  RESTART_MESSAGES,
} from "./constants.js";
import { SessionError } from "./errors.js";
import { streamIdOf } from "./frag-id.js";
import { MAX_FRAMES_PER_PACKET } from "./frame-batcher.js";
import { createChunkedDecoder, createFrameStreamDecoder, type FrameDecoder } from "./frame-decoder.js";
import { defaultChunkMsOf } from "./frame-encoder.js";
import { allotFrames } from "./internal/frame-allotment.js";
import { TimestampJitter } from "./internal/timestamp-jitter.js";
import { Waker } from "./internal/timing.js";
import { LmPayloadDecoder } from "./payload-lm.js";
import { comfortNoise } from "./comfort-noise.js";
import { encodeReport, REPORT_INTERVAL_MS, ReportBuilder } from "./receiver-report.js";
import { MAX_FEC_DEPTH, MAX_HELD_REDUNDANCY, RedundancyStore, type RecoveredUnit } from "./redundancy.js";
import type { SessionCodec } from "./session-codec.js";
import type { DatagramTransport, InboundDatagram } from "./transport.js";

/*
 * How the receiver follows streams (see "End of stream and restarts" in docs/architecture.md).
 * Nothing that arrives is ever fatal: what does not fit is dropped and counted.
 * - Before anything else: with `allowFrom`, a datagram from another address (or port) is
 *   dropped (`foreign`); with an `opener` (a key), one that does not authenticate, or replays
 *   one that did, is dropped (`unauthenticated`). Only then does it reach the reassembler, which
 *   keys and budgets messages per source address.
 * - A stream is the messages of one source address and port whose frag_id carries one stream id
 *   (its high 16 bits, random per `send` run). The first message fixes the stream's model kind
 *   (it must be the codec's, else the stream is ignored and counted `mismatched`), framing,
 *   codebooks and LM use; sequence numbers start at 0.
 * - Fit: every message of the stream must have its format, and a frame count and sample length
 *   its framing allows (a stream frame: 1 frame of at most 320 samples; a chunk: the stream's
 *   chunk length, or less for the last, in ceil(length / 320) frames); the end-of-stream flag is
 *   believed only for a seq within the jitter buffer's capacity of the highest seq received and
 *   not behind playout. Anything else is dropped (`unfit`).
 * - End: the payload with the end-of-stream flag gives the last seq E and its length L; the
 *   stream holds E × step + L samples (step: the chunk hop, or 320). Once E is known, playout
 *   drains (no new prefill waits); the stream ends when E has been played. The output is then cut
 *   or padded to exactly that length. A started stream that goes `streamIdleMs` (3 s) without a
 *   message of it ends too, what is buffered played out.
 * - Takeover: messages of another source or stream id wait (up to MAX_CANDIDATE_STREAMS streams
 *   of MAX_CANDIDATE_MESSAGES messages) until the current stream has ended or has been silent for
 *   `takeoverSilenceMs` (1 s); then the most recently heard one that has RESTART_MESSAGES messages
 *   or a first-of-stream flag near seq 0 becomes current with every message it has, so a restarted
 *   sender loses nothing. A stream replaced before it played anything leaves no output. Late
 *   messages of an ended stream are ignored and counted (`afterEnd`).
 * - Gaps: frames lost before the first one received (up to MAX_LEADING_FILL_FRAMES), and frames
 *   the jitter buffer skips after an underrun or a resync, are concealed like lost frames, so the
 *   output stays aligned with the sender's input. Only a jump beyond MAX_LEADING_FILL_FRAMES
 *   restarts decoding there.
 *
 * Timed playout (stream mode, payload version 2, whose every payload carries its media timestamp):
 * the sender may change its frames per message from one message to the next (the rate
 * controller chooses them, see sender-resilience.ts), so nothing assumes a unit's length.
 * - Fit: a message carries 1 to MAX_FRAMES_PER_PACKET frames, all 320 samples but the stream's
 *   last. Its timestamp must be a whole number of frames away from the playout point's (before
 *   playout, from the stream's first message's), 1 to MAX_FRAMES_PER_PACKET frames for every seq
 *   between; else the message is a bad payload (`malformed`), dropped before it is buffered.
 * - Playout: a received message is decoded where its timestamp says, frame by frame (so its
 *   audio is that of the same frames one a message); the playout clock moves on by its frames.
 * - Loss: messages that did not come (lost, skipped, or undecodable) are rebuilt from an FEC copy,
 *   which states its frames, or concealed by exactly the frames they carried: the next message
 *   known (held in the jitter buffer, or the end) says by its timestamp how long the run lasted;
 *   with several lost in a row the copies' counts are kept and the rest shared out. If that
 *   guess was wrong (a lost message arrives late after all), the next message decoded corrects
 *   it: a shortfall is concealed, an excess cut from its audio, so the output length follows the
 *   timestamps. The stream's length is the end message's timestamp plus its length.
 * - Depth: the prefill counts units of the first message's length; the catch-up (a gapless
 *   backlog played down at once) measures the audio held by the timestamps, so a sender that
 *   moves to longer messages does not lengthen the delay.
 * - Jitter (stats and reports): RFC 3550 over the timestamps (internal/timestamp-jitter.ts).
 * Version 1 payloads have no timestamp: their streams keep fixed-size units (every message but
 * the last carries the first one's frames).
 */

/** Where decoded audio goes (a WAV writer, a playback device, both). */
export interface AudioSink {
  /** Takes planar audio at the model's rate (the arrays are the caller's to keep). */
  write(audio: readonly Float32Array[]): Promise<void>;
}

/** Audio handed to the sink: what `onPlayed` reports (for the latency benchmark). */
export interface PlayedBlock {
  /** Stream id of the stream it belongs to. */
  readonly streamId: number;
  /** Position of its first sample in the stream, samples per channel. */
  readonly startSample: number;
  /** Samples per channel. */
  readonly samples: number;
  /** When it was handed to the sink, `performance.now()` ms. */
  readonly atMs: number;
}

/** Options of {@link ReceiverSession}. */
export interface ReceiverSessionOptions {
  /** The codec (its model kind must match the stream's). */
  readonly codec: SessionCodec;
  /**
   * Overlap of the chunked framing, fraction of the chunk, for streams that do not state it
   * (payload version 1); a version 2 stream carries its overlap and this is not used.
   */
  readonly overlapRatio: number;
  /** Send receiver reports back to the stream's source (see receiver-report.ts). @default true */
  readonly reports?: boolean;
  /** Units buffered before playout starts (`--buffer-size`, 1 to 65536); the capacity is `max(16, 2 × this, this + 300)`, at most 65536. */
  readonly bufferFrames: number;
  /**
   * The prefill as a duration instead (`--buffer-size 200ms`), ms: each stream buffers this
   * much audio rounded up to whole units of its own (at least one), so one setting suits 13 ms
   * frames and 1 s chunks alike; `bufferFrames` is then ignored. @default undefined
   */
  readonly bufferMs?: number | undefined;
  /** Where the audio goes. */
  readonly sink: AudioSink;
  /** End after this long without a datagram, ms. @default undefined (never) */
  readonly idleTimeoutMs?: number | undefined;
  /**
   * A started stream without a message of it for this long ends (what is buffered is played
   * out), ms.
   * @default 3000 (`DEFAULT_STREAM_IDLE_MS`)
   */
  readonly streamIdleMs?: number | undefined;
  /**
   * How long the current stream must be silent before another source or stream id may take
   * over, ms.
   * @default 1000 (`DEFAULT_TAKEOVER_SILENCE_MS`)
   */
  readonly takeoverSilenceMs?: number | undefined;
  /**
   * Accept datagrams from this address only (and this port, when given); others are dropped
   * before anything reads them.
   * @default undefined (any source; the receiver follows its stream's)
   */
  readonly allowFrom?: { readonly address: string; readonly port?: number | undefined } | undefined;
  /**
   * Opens sealed datagrams (`DatagramOpener` of `@encstream/packet`, holding the keys): with it
   * every datagram must authenticate, or it is dropped and counted before it touches any state.
   * @default undefined (the seed's unauthenticated wire)
   */
  readonly opener?: DatagramOpener | undefined;
  /**
   * Seals the receiver reports (`FeedbackSealer` of `@encstream/packet`, made from the same
   * keys as `opener`): each report is sealed with the key id of the stream's own datagrams. A
   * keyed sender drops reports that are not sealed.
   * @default undefined (reports in clear, as without a key)
   */
  readonly reportSealer?: FeedbackSealer | undefined;
  /** Return once a stream has ended (else wait for the next stream). @default true */
  readonly exitOnEnd?: boolean;
  /** Stops receiving: what is buffered is played out at once, then `run` returns. @default undefined */
  readonly signal?: AbortSignal | undefined;
  /** Called for every block of audio handed to the sink. @default undefined */
  readonly onPlayed?: ((block: PlayedBlock) => void) | undefined;
  /** One-line notes (stream started, ended, restarted). @default undefined */
  readonly log?: ((line: string) => void) | undefined;
  /**
   * Called when a stream starts (before any of its audio reaches the sink), with what its first
   * message says: its stream id and track id (the multi-track
   * receiver names each track's sink by it). @default undefined
   */
  readonly onStreamStart?: ((info: StreamStartInfo) => void) | undefined;
}

/** What {@link ReceiverSessionOptions.onStreamStart} reports. */
export interface StreamStartInfo {
  /** The stream id (high 16 bits of its frag_id). */
  readonly streamId: number;
  /** The track id its payloads carry (0 when they carry none). */
  readonly trackId: number;
  /** Where it comes from: address and port. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Framing: chunked or frame-exact stream. */
  readonly mode: PayloadHeader["mode"];
}

/** Receiver statistics, cumulative over every stream. */
export interface ReceiverStats {
  /** Datagrams taken off the network, malformed ones included. */
  readonly datagrams: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Datagrams or messages dropped as malformed: bad header, inconsistent fragments, bad payload. */
  readonly malformed: number;
  /** Datagrams dropped because they did not authenticate with the key, or replayed one that did. */
  readonly unauthenticated: number;
  /** Datagrams dropped because their source is not the one `allowFrom` pins. */
  readonly foreign: number;
  /** Messages dropped because they did not fit their stream (format, framing, an unbelievable end flag). */
  readonly unfit: number;
  /** Messages of streams of another model kind than the codec's, ignored. */
  readonly mismatched: number;
  /** Messages of a stream that had already ended (late, duplicated or replayed copies), ignored. */
  readonly afterEnd: number;
  /** Datagrams the transport lost because this session read them too slowly. */
  readonly dropped: number;
  /** Duplicate datagrams (the reassembler's) plus duplicate frames (the jitter buffer's). */
  readonly duplicates: number;
  /** Incomplete messages dropped by the reassembler (a fragment never came). */
  readonly expired: number;
  /** Units (frames or chunks) decoded and played. */
  readonly played: number;
  /** Units played as concealment (lost, late, skipped, or undecodable, and not recovered). */
  readonly concealed: number;
  /** Units rebuilt from the redundancy (FEC) of later payloads instead of concealed. */
  readonly recovered: number;
  /** Units played as comfort noise (the sender's DTX). */
  readonly comfortNoise: number;
  /** Receiver reports sent back to the sender. */
  readonly reportsSent: number;
  /** Units that never arrived (concealed, and not later received late). */
  readonly lost: number;
  /** Units that arrived after their playout time. */
  readonly late: number;
  /** Units that arrived but could not be decoded (LM context lost, corrupt codes). */
  readonly undecodable: number;
  /** Units dropped for arriving more than the buffer's capacity ahead. */
  readonly tooFarAhead: number;
  /** Times the buffer ran dry while playing. */
  readonly underruns: number;
  /** Sequence jumps that restarted the jitter buffer. */
  readonly resyncs: number;
  /** Streams seen. */
  readonly streams: number;
  /** Interarrival jitter (RFC 3550) of the current stream, else of the last one, ms; undefined before two packets. */
  readonly jitterMs: number | undefined;
  /** Units buffered ahead of the playout point now. */
  readonly depthFrames: number;
  /** Prefill (`--buffer-size`, in units of the current stream) and capacity of the jitter buffer, units. */
  readonly bufferFrames: number;
  readonly capacityFrames: number;
  /** One unit's duration in the current stream, ms (0 before a stream). */
  readonly unitMs: number;
  /** Bitrate received over the last 2 s (datagrams, headers included), kbps. */
  readonly kbps: number;
  /** Audio handed to the sink, samples per channel. */
  readonly samplesOut: number;
  /** Model rate, Hz. */
  readonly sampleRateHz: number;
}

/**
 * The jitter buffer's capacity for a prefill: `max(16, 2 × prefill, prefill + 300)`, at most
 * 65536 units: room for a starved sender's catch-up bursts (see CATCH_UP_HEADROOM_UNITS).
 */
function capacityFor(prefillFrames: number): number {
  return Math.min(MAX_CAPACITY_FRAMES, Math.max(MIN_JITTER_CAPACITY_FRAMES, 2 * prefillFrames, prefillFrames + CATCH_UP_HEADROOM_UNITS));
}

/** A unit waiting in the jitter buffer. */
interface QueuedUnit {
  readonly header: PayloadHeader;
  readonly payload: Uint8Array;
  readonly hasOverlap: boolean;
}

/** A complete message waiting to be pushed into a stream. */
interface PendingMessage {
  readonly message: ReassembledMessage;
  readonly header: PayloadHeader;
  readonly arrivalMs: number;
}

/** A stream of another source or stream id, waiting until it may take over. */
interface Candidate {
  readonly id: number;
  readonly source: string;
  readonly messages: PendingMessage[];
  /** A first-of-stream flag was seen near seq 0. */
  firstOfStream: boolean;
  lastHeardMs: number;
}

/** What fixes a stream's format: every message of it must agree. */
interface StreamFormat {
  readonly trackId: number;
  readonly modelKind: PayloadHeader["modelKind"];
  readonly mode: PayloadHeader["mode"];
  readonly lmCoded: boolean;
}

interface JitterTotals {
  late: number;
  discarded: number;
  duplicate: number;
  tooFarAhead: number;
  lost: number;
  underruns: number;
  resyncs: number;
}

/** One stream being received. */
class IncomingStream {
  readonly jitter: JitterBuffer<QueuedUnit>;
  /** Set once the decoder (and LM) are ready; rejects with the reason they cannot be. */
  ready: Promise<void> | undefined;
  decoder: FrameDecoder | undefined;
  lm: LmPayloadDecoder | undefined;
  endSeq: number | undefined;
  endLengthSamples = 0;
  /** Next seq playout expects (undefined before the first unit). */
  nextSeq: number | undefined;
  /** Whether units before the first one played are concealed from seq 0 (false after a resync). */
  alignFromZero = true;
  /** Seqs concealed by a fill (not by the jitter buffer), to uncount them when they arrive late. */
  readonly filled = new Set<number>();
  playing = false;
  nextTickMs = 0;
  resynced = false;
  /** A resync is being handled: the next gap is concealed when short, else decoding restarts. */
  pendingResync = false;
  /** Last time a message of the stream was accepted, `performance.now()` ms. */
  lastHeardMs = performance.now();
  /** Highest seq accepted (RFC 1982 order), or undefined. */
  highestSeq: number | undefined;
  /** Messages accepted. */
  messages = 0;
  samplesOut = 0;
  played = 0;
  concealed = 0;
  recovered = 0;
  comfortNoise = 0;
  /** Overlap of the chunked framing (the stream's own, or the receiver's option for version 1 streams). */
  overlapRatio = 0.25;
  /** Frames per unit in stream mode (`--frames-per-packet`; a timed stream's first message's). */
  framesPerUnit = 1;
  /**
   * Stream mode with media timestamps (payload version 2): each message may carry its own number
   * of frames (the sender's frames per packet may change), and playout follows the timestamps
   * (see "Timed playout" at the top of this file).
   */
  timed = false;
  /** Timed: the media timestamp (samples, modulo 2^32) at which unit `nextSeq` starts. */
  nextSample = 0;
  /** Timed: samples played out so far by the timestamps (concealment included), the playout clock's measure. */
  advancedSamples = 0;
  /** Timed: the first message accepted, the reference of the timestamp check until playout starts. */
  anchor: { readonly seq: number; readonly timestamp: number } | undefined;
  /** Timed: frames of the last message played, the guess for a lost one when the timestamps cannot tell. */
  lastFrames = 1;
  /** Timed: where the highest message received ends (its timestamp plus its frames), for the buffer's depth in time. */
  highestEndSample = 0;
  /** Timed: the end-of-stream message's timestamp. */
  endTimestamp = 0;
  /** Timed: RFC 3550 interarrival jitter over the media timestamps. */
  readonly timedJitter: TimestampJitter;
  /** Redundant copies of units not played yet (FEC). */
  readonly store: RedundancyStore;
  /** Counts for the receiver reports. */
  readonly report: ReportBuilder;
  /** Where the stream's datagrams come from, as an endpoint (reports go back there). */
  replyTo: { address: string; port: number } | undefined;
  fillsLost = 0;
  undecodable = 0;
  done = false;
  /** `source|id`. */
  key = "";
  /** Key id of the stream's last authenticated datagram (the reports are sealed with it). */
  keyId: number | undefined;

  constructor(
    readonly id: number,
    /** The source address and port it comes from, `address|port`. */
    readonly source: string,
    readonly format: StreamFormat,
    readonly stepSamples: number,
    readonly chunkSamples: number,
    readonly unitMs: number,
    readonly prefillFrames: number,
    readonly capacityFrames: number,
    timed: boolean,
  ) {
    this.timed = timed;
    // A timed stream's prefill is measured in time by the playout loop (its units vary in length),
    // which starts the buffer itself (a forced pop): the buffer never starts on its own, so until
    // then a message that comes after a later one still moves its start back instead of being late.
    this.jitter = new JitterBuffer<QueuedUnit>({ capacity: capacityFrames, prefillFrames: timed ? capacityFrames : prefillFrames, frameDurationMs: unitMs });
    // copies for every unit the buffer can hold (a deep buffer holds more than the default bound)
    this.store = new RedundancyStore(Math.max(MAX_HELD_REDUNDANCY, capacityFrames + MAX_FEC_DEPTH));
    this.report = new ReportBuilder(id, performance.now());
    this.timedJitter = new TimestampJitter((stepSamples * 1000) / unitMs); // the model's rate
  }

  /** Interarrival jitter, ms: over the media timestamps for a timed stream, else the jitter buffer's. */
  get jitterMs(): number | undefined {
    return this.timed ? this.timedJitter.jitterMs : this.jitter.stats.jitterMs;
  }

  matches(header: PayloadHeader): boolean {
    const f = this.format;
    // K may change from unit to unit (adaptive bitrate); comfort noise units carry no codes
    return header.trackId === f.trackId && header.modelKind === f.modelKind && header.mode === f.mode && (header.lmCoded === f.lmCoded || header.comfortNoiseDb !== null);
  }

  /**
   * Whether the payload's frame count and sample length fit the framing: a stream frame is one
   * frame of 1–320 samples (320 unless it ends the stream); a chunk is `chunkSamples` long
   * (1..that when it ends the stream) in ceil(length / 320) frames.
   */
  fits(header: PayloadHeader): boolean {
    const length = header.lengthSamples;
    if (this.timed) {
      // any frame count up to MAX_FRAMES_PER_PACKET, each message stating its timestamp
      const frames = header.numFrames;
      if (header.timestampSamples === null || !(frames >= 1 && frames <= MAX_FRAMES_PER_PACKET)) return false;
      if (!(length >= 1 && length <= frames * FRAME_SAMPLES) || (!header.endOfStream && length !== frames * FRAME_SAMPLES)) return false;
      return frames === Math.ceil(length / FRAME_SAMPLES);
    }
    const unit = this.format.mode === "stream" ? FRAME_SAMPLES * this.framesPerUnit : this.chunkSamples;
    if (!(length >= 1 && length <= unit) || (!header.endOfStream && length !== unit)) return false;
    return header.numFrames === Math.ceil(length / FRAME_SAMPLES);
  }

  /** Samples the whole stream holds, once its end is known. */
  get totalSamples(): number | undefined {
    if (this.endSeq === undefined) return undefined;
    return this.timed ? this.endTimestamp + this.endLengthSamples : this.endSeq * this.stepSamples + this.endLengthSamples;
  }
}

/**
 * The receiving side of a stream: datagrams from a {@link DatagramTransport} go through the
 * reassembler, the payload header check and the jitter buffer; a playout clock pops one unit per
 * unit duration, decodes it (or conceals it) and hands the audio to the sink. A malformed
 * datagram or message is dropped and counted, never thrown. See the comment at the top of this
 * file for streams, ends and restarts.
 */
export class ReceiverSession {
  readonly #transport: DatagramTransport;
  readonly #options: ReceiverSessionOptions;
  readonly #reassembler = new Reassembler({ maxPendingPerSource: 16 });
  readonly #waker = new Waker();
  /** Keys (`source|id`) of streams that have ended (the last 4096). */
  /** Capacity in the shortest units (320-sample frames) of the prefill: how far into a stream a first-of-stream flag is believed. */
  readonly #capacity: number;
  readonly #ended = new Set<string>();
  readonly #finishedTotals: JitterTotals = { late: 0, discarded: 0, duplicate: 0, tooFarAhead: 0, lost: 0, underruns: 0, resyncs: 0 };
  readonly #window: { atMs: number; bytes: number }[] = [];
  #current: IncomingStream | undefined;
  /** Streams waiting to take over, by `source|id`, in order of creation. */
  readonly #candidates = new Map<string, Candidate>();
  /** Stream keys (`source|id`) of other model kinds already reported. */
  readonly #mismatchReported = new Set<string>();
  #unauthenticated = 0;
  #foreign = 0;
  #unfit = 0;
  #mismatched = 0;
  #afterEnd = 0;
  #fatal: unknown;
  #lastPacketMs: number;
  #streams = 0;
  #badPayloads = 0;
  #played = 0;
  #concealed = 0;
  #fillsLost = 0;
  #undecodable = 0;
  #samplesOut = 0;
  #lastUnitMs = 0;
  #lastJitterMs: number | undefined;
  #recovered = 0;
  #comfortNoise = 0;
  #reportsSent = 0;

  /**
   * @param transport where the datagrams come from; {@link ReceiverSession.run} closes it
   * @param options see {@link ReceiverSessionOptions}
   */
  constructor(transport: DatagramTransport, options: ReceiverSessionOptions) {
    this.#transport = transport;
    this.#options = options;
    const frameMs = (FRAME_SAMPLES / options.codec.sampleRateHz) * 1000;
    this.#capacity = capacityFor(options.bufferMs === undefined ? options.bufferFrames : Math.ceil(options.bufferMs / frameMs));
    this.#lastPacketMs = performance.now();
  }

  /** A snapshot of the statistics (cheap enough for a live line). */
  get stats(): ReceiverStats {
    const udp = this.#transport.stats;
    const reasm = this.#reassembler.stats;
    const cur = this.#current;
    const j: Partial<JitterStats> = cur?.jitter.stats ?? {};
    const t = this.#finishedTotals;
    const now = performance.now();
    this.#trimWindow(now);
    const windowBytes = this.#window.reduce((sum, w) => sum + w.bytes, 0);
    const span = Math.min(BITRATE_WINDOW_MS, Math.max(1, now - (this.#window[0]?.atMs ?? now)));
    const concealed = this.#concealed + (cur?.concealed ?? 0);
    return {
      datagrams: udp.datagramsReceived,
      bytes: udp.bytesReceived,
      malformed: udp.malformed + reasm.malformed + this.#badPayloads,
      unauthenticated: this.#unauthenticated,
      foreign: this.#foreign,
      unfit: this.#unfit,
      mismatched: this.#mismatched,
      afterEnd: this.#afterEnd,
      dropped: udp.dropped,
      duplicates: reasm.duplicate + t.duplicate + (j.duplicate ?? 0),
      expired: reasm.expired,
      played: this.#played + (cur?.played ?? 0),
      concealed,
      recovered: this.#recovered + (cur?.recovered ?? 0),
      comfortNoise: this.#comfortNoise + (cur?.comfortNoise ?? 0),
      reportsSent: this.#reportsSent,
      // Units the buffer discarded (they arrived, but fell out of its window while it prefilled)
      // are concealed by the gap fills; they were not lost on the way.
      lost: t.lost + (j.lost ?? 0) + this.#fillsLost + (cur?.fillsLost ?? 0) - t.discarded - (j.discarded ?? 0),
      late: t.late + (j.late ?? 0),
      undecodable: this.#undecodable + (cur?.undecodable ?? 0),
      tooFarAhead: t.tooFarAhead + (j.tooFarAhead ?? 0),
      underruns: t.underruns + (j.underruns ?? 0),
      resyncs: t.resyncs + (j.resyncs ?? 0),
      streams: this.#streams,
      jitterMs: cur?.jitterMs ?? this.#lastJitterMs,
      depthFrames: j.depthFrames ?? 0,
      bufferFrames: cur?.prefillFrames ?? this.#prefillFrames(this.#lastUnitMs),
      capacityFrames: cur?.capacityFrames ?? capacityFor(this.#prefillFrames(this.#lastUnitMs)),
      unitMs: cur === undefined ? this.#lastUnitMs : cur.timed ? (cur.lastFrames * FRAME_SAMPLES * 1000) / this.#options.codec.sampleRateHz : cur.unitMs,
      kbps: this.#window.length < 2 ? 0 : (windowBytes * 8) / span,
      samplesOut: this.#samplesOut,
      sampleRateHz: this.#options.codec.sampleRateHz,
    };
  }

  /**
   * Receives until a stream ends (with `exitOnEnd`), the idle timeout passes, or the signal
   * aborts; closes the transport before returning.
   *
   * @returns the final statistics
   * @throws what the sink or the codec throws (a stream of another model, or LM-coded without a
   *   language model, is ignored and logged: nothing from the network is fatal)
   */
  async run(): Promise<ReceiverStats> {
    const pump = (async () => {
      for await (const datagram of this.#transport) {
        try {
          const pending = this.#onDatagram(datagram);
          if (pending !== undefined) await pending;
        } catch (error) {
          this.#fatal ??= error;
          this.#waker.wake();
        }
      }
    })();
    const onAbort = () => this.#waker.wake();
    this.#options.signal?.addEventListener("abort", onAbort);
    const reporter = (this.#options.reports ?? true) ? setInterval(() => void this.#sendReport(), REPORT_INTERVAL_MS) : undefined;
    try {
      const reason = await this.#playout();
      if (reason === "end") {
        // Copies of the end-of-stream message still on their way are counted; then the socket closes.
        const until = performance.now() + END_OF_STREAM_LINGER_MS;
        while (performance.now() < until && this.#options.signal?.aborted !== true && this.#fatal === undefined) await this.#waker.wait(until);
      }
    } finally {
      if (reporter !== undefined) clearInterval(reporter);
      this.#options.signal?.removeEventListener("abort", onAbort);
      await this.#transport.close();
      await pump.catch(() => undefined);
    }
    if (this.#fatal !== undefined) throw this.#fatal;
    return this.stats;
  }

  /** Sends the current stream's receiver report to its source (a failed send is a lost report). */
  async #sendReport(): Promise<void> {
    const stream = this.#current;
    if (stream === undefined || stream.replyTo === undefined || !stream.report.started) return;
    const plain = encodeReport(stream.report.take(performance.now(), stream.jitterMs));
    try {
      const sealer = this.#options.reportSealer;
      const report = sealer === undefined ? plain : await sealer.seal(plain, stream.keyId);
      await this.#transport.send([report], stream.replyTo);
      this.#reportsSent++;
    } catch {
      // the transport is closing, or the path refuses: reports are best effort
    }
  }

  /** The prefill in units of `unitMs` (the duration rounded up, or the count given). */
  #prefillFrames(unitMs: number): number {
    const { bufferMs, bufferFrames } = this.#options;
    if (bufferMs === undefined || !(unitMs > 0)) return bufferFrames;
    return Math.min(MAX_CAPACITY_FRAMES, Math.max(1, Math.ceil(bufferMs / unitMs - 1e-9)));
  }

  #trimWindow(now: number): void {
    while (this.#window.length > 0 && now - (this.#window[0] as { atMs: number }).atMs > BITRATE_WINDOW_MS) this.#window.shift();
  }

  /** Takes one datagram; a promise only when it must be opened (a key is set). */
  #onDatagram(datagram: InboundDatagram): Promise<void> | undefined {
    this.#lastPacketMs = performance.now();
    this.#window.push({ atMs: this.#lastPacketMs, bytes: datagram.bytes.length });
    if (this.#window.length > 4096) this.#trimWindow(this.#lastPacketMs);
    const pin = this.#options.allowFrom;
    if (pin !== undefined && (datagram.remoteAddress !== pin.address || (pin.port !== undefined && datagram.remotePort !== pin.port))) {
      this.#foreign++;
      return undefined;
    }
    const opener = this.#options.opener;
    if (opener === undefined) {
      this.#onOpened(datagram, datagram.bytes);
      return undefined;
    }
    return opener.open(datagram.bytes).then((result) => {
      if (result.status === "opened") this.#onOpened(datagram, result.datagram, result.keyId);
      else this.#unauthenticated++;
    });
  }

  /** A datagram that passed the source and key checks: reassembly, payload check, routing. */
  #onOpened(datagram: InboundDatagram, bytes: Uint8Array, keyId?: number): void {
    const now = datagram.receivedAtMs;
    const source = `${datagram.remoteAddress}|${datagram.remotePort}`;
    // every datagram of the current stream counts toward the receive rate the reports state,
    // fragments of messages that never complete included (what the path lets through)
    const cur = this.#current;
    if (cur !== undefined && cur.source === source && bytes.length >= 24 && streamIdOf(new DataView(bytes.buffer, bytes.byteOffset, 24).getUint32(12, false)) === cur.id) {
      cur.report.onDatagram(bytes.length);
    }
    const result = this.#reassembler.push(bytes, now, source);
    if (result.status !== "complete") return;
    const message = result.message;
    let header: PayloadHeader;
    try {
      header = parsePayloadHeader(message.payload);
    } catch {
      this.#badPayloads++;
      return;
    }
    const id = streamIdOf(message.fragId);
    const key = `${source}|${id}`;
    if (header.modelKind !== this.#options.codec.modelKind) {
      this.#mismatched++;
      if (!this.#mismatchReported.has(key) && this.#mismatchReported.size < 64) {
        this.#mismatchReported.add(key);
        const { codec } = this.#options;
        this.#options.log?.(
          `ignoring stream ${id.toString(16).padStart(4, "0")} from ${datagram.remoteAddress}:${datagram.remotePort}: it carries ` +
            `${header.modelKind === "48k" ? "48 kHz stereo" : "24 kHz mono"} EnCodec codes, and the loaded model is ${codec.sampleRateHz / 1000} kHz with ${codec.channels} channel(s)` +
            ` (receive with the ${header.modelKind === "48k" ? "48" : "24"} kHz model)`,
        );
      }
      return;
    }
    const current = this.#current;
    if (current !== undefined && current.source === source && current.id === id) {
      current.replyTo = { address: datagram.remoteAddress, port: datagram.remotePort };
      if (keyId !== undefined) current.keyId = keyId;
      this.#push(current, message, header, now);
      return;
    }
    if (this.#ended.has(key)) {
      this.#afterEnd++; // a late message of a stream that has ended
      return;
    }
    if (current === undefined && this.#candidates.size === 0) {
      this.#startStream(key, id, source, header, [{ message, header, arrivalMs: now }]);
      return;
    }
    let candidate = this.#candidates.get(key);
    if (candidate === undefined) {
      if (this.#candidates.size >= MAX_CANDIDATE_STREAMS) {
        // Forget the one heard least recently.
        let stalest: string | undefined;
        for (const [k, c] of this.#candidates) if (stalest === undefined || c.lastHeardMs < this.#candidates.get(stalest)!.lastHeardMs) stalest = k;
        this.#candidates.delete(stalest!);
      }
      candidate = { id, source, messages: [], firstOfStream: false, lastHeardMs: now };
      this.#candidates.set(key, candidate);
    }
    candidate.messages.push({ message, header, arrivalMs: now });
    if (candidate.messages.length > MAX_CANDIDATE_MESSAGES) candidate.messages.shift();
    candidate.lastHeardMs = now;
    // A first-of-stream flag is believed only near the start of a stream.
    if (header.firstOfStream && message.seq < this.#capacity) candidate.firstOfStream = true;
    this.#waker.wake();
  }

  /** The waiting stream that may take over now, or undefined. */
  #takeover(now: number): Candidate | undefined {
    const current = this.#current;
    const silence = this.#options.takeoverSilenceMs ?? DEFAULT_TAKEOVER_SILENCE_MS;
    if (current !== undefined && now - current.lastHeardMs < silence) return undefined;
    // A stream whose end has arrived is not silent but complete: it plays out to that end (a
    // sender that ran ahead of real time leaves it buffered, without a datagram for a while),
    // and only then may another take over (or the receiver stop, with `exitOnEnd`).
    if (current !== undefined && current.endSeq !== undefined && !current.done) return undefined;
    let best: Candidate | undefined;
    for (const c of this.#candidates.values()) {
      const credible = current === undefined || c.firstOfStream || c.messages.length >= RESTART_MESSAGES;
      if (credible && c.messages.length > 0 && (best === undefined || c.lastHeardMs > best.lastHeardMs)) best = c;
    }
    return best;
  }

  #startStream(key: string, id: number, source: string, first: PayloadHeader, messages: readonly PendingMessage[]): void {
    const { codec } = this.#options;
    const format: StreamFormat = { trackId: first.trackId, modelKind: first.modelKind, mode: first.mode, lmCoded: first.lmCoded };
    let stepSamples = FRAME_SAMPLES;
    let chunkSamples = FRAME_SAMPLES;
    let overlapRatio = this.#options.overlapRatio;
    let framesPerUnit = 1;
    if (first.mode === "chunked") {
      chunkSamples = this.#chunkSamplesOf(messages, codec.sampleRateHz);
      // a version 2 stream states its overlap (the receiver's --overlap is then not needed)
      const stated = messages.find((m) => m.header.overlapSamples !== null)?.header.overlapSamples;
      if (stated !== undefined && stated !== null) {
        const ratio = stated / chunkSamples;
        if (!(ratio >= 0.01 && ratio <= 0.5)) {
          this.#badPayloads++;
          return; // not a stream this receiver can join (the overlap must be 1–50 % of the chunk)
        }
        overlapRatio = ratio;
      }
      stepSamples = chunkSamples - computeOverlapSamples(chunkSamples, overlapRatio);
    } else {
      // frames per message (`--frames-per-packet`): any message but the last has them all (in a
      // timed stream, the first message's: its prefill is counted in units of that length)
      framesPerUnit = messages.find((m) => !m.header.endOfStream)?.header.numFrames ?? first.numFrames;
      framesPerUnit = Math.min(MAX_FRAMES_PER_PACKET, Math.max(1, framesPerUnit));
      stepSamples = FRAME_SAMPLES * framesPerUnit;
    }
    const unitMs = (stepSamples / codec.sampleRateHz) * 1000;
    // A waiting stream's backlog must fit the buffer, or its first units would be dropped.
    const prefillFrames = this.#prefillFrames(unitMs);
    const capacity = Math.min(MAX_CAPACITY_FRAMES, Math.max(capacityFor(prefillFrames), 2 * messages.length + prefillFrames));
    const timed = first.mode === "stream" && first.timestampSamples !== null;
    const stream = new IncomingStream(id, source, format, stepSamples, chunkSamples, unitMs, prefillFrames, capacity, timed);
    stream.key = key;
    stream.overlapRatio = overlapRatio;
    stream.framesPerUnit = framesPerUnit;
    stream.lastFrames = framesPerUnit;
    this.#current = stream;
    this.#lastUnitMs = unitMs;
    this.#streams++;
    stream.ready = this.#prepare(stream);
    stream.ready.catch(() => undefined);
    this.#options.log?.(
      `stream ${id.toString(16).padStart(4, "0")}: ${first.mode === "chunked" ? `chunked, ${chunkSamples} samples a chunk, hop ${stepSamples}` : `frame-exact stream${framesPerUnit > 1 ? `, ${framesPerUnit} frames a message` : ""}`}, ` +
        `${first.bandwidthKbps} kbps, ${first.lmCoded ? "LM-coded" : "packed codes"}`,
    );
    const [address, port] = source.split("|") as [string, string];
    this.#options.onStreamStart?.({ streamId: id, trackId: first.trackId, remoteAddress: address, remotePort: Number(port), mode: first.mode });
    for (const m of messages) this.#push(stream, m.message, m.header, m.arrivalMs);
  }

  /** The chunk length: any chunk but the last carries it; a lone last chunk at seq 0 is the whole stream. */
  #chunkSamplesOf(messages: readonly PendingMessage[], sampleRateHz: number): number {
    const full = messages.find((m) => !m.header.endOfStream);
    if (full !== undefined) return full.header.lengthSamples;
    const only = messages.find((m) => m.message.seq === 0);
    if (only !== undefined) return only.header.lengthSamples;
    return Math.round((defaultChunkMsOf(this.#options.codec.modelKind) * sampleRateHz) / 1000);
  }

  async #prepare(stream: IncomingStream): Promise<void> {
    const { codec } = this.#options;
    if (stream.format.mode === "stream") {
      // a timed stream conceals by frames (each lost message by the frames it carried)
      stream.decoder = await createFrameStreamDecoder(codec, stream.timed ? 1 : stream.framesPerUnit, { frameByFrame: stream.timed });
    } else {
      stream.decoder = createChunkedDecoder(codec, { chunkSamples: stream.chunkSamples, overlapRatio: stream.overlapRatio });
    }
    if (stream.format.lmCoded) {
      const lm = await codec.lm();
      if (lm === null) {
        throw new SessionError(
          "lm-unavailable",
          "the stream is LM-coded, and the codec has no language model",
        );
      }
      stream.lm = new LmPayloadDecoder(lm);
    }
  }

  #push(stream: IncomingStream, message: ReassembledMessage, header: PayloadHeader, arrivalMs: number): void {
    if (!stream.matches(header) || !stream.fits(header)) {
      this.#unfit++;
      return;
    }
    const seq = message.seq;
    if (stream.timed && !this.#timestampFits(stream, seq, header.timestampSamples as number)) {
      this.#badPayloads++; // a timestamp its seq cannot have: a bad payload
      return;
    }
    if (header.endOfStream) {
      // Believed only within the buffer's reach of what was received, and not behind playout.
      const highest = stream.highestSeq ?? seq;
      const behind = stream.nextSeq !== undefined && seqDiff(seq, stream.nextSeq) < 0;
      if (Math.abs(seqDiff(seq, highest)) > stream.capacityFrames || behind || (stream.endSeq !== undefined && stream.endSeq !== seq)) {
        this.#unfit++;
        return;
      }
      if (stream.endSeq === undefined) {
        stream.endSeq = seq;
        stream.endLengthSamples = header.lengthSamples;
        stream.endTimestamp = header.timestampSamples ?? 0;
      }
    } else if (stream.endSeq !== undefined && seqDiff(seq, stream.endSeq) > 0) {
      this.#unfit++; // beyond the end
      return;
    }
    stream.lastHeardMs = performance.now();
    stream.messages++;
    if (stream.highestSeq === undefined || seqDiff(seq, stream.highestSeq) >= 0) {
      stream.highestSeq = seq;
      stream.highestEndSample = ((header.timestampSamples ?? 0) + header.numFrames * FRAME_SAMPLES) >>> 0;
    }
    stream.report.onUnit(seq, header.timestampSamples, arrivalMs);
    stream.store.add(seq, header.redundancy, stream.nextSeq);
    // a timed stream's jitter is measured on its timestamps (the buffer's assumes one length a unit)
    const result = stream.jitter.push(seq, { header, payload: message.payload, hasOverlap: message.hasOverlap }, stream.timed ? undefined : arrivalMs);
    if (stream.timed && (result === "accepted" || result === "resync" || result === "late")) stream.timedJitter.update(header.timestampSamples as number, arrivalMs);
    if (result === "resync") stream.resynced = true;
    if (result === "late" && stream.filled.delete(message.seq)) stream.fillsLost--;
    this.#waker.wake();
  }

  /**
   * Whether a timed stream's message may carry this timestamp: against the playout point (or,
   * before playout, the stream's first message), every message between carries 1 to
   * MAX_FRAMES_PER_PACKET frames, so the timestamp is a whole number of frames away within those
   * bounds. (A message further than 2^27 away in seq is not checked here: the jitter buffer
   * decides about it, and no fill reaches that far.)
   */
  #timestampFits(stream: IncomingStream, seq: number, timestamp: number): boolean {
    const ref = stream.nextSeq !== undefined ? { seq: stream.nextSeq, timestamp: stream.nextSample } : stream.anchor;
    if (ref === undefined) {
      stream.anchor = { seq, timestamp };
      return true;
    }
    const units = seqDiff(seq, ref.seq);
    if (Math.abs(units) > 2 ** 27) return true;
    const samples = (timestamp - ref.timestamp) | 0;
    if (samples % FRAME_SAMPLES !== 0) return false;
    const frames = samples / FRAME_SAMPLES;
    return units >= 0 ? frames >= units && frames <= units * MAX_FRAMES_PER_PACKET : frames <= units && frames >= units * MAX_FRAMES_PER_PACKET;
  }

  /** When the receiver gives up for silence (`idleTimeoutMs`), or the current stream ends for it (`streamIdleMs`). */
  #idleDeadline(): number {
    const timeout = this.#options.idleTimeoutMs;
    const overall = timeout === undefined ? Number.POSITIVE_INFINITY : this.#lastPacketMs + timeout;
    const stream = this.#current;
    if (stream === undefined) return overall;
    const silence = this.#candidates.size > 0 ? this.#options.takeoverSilenceMs ?? DEFAULT_TAKEOVER_SILENCE_MS : Number.POSITIVE_INFINITY;
    return Math.min(overall, stream.lastHeardMs + (this.#options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS), stream.lastHeardMs + silence);
  }

  /** The playout clock; returns why it stopped. */
  async #playout(): Promise<"end" | "idle" | "abort"> {
    for (;;) {
      if (this.#fatal !== undefined) throw this.#fatal;
      const stream = this.#current;
      const aborted = this.#options.signal?.aborted === true;
      const now = performance.now();
      const timeout = this.#options.idleTimeoutMs;
      if (aborted || (timeout !== undefined && now >= this.#lastPacketMs + timeout)) {
        if (stream !== undefined) await this.#endStream(stream);
        return aborted ? "abort" : "idle";
      }
      const next = this.#takeover(now);
      if (next !== undefined) {
        if (stream !== undefined) {
          this.#options.log?.(`stream ${next.id.toString(16).padStart(4, "0")} replaces stream ${stream.id.toString(16).padStart(4, "0")} (silent for ${Math.round(now - stream.lastHeardMs)} ms)`);
          await this.#endStream(stream, { discardUnplayed: true });
        }
        // Messages that came while the old stream was played out are in the candidate too.
        const key = `${next.source}|${next.id}`;
        this.#candidates.delete(key);
        if (!this.#ended.has(key)) this.#startStream(key, next.id, next.source, next.messages[0]!.header, next.messages);
        else this.#afterEnd += next.messages.length;
        continue;
      }
      if (stream !== undefined && now >= stream.lastHeardMs + (this.#options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS)) {
        this.#options.log?.(`stream ${stream.id.toString(16).padStart(4, "0")}: nothing for ${Math.round(now - stream.lastHeardMs)} ms, ending it`);
        const played = stream.samplesOut > 0 || stream.jitter.stats.heldFrames > 0;
        await this.#endStream(stream);
        if (played && (this.#options.exitOnEnd ?? true)) return "end";
        continue;
      }
      if (stream === undefined) {
        await this.#waker.wait(this.#idleDeadline());
        continue;
      }
      try {
        await stream.ready;
      } catch (error) {
        // The stream cannot be decoded here (LM-coded, and no language model): ignore it.
        this.#options.log?.(`ignoring stream ${stream.id.toString(16).padStart(4, "0")}: ${error instanceof Error ? error.message : String(error)}`);
        this.#mismatched += stream.messages;
        this.#retire(stream);
        continue;
      }
      if (stream.resynced) {
        stream.resynced = false;
        stream.pendingResync = true;
      }
      const draining = stream.endSeq !== undefined;
      if (stream.timed && !stream.playing && !draining && this.#timedAheadMs(stream) < stream.prefillFrames * stream.unitMs - 1e-6) {
        // a timed stream prefills by time: the audio held, from the first unit held to the end of the highest
        await this.#waker.wait(this.#idleDeadline());
        continue;
      }
      if (stream.playing) {
        const now = performance.now();
        if (now < stream.nextTickMs) {
          await this.#waker.wait(Math.min(stream.nextTickMs, this.#idleDeadline()));
          continue;
        }
      }
      // (a timed stream past its prefill by time starts, or restarts after an underrun, here)
      const popped = stream.jitter.pop({ draining: draining || (stream.timed && !stream.playing) });
      if (popped.kind === "empty") {
        stream.playing = false;
        if (draining && stream.jitter.stats.heldFrames === 0) {
          await this.#endStream(stream);
          if (this.#options.exitOnEnd ?? true) return "end";
          continue;
        }
        await this.#waker.wait(this.#idleDeadline());
        continue;
      }
      if (!stream.playing) {
        stream.playing = true;
        stream.nextTickMs = performance.now();
      }
      // a timed stream's clock moves on by what the unit played (its frames, or the lost ones')
      const before = stream.advancedSamples;
      if (!stream.timed) stream.nextTickMs += stream.unitMs;
      await this.#play(stream, popped);
      if (stream.timed) stream.nextTickMs += ((stream.advancedSamples - before) / this.#options.codec.sampleRateHz) * 1000;
      this.#reassembler.expectSeq(stream.nextSeq);
      // Catch up: a gapless run longer than the prefill (the stream encoder's startup frames
      // come out together; a stall on the path releases a burst) is played down to the prefill
      // at once, so the delay returns to the buffer's instead of keeping the burst's.
      while (!stream.done && this.#excess(stream)) {
        const next = stream.jitter.pop({ draining });
        if (next.kind === "empty") break;
        await this.#play(stream, next);
      }
      if (stream.done) {
        await this.#endStream(stream);
        if (this.#options.exitOnEnd ?? true) return "end";
      }
    }
  }

  /** A timed stream's audio held ahead of playout, ms: from the first unit held (holes included) to the end of the highest. */
  #timedAheadMs(stream: IncomingStream): number {
    const first = stream.jitter.peekHeld();
    if (first === undefined) return 0;
    return (((stream.highestEndSample - (first.frame.header.timestampSamples as number)) | 0) / this.#options.codec.sampleRateHz) * 1000;
  }

  /** True when the buffer holds more units than the prefill, with no hole among them. */
  #excess(stream: IncomingStream): boolean {
    const { heldFrames, depthFrames } = stream.jitter.stats;
    if (stream.timed) {
      // the prefill's duration, measured by the timestamps (the messages may be of any length)
      const aheadMs = (((stream.highestEndSample - stream.nextSample) | 0) / this.#options.codec.sampleRateHz) * 1000;
      const next = stream.jitter.peekHeld();
      const nextMs = next === undefined ? 0 : ((next.frame.header.numFrames * FRAME_SAMPLES) / this.#options.codec.sampleRateHz) * 1000;
      return heldFrames > 1 && heldFrames === depthFrames && aheadMs - nextMs >= stream.prefillFrames * stream.unitMs - 1e-6;
    }
    return heldFrames > stream.prefillFrames && heldFrames === depthFrames;
  }

  /**
   * After a resync, before playing `seq`: a short jump is concealed like any gap (the output
   * stays aligned); a long one restarts decoding where playout resumes.
   */
  async #afterResync(stream: IncomingStream, seq: number): Promise<void> {
    if (!stream.pendingResync) return;
    stream.pendingResync = false;
    const jump = stream.nextSeq === undefined ? 0 : seqDiff(seq, stream.nextSeq);
    if (jump < 0 || jump > MAX_LEADING_FILL_FRAMES) await this.#restartDecoding(stream);
  }

  /** Decodes or conceals one popped unit (filling any gap before it) and writes its audio. */
  async #play(stream: IncomingStream, popped: Exclude<PopResult<QueuedUnit>, { kind: "empty" }>): Promise<void> {
    if (stream.timed) return this.#playTimed(stream, popped);
    const decoder = stream.decoder as FrameDecoder;
    const seq = popped.seq;
    // The first unit of a stream is expected at seq 0 (senders start there); after a resync,
    // wherever playout resumes.
    await this.#afterResync(stream, seq);
    const expected = stream.nextSeq ?? (stream.alignFromZero ? 0 : seq);
    const gap = seqDiff(seq, expected);
    if (gap > 0 && gap <= MAX_LEADING_FILL_FRAMES) {
      // Units never played (lost before the first, or skipped after an underrun): conceal them.
      for (let i = 0; i < gap; i++) stream.filled.add((expected + i) >>> 0);
      if (stream.filled.size > 4 * MAX_LEADING_FILL_FRAMES) stream.filled.clear();
      stream.concealed += gap;
      stream.fillsLost += gap;
      stream.lm?.markLost();
      // One call per unit: the decoder's ONNX calls are then the same whatever the gaps were.
      for (let i = 0; i < gap; i++) {
        const rebuilt = await this.#recover(stream, (expected + i) >>> 0);
        if (rebuilt !== undefined) {
          stream.concealed--;
          stream.filled.delete((expected + i) >>> 0);
        }
        await this.#emit(stream, rebuilt ?? (await decoder.missing(1)));
      }
    }
    stream.nextSeq = (seq + 1) >>> 0;
    // keep this unit's own redundancy: a lost unit is rebuilt from it below
    stream.store.forgetBefore(seq);
    let audio: Float32Array[];
    const unit = popped.kind === "frame" ? popped.frame : undefined;
    if (unit !== undefined) audio = await this.#decodeReceived(stream, unit, seq, 1);
    else {
      stream.lm?.markLost();
      const rebuilt = await this.#recover(stream, seq);
      if (rebuilt !== undefined) {
        audio = rebuilt;
      } else {
        audio = await decoder.missing(1);
        stream.concealed++;
      }
    }
    if (seq === stream.endSeq) {
      await this.#emitLast(stream, [audio, await decoder.finish()]);
      stream.done = true;
      return;
    }
    await this.#emit(stream, audio);
  }

  /**
   * {@link ReceiverSession.#play} for a timed stream (see "Timed playout" at the top of this
   * file): units never played before this one, and this one when it is lost, are rebuilt from
   * FEC copies or concealed by the frames the timestamps say they carried; a received unit is
   * decoded where its timestamp puts it.
   */
  async #playTimed(stream: IncomingStream, popped: Exclude<PopResult<QueuedUnit>, { kind: "empty" }>): Promise<void> {
    const decoder = stream.decoder as FrameDecoder;
    const seq = popped.seq;
    await this.#afterResync(stream, seq);
    const unit = popped.kind === "frame" ? popped.frame : undefined;
    const known = unit !== undefined ? { seq, timestamp: unit.header.timestampSamples as number } : this.#nextKnownTimestamp(stream);
    if (stream.nextSeq === undefined) {
      // The first unit played: the stream starts at seq 0, sample 0 (senders start there); after
      // a restart, here (a lost unit's start is guessed from the next one known).
      if (stream.alignFromZero) {
        stream.nextSeq = 0;
        stream.nextSample = 0;
      } else {
        stream.nextSeq = seq;
        stream.nextSample = known === undefined ? 0 : (known.timestamp - seqDiff(known.seq, seq) * stream.lastFrames * FRAME_SAMPLES) >>> 0;
      }
    }
    let gap = seqDiff(seq, stream.nextSeq);
    if (gap < 0 || gap > MAX_LEADING_FILL_FRAMES) {
      // a jump too long to fill: playout goes on from here, where the timestamp says
      gap = 0;
      stream.nextSeq = seq;
      if (known !== undefined && known.seq === seq) stream.nextSample = known.timestamp;
    }
    const plan = this.#planTimed(stream, gap + (unit === undefined ? 1 : 0), known);
    // units never played before this one (lost before the first, skipped after an underrun)
    if (gap > 0) {
      stream.lm?.markLost();
      for (let i = 0; i < gap; i++) {
        const s = (seq - gap + i) >>> 0;
        const frames = plan[i] as number;
        const rebuilt = await this.#recover(stream, s, frames);
        stream.fillsLost++; // never arrived, rebuilt or not
        if (rebuilt === undefined) {
          stream.filled.add(s);
          stream.concealed++;
        }
        if (stream.filled.size > 4 * MAX_LEADING_FILL_FRAMES) stream.filled.clear();
        await this.#emit(stream, rebuilt ?? (await decoder.missing(frames)));
        this.#advanceTimed(stream, frames);
      }
    }
    stream.store.forgetBefore(seq);
    let audio: Float32Array[];
    let frames: number;
    if (unit === undefined) {
      // lost: rebuilt from a later payload's copy, else concealed, by the frames it carried
      frames = plan[gap] as number;
      stream.lm?.markLost();
      const rebuilt = await this.#recover(stream, seq, frames);
      if (rebuilt !== undefined) audio = rebuilt;
      else {
        audio = await decoder.missing(frames);
        stream.concealed++;
      }
    } else {
      const h = unit.header;
      frames = h.numFrames;
      // Where the timestamp puts it against what was played: after the fills, nothing, unless
      // the frames of a lost run were guessed (its neighbours disagreed): a shortfall is
      // concealed, an excess cut from this unit's audio, so the output keeps the timestamps'.
      const drift = ((h.timestampSamples as number) - stream.nextSample) | 0;
      let cut = 0;
      if (drift > 0 && drift <= MAX_FRAMES_PER_PACKET * FRAME_SAMPLES) {
        const extra = Math.ceil(drift / FRAME_SAMPLES);
        await this.#emit(stream, await decoder.missing(extra));
        stream.advancedSamples += extra * FRAME_SAMPLES;
      } else if (drift < 0 && drift >= -MAX_FRAMES_PER_PACKET * FRAME_SAMPLES) {
        cut = -drift;
      }
      stream.nextSample = h.timestampSamples as number;
      audio = await this.#decodeReceived(stream, unit, seq, frames, frames);
      if (cut > 0) {
        stream.advancedSamples -= Math.min(cut, audio[0]?.length ?? 0);
        audio = audio.map((channel) => channel.subarray(Math.min(cut, channel.length)));
      }
      stream.lastFrames = frames;
    }
    this.#advanceTimed(stream, frames);
    if (seq === stream.endSeq) {
      await this.#emitLast(stream, [audio, await decoder.finish()]);
      stream.done = true;
      return;
    }
    await this.#emit(stream, audio);
  }

  /**
   * The audio of a unit that arrived: its codes decoded (`played`); else, for a DTX unit, comfort
   * noise over the decoder's concealment (`comfortNoise`); else (codes the model or the LM refuses)
   * an FEC copy, or concealment counted `undecodable`. `units` is what `decoder.missing` takes for this
   * unit; `frames`, when given, the frames an FEC copy must hold.
   */
  async #decodeReceived(stream: IncomingStream, unit: QueuedUnit, seq: number, units: number, frames?: number): Promise<Float32Array[]> {
    const decoder = stream.decoder as FrameDecoder;
    const h = unit.header;
    const noiseDb = h.comfortNoiseDb;
    const codes = noiseDb !== null ? null : this.#codesOf(stream, unit);
    if (codes !== null) {
      try {
        const decoded = await decoder.decode({ codes, numCodebooks: h.numCodebooks, numFrames: h.numFrames, lengthSamples: h.lengthSamples, scale: h.scale, hasOverlap: unit.hasOverlap, frameCodebooks: h.frameCodebooks });
        stream.played++;
        return decoded;
      } catch {
        // codes the model refuses (a corrupt or hostile payload): rebuilt or concealed below
      }
    }
    if (noiseDb !== null) {
      // DTX: the decoder conceals underneath (its timing moves on), the output is comfort noise
      const under = await decoder.missing(units);
      stream.comfortNoise++;
      return comfortNoise(noiseDb, under[0]?.length ?? 0, under.length, seq);
    }
    const rebuilt = await this.#recover(stream, seq, frames);
    if (rebuilt !== undefined) return rebuilt;
    stream.undecodable++;
    stream.concealed++;
    return decoder.missing(units);
  }

  /** A timed stream's playout point moves past one unit of `frames` frames. */
  #advanceTimed(stream: IncomingStream, frames: number): void {
    stream.nextSeq = ((stream.nextSeq ?? 0) + 1) >>> 0;
    stream.nextSample = (stream.nextSample + frames * FRAME_SAMPLES) >>> 0;
    stream.advancedSamples += frames * FRAME_SAMPLES;
  }

  /** The next unit whose timestamp is known past the playout point: the next one held, or the end. */
  #nextKnownTimestamp(stream: IncomingStream): { seq: number; timestamp: number } | undefined {
    const held = stream.jitter.peekHeld();
    if (held !== undefined) return { seq: held.seq, timestamp: held.frame.header.timestampSamples as number };
    if (stream.endSeq !== undefined) return { seq: stream.endSeq, timestamp: stream.endTimestamp };
    return undefined;
  }

  /**
   * Frames of the `count` units from the playout point on that will not be decoded from their
   * own payloads: the timestamp of the next unit known says how long they last together; FEC
   * copies say it for some of them; the rest is shared out (frame-allotment.ts). When nothing
   * tells (no later unit known, or timestamps that cannot be), each gets the last unit's frames.
   */
  #planTimed(stream: IncomingStream, count: number, known: { seq: number; timestamp: number } | undefined): number[] {
    if (count === 0) return [];
    const from = stream.nextSeq as number;
    const span = known === undefined ? 0 : seqDiff(known.seq, from);
    if (known !== undefined && span >= count && span <= stream.capacityFrames + MAX_LEADING_FILL_FRAMES) {
      const samples = (known.timestamp - stream.nextSample) | 0;
      const copies = Array.from({ length: span }, (_, i) => stream.store.framesOf((from + i) >>> 0));
      const plan = samples % FRAME_SAMPLES === 0 ? allotFrames(samples / FRAME_SAMPLES, copies, MAX_FRAMES_PER_PACKET) : undefined;
      if (plan !== undefined) return plan.slice(0, count);
    }
    return Array.from({ length: count }, (_, i) => stream.store.framesOf((from + i) >>> 0) ?? stream.lastFrames);
  }

  /**
   * A unit lost (or undecodable) rebuilt from the redundancy of a later payload, decoded; or
   * undefined when no redundancy for it came in time (or the model refuses its codes).
   */
  async #recover(stream: IncomingStream, seq: number, frames?: number): Promise<Float32Array[] | undefined> {
    const unit: RecoveredUnit | undefined = stream.store.take(seq);
    if (unit === undefined || (frames !== undefined && unit.numFrames !== frames)) return undefined;
    try {
      const audio = await (stream.decoder as FrameDecoder).decode({ ...unit, hasOverlap: seq !== 0 && stream.format.mode === "chunked" });
      stream.recovered++;
      return audio;
    } catch {
      return undefined;
    }
  }

  /** The unit's codes, or null when they cannot be decoded (LM context lost, corrupt payload). */
  #codesOf(stream: IncomingStream, unit: QueuedUnit): Uint16Array | null {
    try {
      return decodePayload(unit.payload, stream.lm !== undefined ? { lmCoder: stream.lm } : {}).codes;
    } catch {
      return null;
    }
  }

  /** A long jitter-buffer resync: the old position is gone; end the decoder's stream and start over. */
  async #restartDecoding(stream: IncomingStream): Promise<void> {
    const decoder = stream.decoder as FrameDecoder;
    await this.#emit(stream, await decoder.finish());
    stream.nextSeq = undefined;
    stream.anchor = undefined;
    stream.timedJitter.reseed();
    stream.store.clear();
    stream.alignFromZero = false;
    stream.lm?.markLost();
  }

  /**
   * Plays out what is held at once, flushes the decoder, fixes the length, and retires the
   * stream. With `discardUnplayed`, a stream that never played anything (it never reached its
   * prefill: a few stray messages) is retired without output.
   */
  async #endStream(stream: IncomingStream, options: { discardUnplayed?: boolean } = {}): Promise<void> {
    if (this.#current !== stream) return;
    const silent = options.discardUnplayed === true && stream.samplesOut === 0 && !stream.playing && stream.messages < RESTART_MESSAGES;
    try {
      if (!silent && !stream.done && stream.ready !== undefined) {
        await stream.ready;
        for (let popped = stream.jitter.pop({ draining: true }); popped.kind !== "empty" && !stream.done; popped = stream.jitter.pop({ draining: true })) {
          await this.#play(stream, popped);
        }
        if (!stream.done) {
          // Units between playout and the known end that never came out of the buffer (lost,
          // or dropped for arriving too far ahead) are concealed, not left to the final padding.
          const left = stream.endSeq === undefined || stream.nextSeq === undefined ? 0 : seqDiff(stream.endSeq, stream.nextSeq) + 1;
          if (left > 0 && left <= MAX_LEADING_FILL_FRAMES) {
            const decoder = stream.decoder as FrameDecoder;
            stream.lm?.markLost();
            // a timed stream's lost units last from the playout point to the end's timestamp, plus the last one's frames
            const total = ((stream.endTimestamp - stream.nextSample) | 0) / FRAME_SAMPLES + Math.ceil(stream.endLengthSamples / FRAME_SAMPLES);
            const plan = stream.timed ? allotFrames(total, Array.from({ length: left }, () => undefined), MAX_FRAMES_PER_PACKET) : undefined;
            // cut with the rest to the stream's length: the last unit may be shorter than its frames
            const parts: Float32Array[][] = [];
            for (let i = 0; i < left; i++) parts.push(await decoder.missing(stream.timed ? plan?.[i] ?? stream.lastFrames : 1));
            stream.concealed += left;
            stream.fillsLost += left;
            parts.push(await decoder.finish());
            await this.#emitLast(stream, parts);
          } else {
            await this.#emitLast(stream, [await (stream.decoder as FrameDecoder).finish()]);
          }
        }
      }
    } finally {
      this.#retire(stream);
    }
  }

  /** Adds a stream's counters to the totals and forgets it (its late messages are ignored). */
  #retire(stream: IncomingStream): void {
    if (this.#current !== stream) return;
    {
      const j = stream.jitter.stats;
      const t = this.#finishedTotals;
      t.late += j.late;
      t.discarded += j.discarded;
      t.duplicate += j.duplicate;
      t.tooFarAhead += j.tooFarAhead;
      t.lost += j.lost;
      t.underruns += j.underruns;
      t.resyncs += j.resyncs;
      this.#lastJitterMs = stream.jitterMs ?? this.#lastJitterMs;
      this.#played += stream.played;
      this.#concealed += stream.concealed;
      this.#recovered += stream.recovered;
      this.#comfortNoise += stream.comfortNoise;
      this.#fillsLost += stream.fillsLost;
      this.#undecodable += stream.undecodable;
      this.#ended.add(stream.key);
      if (this.#ended.size > 4096) this.#ended.delete(this.#ended.values().next().value as string);
      this.#current = undefined;
      this.#reassembler.expectSeq(undefined);
      const seconds = (stream.samplesOut / this.#options.codec.sampleRateHz).toFixed(2);
      this.#options.log?.(`stream ${stream.id.toString(16).padStart(4, "0")} ended: ${seconds} s`);
    }
  }

  /**
   * Writes the stream's last audio, cut or padded (with silence, for lost last units) so the
   * stream holds exactly the length its end-of-stream payload announced.
   */
  async #emitLast(stream: IncomingStream, parts: readonly Float32Array[][]): Promise<void> {
    const channels = this.#options.codec.channels;
    let length = parts.reduce((n, p) => n + (p[0]?.length ?? 0), 0);
    const total = stream.totalSamples;
    if (total !== undefined) length = Math.max(0, total - stream.samplesOut);
    const out = Array.from({ length: channels }, () => new Float32Array(length));
    let at = 0;
    for (const part of parts) {
      const n = Math.min(part[0]?.length ?? 0, length - at);
      if (n <= 0) continue;
      part.forEach((channel, c) => out[c]!.set(channel.subarray(0, n), at));
      at += n;
    }
    await this.#emit(stream, out);
  }

  async #emit(stream: IncomingStream, audio: readonly Float32Array[]): Promise<void> {
    const samples = audio[0]?.length ?? 0;
    if (samples === 0) return;
    await this.#options.sink.write(audio);
    const startSample = stream.samplesOut;
    stream.samplesOut += samples;
    this.#samplesOut += samples;
    this.#options.onPlayed?.({ streamId: stream.id, startSample, samples, atMs: performance.now() });
  }
}
