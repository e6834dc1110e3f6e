import { decodePayload, parsePayloadHeader, type PayloadHeader } from "@encstream/codec";
import { JitterBuffer, MAX_CAPACITY_FRAMES, seqDiff, type JitterStats, type PopResult } from "@encstream/jitter";
import { computeOverlapSamples } from "@encstream/ola";
import { Reassembler, type ReassembledMessage } from "@encstream/packet";
import {
  BITRATE_WINDOW_MS,
  END_OF_STREAM_LINGER_MS,
  FRAME_SAMPLES,
  MAX_LEADING_FILL_FRAMES,
  MIN_JITTER_CAPACITY_FRAMES,
  RESTART_MESSAGES,
} from "./constants.js";
import { SessionError } from "./errors.js";
import { streamIdOf } from "./frag-id.js";
import { createChunkedDecoder, createFrameStreamDecoder, type FrameDecoder } from "./frame-decoder.js";
import { defaultChunkMsOf } from "./frame-encoder.js";
import { Waker } from "./internal/timing.js";
import { LmPayloadDecoder } from "./payload-lm.js";
import type { SessionCodec } from "./session-codec.js";
import type { DatagramTransport, InboundDatagram } from "./transport.js";

/*
 * How the receiver follows streams (see "End of stream and restarts" in docs/architecture.md):
 * - A stream is the messages whose frag_id carries one stream id (its high 16 bits, random per
 *   `send` run). The first valid message fixes the stream's model kind, framing, codebooks and LM
 *   use (checked against the loaded model); sequence numbers start at 0.
 * - End: the payload with the end-of-stream flag gives the last seq E and its length L; the
 *   stream holds E × step + L samples (step: the chunk hop, or 320). Once E is known, playout
 *   drains (no new prefill waits); the stream ends when E has been played. The output is then cut
 *   or padded to exactly that length. With `--timeout`, silence on the socket ends it too.
 * - Restart: a valid message of another stream id with the first-of-stream flag, or
 *   RESTART_MESSAGES in a row of the same new id, ends the current stream at once (what is
 *   buffered is played out) and starts the new one. Late messages of an ended stream are ignored.
 * - Gaps: frames lost before the first one received (up to MAX_LEADING_FILL_FRAMES), and frames
 *   the jitter buffer skips after an underrun, are concealed like lost frames, so the output stays
 *   aligned with the sender's input. A jitter-buffer resync (a jump in seq) restarts decoding.
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
  /** Overlap of the chunked framing, fraction of the chunk (must match the sender's `--overlap`). */
  readonly overlapRatio: number;
  /** Units buffered before playout starts (`--buffer-size`, 1 to 65536); the capacity is `max(16, 2 × this)`, at most 65536. */
  readonly bufferFrames: number;
  /** Where the audio goes. */
  readonly sink: AudioSink;
  /** End after this long without a datagram, ms. @default undefined (never) */
  readonly idleTimeoutMs?: number | undefined;
  /** Return once a stream has ended (else wait for the next stream). @default true */
  readonly exitOnEnd?: boolean;
  /** Stops receiving: what is buffered is played out at once, then `run` returns. @default undefined */
  readonly signal?: AbortSignal | undefined;
  /** Called for every block of audio handed to the sink. @default undefined */
  readonly onPlayed?: ((block: PlayedBlock) => void) | undefined;
  /** One-line notes (stream started, ended, restarted). @default undefined */
  readonly log?: ((line: string) => void) | undefined;
}

/** Receiver statistics, cumulative over every stream. */
export interface ReceiverStats {
  /** Datagrams taken off the network, malformed ones included. */
  readonly datagrams: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Datagrams or messages dropped as malformed: bad header, inconsistent fragments, bad payload. */
  readonly malformed: number;
  /** Datagrams the transport lost because this session read them too slowly. */
  readonly dropped: number;
  /** Duplicate datagrams (the reassembler's) plus duplicate frames (the jitter buffer's). */
  readonly duplicates: number;
  /** Incomplete messages dropped by the reassembler (a fragment never came). */
  readonly expired: number;
  /** Units (frames or chunks) decoded and played. */
  readonly played: number;
  /** Units played as concealment (lost, late, skipped, or undecodable). */
  readonly concealed: number;
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
  /** Interarrival jitter of the current stream (RFC 3550), ms, or undefined before two packets. */
  readonly jitterMs: number | undefined;
  /** Units buffered ahead of the playout point now. */
  readonly depthFrames: number;
  /** Prefill (`--buffer-size`) and capacity of the jitter buffer, units. */
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

/** A unit waiting in the jitter buffer. */
interface QueuedUnit {
  readonly header: PayloadHeader;
  readonly payload: Uint8Array;
  readonly hasOverlap: boolean;
}

/** What fixes a stream's format: every message of it must agree. */
interface StreamFormat {
  readonly modelKind: PayloadHeader["modelKind"];
  readonly mode: PayloadHeader["mode"];
  readonly numCodebooks: number;
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
  samplesOut = 0;
  played = 0;
  concealed = 0;
  fillsLost = 0;
  undecodable = 0;
  done = false;

  constructor(
    readonly id: number,
    readonly format: StreamFormat,
    readonly stepSamples: number,
    readonly chunkSamples: number,
    readonly unitMs: number,
    prefillFrames: number,
    capacityFrames: number,
  ) {
    this.jitter = new JitterBuffer<QueuedUnit>({ capacity: capacityFrames, prefillFrames, frameDurationMs: unitMs });
  }

  matches(header: PayloadHeader): boolean {
    const f = this.format;
    return header.modelKind === f.modelKind && header.mode === f.mode && header.numCodebooks === f.numCodebooks && header.lmCoded === f.lmCoded;
  }

  /** Samples the whole stream holds, once its end is known. */
  get totalSamples(): number | undefined {
    return this.endSeq === undefined ? undefined : this.endSeq * this.stepSamples + this.endLengthSamples;
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
  readonly #reassembler = new Reassembler();
  readonly #waker = new Waker();
  readonly #capacity: number;
  readonly #ended = new Set<number>();
  readonly #finishedTotals: JitterTotals = { late: 0, discarded: 0, duplicate: 0, tooFarAhead: 0, lost: 0, underruns: 0, resyncs: 0 };
  readonly #window: { atMs: number; bytes: number }[] = [];
  #current: IncomingStream | undefined;
  #candidate: { id: number; messages: { message: ReassembledMessage; header: PayloadHeader; arrivalMs: number }[]; restart: boolean } | undefined;
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

  /**
   * @param transport where the datagrams come from; {@link ReceiverSession.run} closes it
   * @param options see {@link ReceiverSessionOptions}
   */
  constructor(transport: DatagramTransport, options: ReceiverSessionOptions) {
    this.#transport = transport;
    this.#options = options;
    this.#capacity = Math.min(MAX_CAPACITY_FRAMES, Math.max(MIN_JITTER_CAPACITY_FRAMES, 2 * options.bufferFrames));
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
      dropped: udp.dropped,
      duplicates: reasm.duplicate + t.duplicate + (j.duplicate ?? 0),
      expired: reasm.expired,
      played: this.#played + (cur?.played ?? 0),
      concealed,
      // Units the buffer discarded (they arrived, but fell out of its window while it prefilled)
      // are concealed by the gap fills; they were not lost on the way.
      lost: t.lost + (j.lost ?? 0) + this.#fillsLost + (cur?.fillsLost ?? 0) - t.discarded - (j.discarded ?? 0),
      late: t.late + (j.late ?? 0),
      undecodable: this.#undecodable + (cur?.undecodable ?? 0),
      tooFarAhead: t.tooFarAhead + (j.tooFarAhead ?? 0),
      underruns: t.underruns + (j.underruns ?? 0),
      resyncs: t.resyncs + (j.resyncs ?? 0),
      streams: this.#streams,
      jitterMs: j.jitterMs,
      depthFrames: j.depthFrames ?? 0,
      bufferFrames: this.#options.bufferFrames,
      capacityFrames: this.#capacity,
      unitMs: cur?.unitMs ?? this.#lastUnitMs,
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
   * @throws SessionError `"model-mismatch"` when the stream's model is not the codec's,
   *   `"lm-unavailable"` for an LM-coded stream without a language model; or what the sink or
   *   the codec throws
   */
  async run(): Promise<ReceiverStats> {
    const pump = (async () => {
      for await (const datagram of this.#transport) {
        try {
          this.#onDatagram(datagram);
        } catch (error) {
          this.#fatal ??= error;
          this.#waker.wake();
        }
      }
    })();
    const onAbort = () => this.#waker.wake();
    this.#options.signal?.addEventListener("abort", onAbort);
    try {
      const reason = await this.#playout();
      if (reason === "end") {
        // Copies of the end-of-stream message still on their way are counted; then the socket closes.
        const until = performance.now() + END_OF_STREAM_LINGER_MS;
        while (performance.now() < until && this.#options.signal?.aborted !== true && this.#fatal === undefined) await this.#waker.wait(until);
      }
    } finally {
      this.#options.signal?.removeEventListener("abort", onAbort);
      await this.#transport.close();
      await pump.catch(() => undefined);
    }
    if (this.#fatal !== undefined) throw this.#fatal;
    return this.stats;
  }

  #trimWindow(now: number): void {
    while (this.#window.length > 0 && now - (this.#window[0] as { atMs: number }).atMs > BITRATE_WINDOW_MS) this.#window.shift();
  }

  #onDatagram(datagram: InboundDatagram): void {
    const now = datagram.receivedAtMs;
    this.#lastPacketMs = performance.now();
    this.#window.push({ atMs: this.#lastPacketMs, bytes: datagram.bytes.length });
    if (this.#window.length > 4096) this.#trimWindow(this.#lastPacketMs);
    const result = this.#reassembler.push(datagram.bytes, now);
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
    const current = this.#current;
    if (current !== undefined && current.id === id) {
      this.#candidate = undefined;
      this.#push(current, message, header, now);
      return;
    }
    if (this.#ended.has(id)) return; // a late message of a stream that has ended
    if (current === undefined && this.#candidate === undefined) {
      this.#startStream(id, header, [{ message, header, arrivalMs: now }]);
      return;
    }
    if (this.#candidate?.id !== id) this.#candidate = { id, messages: [], restart: false };
    this.#candidate.messages.push({ message, header, arrivalMs: now });
    if (current === undefined || header.firstOfStream || this.#candidate.messages.length >= RESTART_MESSAGES) {
      this.#candidate.restart = true;
    }
    this.#waker.wake();
  }

  #startStream(id: number, first: PayloadHeader, messages: readonly { message: ReassembledMessage; header: PayloadHeader; arrivalMs: number }[]): void {
    const { codec } = this.#options;
    if (first.modelKind !== codec.modelKind) {
      throw new SessionError(
        "model-mismatch",
        `the stream carries ${first.modelKind === "48k" ? "48 kHz stereo" : "24 kHz mono"} EnCodec codes, but the loaded model is ${codec.sampleRateHz / 1000} kHz with ${codec.channels} channel(s)`,
      );
    }
    const format: StreamFormat = { modelKind: first.modelKind, mode: first.mode, numCodebooks: first.numCodebooks, lmCoded: first.lmCoded };
    let stepSamples = FRAME_SAMPLES;
    let chunkSamples = FRAME_SAMPLES;
    if (first.mode === "chunked") {
      chunkSamples = this.#chunkSamplesOf(messages, codec.sampleRateHz);
      stepSamples = chunkSamples - computeOverlapSamples(chunkSamples, this.#options.overlapRatio);
    }
    const unitMs = (stepSamples / codec.sampleRateHz) * 1000;
    const stream = new IncomingStream(id, format, stepSamples, chunkSamples, unitMs, this.#options.bufferFrames, this.#capacity);
    this.#current = stream;
    this.#lastUnitMs = unitMs;
    this.#streams++;
    stream.ready = this.#prepare(stream);
    stream.ready.catch(() => undefined);
    this.#options.log?.(
      `stream ${id.toString(16).padStart(4, "0")}: ${first.mode === "chunked" ? `chunked, ${chunkSamples} samples a chunk, hop ${stepSamples}` : "frame-exact stream"}, ` +
        `${first.bandwidthKbps} kbps, ${first.lmCoded ? "LM-coded" : "packed codes"}`,
    );
    for (const m of messages) this.#push(stream, m.message, m.header, m.arrivalMs);
  }

  /** The chunk length: any chunk but the last carries it; a lone last chunk at seq 0 is the whole stream. */
  #chunkSamplesOf(messages: readonly { message: ReassembledMessage; header: PayloadHeader }[], sampleRateHz: number): number {
    const full = messages.find((m) => !m.header.endOfStream);
    if (full !== undefined) return full.header.lengthSamples;
    const only = messages.find((m) => m.message.seq === 0);
    if (only !== undefined) return only.header.lengthSamples;
    return Math.round((defaultChunkMsOf(this.#options.codec.modelKind) * sampleRateHz) / 1000);
  }

  async #prepare(stream: IncomingStream): Promise<void> {
    const { codec } = this.#options;
    if (stream.format.mode === "stream") {
      stream.decoder = await createFrameStreamDecoder(codec);
    } else {
      stream.decoder = createChunkedDecoder(codec, { chunkSamples: stream.chunkSamples, overlapRatio: this.#options.overlapRatio });
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
    if (!stream.matches(header)) {
      this.#badPayloads++;
      return;
    }
    if (header.endOfStream && stream.endSeq === undefined) {
      stream.endSeq = message.seq;
      stream.endLengthSamples = header.lengthSamples;
    }
    const result = stream.jitter.push(message.seq, { header, payload: message.payload, hasOverlap: message.hasOverlap }, arrivalMs);
    if (result === "resync") stream.resynced = true;
    if (result === "late" && stream.filled.delete(message.seq)) stream.fillsLost--;
    this.#waker.wake();
  }

  #idleDeadline(): number {
    const timeout = this.#options.idleTimeoutMs;
    return timeout === undefined ? Number.POSITIVE_INFINITY : this.#lastPacketMs + timeout;
  }

  /** The playout clock; returns why it stopped. */
  async #playout(): Promise<"end" | "idle" | "abort"> {
    for (;;) {
      if (this.#fatal !== undefined) throw this.#fatal;
      const stream = this.#current;
      const aborted = this.#options.signal?.aborted === true;
      if (aborted || performance.now() >= this.#idleDeadline()) {
        if (stream !== undefined) await this.#endStream(stream);
        return aborted ? "abort" : "idle";
      }
      if (this.#candidate?.restart === true) {
        const next = this.#candidate;
        this.#candidate = undefined;
        if (stream !== undefined) {
          this.#options.log?.(`stream ${next.id.toString(16).padStart(4, "0")} replaces stream ${stream.id.toString(16).padStart(4, "0")} (the sender restarted)`);
          await this.#endStream(stream);
        }
        this.#startStream(next.id, next.messages[0]!.header, next.messages);
        continue;
      }
      if (stream === undefined) {
        await this.#waker.wait(this.#idleDeadline());
        continue;
      }
      await stream.ready;
      if (stream.resynced) {
        stream.resynced = false;
        await this.#restartDecoding(stream);
      }
      const draining = stream.endSeq !== undefined;
      if (stream.playing) {
        const now = performance.now();
        if (now < stream.nextTickMs) {
          await this.#waker.wait(Math.min(stream.nextTickMs, this.#idleDeadline()));
          continue;
        }
      }
      const popped = stream.jitter.pop({ draining });
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
      stream.nextTickMs += stream.unitMs;
      await this.#play(stream, popped);
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

  /** True when the buffer holds more units than the prefill, with no hole among them. */
  #excess(stream: IncomingStream): boolean {
    const { heldFrames, depthFrames } = stream.jitter.stats;
    return heldFrames > this.#options.bufferFrames && heldFrames === depthFrames;
  }

  /** Decodes or conceals one popped unit (filling any gap before it) and writes its audio. */
  async #play(stream: IncomingStream, popped: Exclude<PopResult<QueuedUnit>, { kind: "empty" }>): Promise<void> {
    const decoder = stream.decoder as FrameDecoder;
    const seq = popped.seq;
    // The first unit of a stream is expected at seq 0 (senders start there); after a resync,
    // wherever playout resumes.
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
      for (let i = 0; i < gap; i++) await this.#emit(stream, await decoder.missing(1));
    }
    stream.nextSeq = (seq + 1) >>> 0;
    let audio: Float32Array[];
    const unit = popped.kind === "frame" ? popped.frame : undefined;
    const codes = unit === undefined ? null : this.#codesOf(stream, unit);
    let decoded: Float32Array[] | undefined;
    if (unit !== undefined && codes !== null) {
      const h = unit.header;
      try {
        decoded = await decoder.decode({ codes, numCodebooks: h.numCodebooks, numFrames: h.numFrames, lengthSamples: h.lengthSamples, scale: h.scale, hasOverlap: unit.hasOverlap });
      } catch {
        decoded = undefined; // codes the model refuses (a corrupt or hostile payload): conceal
      }
    }
    if (decoded !== undefined) {
      audio = decoded;
      stream.played++;
    } else {
      if (unit === undefined) stream.lm?.markLost();
      else stream.undecodable++;
      audio = await decoder.missing(1);
      stream.concealed++;
    }
    if (seq === stream.endSeq) {
      await this.#emitLast(stream, [audio, await decoder.finish()]);
      stream.done = true;
      return;
    }
    await this.#emit(stream, audio);
  }

  /** The unit's codes, or null when they cannot be decoded (LM context lost, corrupt payload). */
  #codesOf(stream: IncomingStream, unit: QueuedUnit): Uint16Array | null {
    try {
      return decodePayload(unit.payload, stream.lm !== undefined ? { lmCoder: stream.lm } : {}).codes;
    } catch {
      return null;
    }
  }

  /** A jitter-buffer resync: the old position is gone; end the decoder's stream and start over. */
  async #restartDecoding(stream: IncomingStream): Promise<void> {
    const decoder = stream.decoder as FrameDecoder;
    await this.#emit(stream, await decoder.finish());
    stream.nextSeq = undefined;
    stream.alignFromZero = false;
    stream.playing = false;
    stream.lm?.markLost();
  }

  /** Plays out what is held at once, flushes the decoder, fixes the length, and retires the stream. */
  async #endStream(stream: IncomingStream): Promise<void> {
    if (this.#current !== stream) return;
    try {
      if (!stream.done && stream.ready !== undefined) {
        await stream.ready;
        for (let popped = stream.jitter.pop({ draining: true }); popped.kind !== "empty" && !stream.done; popped = stream.jitter.pop({ draining: true })) {
          await this.#play(stream, popped);
        }
        if (!stream.done) await this.#emitLast(stream, [await (stream.decoder as FrameDecoder).finish()]);
      }
    } finally {
      const j = stream.jitter.stats;
      const t = this.#finishedTotals;
      t.late += j.late;
      t.discarded += j.discarded;
      t.duplicate += j.duplicate;
      t.tooFarAhead += j.tooFarAhead;
      t.lost += j.lost;
      t.underruns += j.underruns;
      t.resyncs += j.resyncs;
      this.#played += stream.played;
      this.#concealed += stream.concealed;
      this.#fillsLost += stream.fillsLost;
      this.#undecodable += stream.undecodable;
      this.#ended.add(stream.id);
      this.#current = undefined;
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
