import { encodePayload, type FramePayload, type PayloadLmCoder, type PayloadMode, type PayloadModelKind } from "@encstream/codec";
import { HEADER_BYTES } from "@encstream/packet";
import { DtxGate } from "./comfort-noise.js";
import type { EncodedUnit } from "./frame-encoder.js";
import { decodeReport, type ReceiverReport } from "./receiver-report.js";
import { chooseRateOption, RateController, type RateOption } from "./rate-controller.js";
import { RedundancyHistory } from "./redundancy.js";
import { MAX_FRAMES_PER_PACKET } from "./frame-batcher.js";

/*
 * What the sender adds to the plain stream (frame payload v2): the media timestamp and overlap
 * of every unit, redundancy for FEC (`--fec D[:K]`), K chosen per unit by the rate controller
 * (`--bandwidth auto[:MIN-MAX]`: the encoder runs at the top of the range and each unit carries
 * its first K codebooks), and the receiver reports it reads back (RTT, loss, jitter).
 *
 * DTX (`--dtx`): a unit whose input level (`EncodedUnit.levelDb`, see `measureUnitLevels`) has
 * stayed below the threshold for the hangover goes as a comfort noise payload (no codes, its
 * level; it still carries the redundancy of the units before it), never the first or last unit
 * of a stream; it is not kept for FEC (there are no codes to protect), and with the LM the next
 * coded unit starts a fresh LM coder (a keyframe), as after a change of K.
 *
 * K and LM coding: an LM-coded payload has one K, and the receiver's LM context is per K; so with
 * the LM on, K changes only where the LM coder starts afresh (a new coder: its first payload is
 * a keyframe), and at most once per `lmKeyframeUnits` units' worth of frames (the stream's
 * keyframe interval).
 *
 * Frames per packet (stream mode, `maxFramesPerPacket`): the controller's choices are every
 * (K, frames per message) pair, K from the floor to the encoder's and 1 to `maxFramesPerPacket`
 * frames, each with its wire rate (24-byte datagram header and payload header included, per
 * second of audio), so the headers are part of the rate controlled; `chooseRateOption` takes the
 * most K that fits the target, and for that K the fewest frames (the least delay). The frame
 * batcher asks {@link SenderResilience.framesPerPacket} at every message boundary. The frames
 * per message change at once (the receiver plays each message where its timestamp says); when
 * the LM holds K, the frames are chosen for the K held.
 */

/** What the sender's resilience features need to know of the stream. */
export interface SenderResilienceOptions {
  readonly modelKind: PayloadModelKind;
  readonly mode: PayloadMode;
  /** Codebooks the encoder produces (the most a unit can carry). */
  readonly maxCodebooks: number;
  /** Frames per unit (chunk frames, or frames per packet in stream mode; with `maxFramesPerPacket`, the start's), for the rate estimate. */
  readonly framesPerUnit: number;
  /** Unit duration, ms (the step between units; of `framesPerUnit` frames). */
  readonly unitMs: number;
  /**
   * Stream mode with `adaptive`: the controller chooses the frames per message too, 1 to this
   * (at most `MAX_FRAMES_PER_PACKET`); read {@link SenderResilience.framesPerPacket} for the
   * next message. @default undefined (`framesPerUnit`, fixed)
   */
  readonly maxFramesPerPacket?: number | undefined;
  /** Overlap between chunks, samples (0 in stream mode). */
  readonly overlapSamples: number;
  /** Largest datagram, bytes, header included. */
  readonly mtuBytes: number;
  /** `--fec D[:K]`: redundancy depth and codebooks, or undefined. */
  readonly fec?: { readonly depth: number; readonly numCodebooks: number } | undefined;
  /**
   * `--bandwidth auto[:MIN-MAX]`: the fewest codebooks a unit may carry (MIN's K; the most is
   * `maxCodebooks`, MAX's), or undefined (every unit at `maxCodebooks`). The controller's range
   * is the wire rate of these two, this stream's framing and FEC included.
   */
  readonly adaptive?: { readonly minCodebooks: number } | undefined;
  /** A fresh LM coder for K codebooks (LM-coded streams), or undefined. */
  readonly lmCoderFor?: ((numCodebooks: number) => PayloadLmCoder) | undefined;
  /** Units between the LM's keyframes (K changes no more often). @default 1 */
  readonly lmKeyframeUnits?: number;
  /** Track id written in every payload (1–255; 0 writes no track extension). @default 0 */
  readonly trackId?: number;
  /**
   * `--dtx`: units quieter than `thresholdDb` (dBFS, −127 to 0) for longer than `hangoverMs`
   * go as comfort noise; units without a `levelDb` always carry codes.
   * @default undefined (every unit carries codes)
   */
  readonly dtx?: { readonly thresholdDb: number; readonly hangoverMs?: number | undefined } | undefined;
}

/** The sender's view of the path, from the receiver's reports. */
export interface SenderPathStats {
  /** Reports received (valid ones). */
  readonly reports: number;
  /** Datagrams that came back and were not reports (dropped). */
  readonly badReports: number;
  /** Datagrams that came back and did not authenticate, with a key (dropped unread). */
  readonly unauthenticatedReports: number;
  /** The last report, or undefined. */
  readonly last: ReceiverReport | undefined;
  /** Round-trip time from the last report, ms. */
  readonly rttMs: number | undefined;
  /** The rate controller's target, kbps (adaptive only). */
  readonly targetKbps: number | undefined;
  /** K of the last unit sent. */
  readonly numCodebooks: number;
  /** Frames per message chosen for the next one (stream mode), or undefined (chunked mode). */
  readonly framesPerPacket: number | undefined;
  /** The frames per message of the stream-mode messages sent so far, each value once, ascending (empty in chunked mode). */
  readonly framesPerPacketUsed: readonly number[];
  /** Units sent as comfort noise (`--dtx`). */
  readonly comfortNoise: number;
}

/** Wire bytes of a payload of `bytes` cut into datagrams of at most `mtu` bytes (24-byte header each). */
export function wireBytesOf(bytes: number, mtu: number): number {
  const per = mtu - HEADER_BYTES;
  return bytes + HEADER_BYTES * Math.max(1, Math.ceil(bytes / per));
}

/** See the comment at the top of this file. */
export class SenderResilience {
  readonly #o: SenderResilienceOptions;
  readonly #history: RedundancyHistory | undefined;
  readonly #controller: RateController | undefined;
  readonly #sentAt = new Map<number, number>();
  #options: RateOption[] = [];
  #k: number;
  #fpp: number;
  readonly #fppUsed = new Set<number>();
  #lm: PayloadLmCoder | undefined;
  #lmK = 0;
  #framesSinceChange = 0;
  #reports = 0;
  #badReports = 0;
  #unauthenticatedReports = 0;
  #last: ReceiverReport | undefined;
  #rttMs: number | undefined;
  readonly #gate: DtxGate | undefined;
  /** Units whose payload was comfort noise (not kept for FEC). */
  readonly #noise = new WeakSet<EncodedUnit>();
  #comfortNoise = 0;
  /** The last reports' received bytes and intervals (the receive rate is taken over about 1 s). */
  readonly #received: { bytes: number; ms: number }[] = [];
  /** Datagram bytes sent, by time (the send rate over the same span as the receive rate). */
  readonly #sent: { atMs: number; bytes: number }[] = [];

  constructor(options: SenderResilienceOptions) {
    this.#o = options;
    this.#k = options.maxCodebooks;
    this.#fpp = options.framesPerUnit;
    const maxFpp = options.maxFramesPerPacket;
    if (maxFpp !== undefined) {
      if (options.mode !== "stream" || options.adaptive === undefined) throw new RangeError("maxFramesPerPacket needs stream mode and adaptive");
      if (!Number.isInteger(maxFpp) || maxFpp < 1 || maxFpp > MAX_FRAMES_PER_PACKET) throw new RangeError(`maxFramesPerPacket must be an integer in [1, ${MAX_FRAMES_PER_PACKET}], got ${maxFpp}`);
    }
    this.#gate = options.dtx === undefined ? undefined : new DtxGate(options.dtx.thresholdDb, options.dtx.hangoverMs);
    this.#history = options.fec ? new RedundancyHistory(options.fec.depth, Math.min(options.fec.numCodebooks, options.maxCodebooks)) : undefined;
    if (options.adaptive) {
      const minK = options.adaptive.minCodebooks;
      if (!Number.isInteger(minK) || minK < 1 || minK > options.maxCodebooks) throw new RangeError(`adaptive.minCodebooks must be an integer in [1, ${options.maxCodebooks}], got ${minK}`);
      this.#options = this.#rateOptions().filter((o) => o.numCodebooks >= minK);
      const rates = this.#options.map((o) => o.wireKbps);
      this.#controller = new RateController({ minKbps: Math.min(...rates), maxKbps: Math.max(...rates) });
      const start = chooseRateOption(this.#options, this.#controller.targetKbps);
      this.#k = start.numCodebooks;
      this.#fpp = start.framesPerPacket;
    }
  }

  /** The wire rate of each K (1 to the encoder's) and frames per message, this stream's framing, FEC included. */
  #rateOptions(): RateOption[] {
    const o = this.#o;
    const out: RateOption[] = [];
    const frameMs = o.unitMs / o.framesPerUnit;
    const fpps = o.maxFramesPerPacket === undefined ? [o.framesPerUnit] : Array.from({ length: o.maxFramesPerPacket }, (_, i) => i + 1);
    for (const f of fpps) for (let k = 1; k <= o.maxCodebooks; k++) {
      const probe: FramePayload = {
        modelKind: o.modelKind,
        mode: o.mode,
        numCodebooks: k,
        numFrames: f,
        codes: new Uint16Array(k * f),
        scale: o.modelKind === "48k" ? 1 : null,
        timestampSamples: 0,
        overlapSamples: o.mode === "chunked" ? o.overlapSamples : 0,
        redundancy: o.fec
          ? {
              numCodebooks: Math.min(k, o.fec.numCodebooks),
              units: Array.from({ length: o.fec.depth }, (_, i) => ({ distance: i + 1, numFrames: f, codes: new Uint16Array(Math.min(k, o.fec!.numCodebooks) * f), scale: o.modelKind === "48k" ? 1 : null })),
            }
          : null,
      };
      const bytes = wireBytesOf(encodePayload(probe).length, o.mtuBytes);
      out.push({ numCodebooks: k, framesPerPacket: f, wireKbps: (bytes * 8) / (f * frameMs) });
    }
    return out;
  }

  /** K the next unit carries. */
  get numCodebooks(): number {
    return this.#k;
  }

  /** Frames the next stream-mode message carries (what the frame batcher asks at each message boundary). */
  get framesPerPacket(): number {
    return this.#fpp;
  }

  /** The payload of a unit (K chosen, redundancy, timestamp, overlap), and its LM coder, if any. */
  payloadOf(unit: EncodedUnit, flags: { firstOfStream: boolean; endOfStream: boolean }): Uint8Array {
    const k = Math.min(this.#k, unit.numCodebooks);
    const f = unit.numFrames;
    if (this.#gate !== undefined && unit.levelDb !== undefined && !flags.endOfStream) {
      const quiet = this.#gate.quiet(unit.levelDb, this.#o.unitMs);
      if (quiet && !flags.firstOfStream) {
        this.#noise.add(unit);
        this.#comfortNoise++;
        this.#lm = undefined; // the next coded unit starts the LM afresh (a keyframe)
        return encodePayload({
          modelKind: this.#o.modelKind,
          mode: this.#o.mode,
          numCodebooks: 0,
          numFrames: f,
          codes: new Uint16Array(0),
          lengthSamples: unit.lengthSamples,
          scale: null,
          comfortNoiseDb: unit.levelDb,
          trackId: this.#o.trackId ?? 0,
          timestampSamples: unit.startSample,
          overlapSamples: this.#o.mode === "chunked" ? this.#o.overlapSamples : 0,
          redundancy: this.#history?.redundancyFor(unit.seq) ?? null,
        });
      }
    }
    let lm: PayloadLmCoder | undefined;
    if (this.#o.lmCoderFor !== undefined) {
      if (this.#lm === undefined || this.#lmK !== k) {
        this.#lm = this.#o.lmCoderFor(k);
        this.#lmK = k;
      }
      lm = this.#lm;
    }
    const payload: FramePayload = {
      modelKind: this.#o.modelKind,
      mode: this.#o.mode,
      numCodebooks: k,
      numFrames: f,
      codes: k === unit.numCodebooks ? unit.codes : unit.codes.slice(0, k * f),
      lengthSamples: unit.lengthSamples,
      scale: unit.scale,
      firstOfStream: flags.firstOfStream,
      endOfStream: flags.endOfStream,
      timestampSamples: unit.startSample,
      overlapSamples: this.#o.mode === "chunked" ? this.#o.overlapSamples : 0,
      redundancy: this.#history?.redundancyFor(unit.seq) ?? null,
      trackId: this.#o.trackId ?? 0,
    };
    return encodePayload(payload, lm !== undefined ? { lmCoder: lm } : {});
  }

  /** A unit left (its first sending; not a repeat) as `wireBytes` of datagrams: remember it for FEC, RTT and the send rate, and let K follow the target. */
  onSent(unit: EncodedUnit, sentAtMs: number, wireBytes = 0): void {
    this.#sent.push({ atMs: sentAtMs, bytes: wireBytes });
    while (this.#sent.length > 0 && sentAtMs - this.#sent[0]!.atMs > 5_000) this.#sent.shift();
    if (!this.#noise.has(unit)) this.#history?.add({ seq: unit.seq, codes: unit.codes, numCodebooks: Math.min(this.#k, unit.numCodebooks), numFrames: unit.numFrames, lengthSamples: unit.lengthSamples, scale: unit.scale });
    this.#sentAt.set(unit.startSample >>> 0, sentAtMs);
    if (this.#sentAt.size > 1024) this.#sentAt.delete(this.#sentAt.keys().next().value as number);
    this.#framesSinceChange += unit.numFrames;
    if (this.#o.mode === "stream" && this.#fppUsed.size < 64) this.#fppUsed.add(unit.numFrames);
    if (this.#controller !== undefined) {
      const target = this.#controller.targetKbps;
      const want = chooseRateOption(this.#options, target);
      const every = this.#o.lmCoderFor !== undefined ? Math.max(1, this.#o.lmKeyframeUnits ?? 1) * this.#o.framesPerUnit : 1;
      if (want.numCodebooks !== this.#k && this.#framesSinceChange >= every) {
        this.#k = want.numCodebooks;
        this.#framesSinceChange = 0;
      }
      // the frames per message for the K that goes out (the LM may hold K a while)
      this.#fpp = want.numCodebooks === this.#k ? want.framesPerPacket : chooseRateOption(this.#options.filter((o) => o.numCodebooks === this.#k), target).framesPerPacket;
    }
  }

  /** A datagram came back: a receiver report updates the path figures and the target; anything else is counted and dropped. */
  onDatagram(bytes: Uint8Array, nowMs: number): void {
    const report = decodeReport(bytes);
    if (report === null) {
      this.#badReports++;
      return;
    }
    this.#reports++;
    this.#last = report;
    const sentAt = this.#sentAt.get(report.echoTimestamp);
    this.#rttMs = sentAt === undefined ? undefined : Math.max(0, nowMs - sentAt - report.echoDelayMs);
    // the receive rate over the last 4 reports (about 1 s): one report's interval holds only a
    // unit or two at low rates, too few to measure a rate from
    this.#received.push({ bytes: report.bytesReceived, ms: report.intervalMs });
    if (this.#received.length > 4) this.#received.shift();
    const ms = this.#received.reduce((n, r) => n + r.ms, 0);
    const receiveKbps = ms >= 400 ? (this.#received.reduce((n, r) => n + r.bytes, 0) * 8) / ms : undefined;
    // the send rate over the same span, one RTT earlier (what those received bytes were part of)
    const lag = this.#rttMs ?? 0;
    const from = nowMs - lag - ms;
    const sentBytes = this.#sent.filter((s) => s.atMs >= from && s.atMs < nowMs - lag).reduce((n, s) => n + s.bytes, 0);
    const sendKbps = ms >= 400 && this.#sent.length > 0 && this.#sent[0]!.atMs <= from ? (sentBytes * 8) / ms : undefined;
    this.#controller?.update({ nowMs, rttMs: this.#rttMs, lossFraction: report.lossFraction, receiveKbps, sendKbps });
  }

  /** A datagram came back that did not authenticate (keyed streams): counted, never read. */
  onUnauthenticated(): void {
    this.#unauthenticatedReports++;
  }

  /** A snapshot of the path figures. */
  get stats(): SenderPathStats {
    return {
      reports: this.#reports,
      badReports: this.#badReports,
      unauthenticatedReports: this.#unauthenticatedReports,
      last: this.#last,
      rttMs: this.#rttMs,
      targetKbps: this.#controller?.targetKbps,
      numCodebooks: this.#k,
      framesPerPacket: this.#o.mode === "stream" ? this.#fpp : undefined,
      framesPerPacketUsed: [...this.#fppUsed].sort((a, b) => a - b),
      comfortNoise: this.#comfortNoise,
    };
  }
}
