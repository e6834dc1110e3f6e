import { encodePayload, type PayloadLmCoder, type PayloadModelKind } from "@encstream/codec";
import { DEFAULT_MTU_BYTES, SECURE_OVERHEAD_BYTES, splitIntoFragments, type DatagramSealer, type FeedbackOpener } from "@encstream/packet";
import { END_OF_STREAM_REPEATS, END_OF_STREAM_REPEAT_INTERVAL_MS, MAX_CATCH_UP_UNITS, MIN_CATCH_UP_UNITS } from "./constants.js";
import { makeFragId, randomStreamId } from "./frag-id.js";
import type { EncodedUnit, FrameEncoder } from "./frame-encoder.js";
import type { SenderResilience } from "./sender-resilience.js";
import { FramePacer } from "./internal/frame-pacer.js";
import { PieceReader } from "./internal/piece-reader.js";
import { sleepUntil } from "./internal/timing.js";
import type { DatagramEndpoint, DatagramTransport } from "./transport.js";

/*
 * End of stream, as the sender marks it (see "Streaming over UDP" in the README):
 * - the last unit's payload carries the end-of-stream flag and its exact length in samples, so
 *   the receiver knows the stream's total length: last seq × step + that length;
 * - that message is sent END_OF_STREAM_REPEATS more times, END_OF_STREAM_REPEAT_INTERVAL_MS
 *   apart, with the same datagrams (same seq and frag_id): a copy that arrives after the
 *   original is a duplicate the reassembler drops; a copy of a fragment whose original was lost
 *   completes the message;
 * - when the stream is stopped (Ctrl-C) right after a unit boundary, no unit is left to carry
 *   the flag: the last unit is sent again with the flag set, as a new message of the same seq.
 *
 * Pacing, live capture (the default): a unit leaves as soon as it is encoded. Its audio was fed
 * to the encoder when the capture clock said it was complete, so the capture already spaces the
 * units in real time; a second schedule on the socket could only hold them back. (It did: the
 * schedule started at the first send, which waits for the stream encoder's startup frames and the
 * first model call, so every later unit was held by that first call's duration, ~50 ms with the
 * full-size model.) A unit's due time, against which `behindScheduleMs` is measured, is when its
 * last sample was captured, or for the first units when the first unit could be complete at the
 * earliest (the stream encoder's startup frames come out together by design).
 *
 * Pacing, input not live (`liveCapture: false`, a file read as fast as it comes): the units leave
 * on a real-time schedule: a batch of units that come out of the encoder together is due at the
 * first batch's time plus the audio between the end of the first batch's last unit and the end of
 * its own last unit (see FramePacer), and its units leave together. So the schedule follows the
 * audio whatever the units' lengths (frames per packet that change, a short last chunk).
 *
 * The end-of-stream repeats leave outside either schedule.
 *
 * Catching up: a live sender that fell behind (a slow model call, a busy machine) by at least
 * MIN_CATCH_UP_UNITS units takes all the audio already captured, up to MAX_CATCH_UP_UNITS units,
 * in one piece: the encoder codes those
 * units in one call (the stream encoder codes every whole frame it holds at once, which costs
 * much less than one call each), and they leave at once.
 */

/** Where audio comes from: a file reader, a capture, anything that hands out planar pieces, then null. */
export interface AudioSource {
  /** The next piece, planar at the model's rate, or null at the end. */
  read(): Promise<Float32Array[] | null>;
}

/** A unit that was sent: what `onUnitSent` reports (for statistics and the latency benchmark). */
export interface SentUnit {
  readonly seq: number;
  /** Input samples the unit covers, [start, end), at the model's rate. */
  readonly startSample: number;
  readonly endSample: number;
  /** When its audio was complete at the sender (capture clock), `performance.now()` ms. */
  readonly capturedAtMs: number;
  /** When its datagrams were handed to the transport, `performance.now()` ms. */
  readonly sentAtMs: number;
  /**
   * How late it left against the real-time schedule, ms (≥ 0; 0 without pacing). With a live
   * capture: from when its last sample was captured (for the stream encoder's startup frames,
   * the last of them) to the hand-off, so the encoding time counts.
   */
  readonly behindScheduleMs: number;
  /** Payload bytes (before fragmentation). */
  readonly payloadBytes: number;
  /** Datagrams it was cut into. */
  readonly datagrams: number;
  /** Whether it carried the end-of-stream flag. */
  readonly endOfStream: boolean;
}

/** Options of {@link runSenderSession}. */
export interface SenderSessionOptions {
  /** The audio to send, at the model's rate and channel count. */
  readonly source: AudioSource;
  /** How audio becomes units (chunked or stream framing). */
  readonly encoder: FrameEncoder;
  /** The model kind written in every payload. */
  readonly modelKind: PayloadModelKind;
  /** Model rate, Hz (the capture clock's rate). */
  readonly sampleRateHz: number;
  /** An open transport. Not closed here. */
  readonly transport: DatagramTransport;
  /** Where the datagrams go. @default undefined (the transport's own destination) */
  readonly destination?: DatagramEndpoint | undefined;
  /**
   * `"real-time"`: with `liveCapture`, each unit leaves as soon as it is encoded (the capture
   * clock paces the input); without, each unit leaves no earlier than the first one's time plus
   * the audio of the units before it. `"none"`: at once (tests, files).
   * @default "real-time"
   */
  readonly pacing?: "real-time" | "none";
  /** Largest datagram, bytes, header included (sealed ones too). @default 220 */
  readonly mtuBytes?: number;
  /**
   * Seals every datagram (`DatagramSealer` of `@encstream/packet`, holding the key): frames are
   * split 30 bytes shorter so sealed datagrams stay within `mtuBytes`, and every send (repeats
   * of the end message too) is sealed afresh, with a new counter.
   * @default undefined (the seed's unauthenticated wire)
   */
  readonly sealer?: DatagramSealer | undefined;
  /**
   * Opens the receiver reports when the stream is keyed (`FeedbackOpener` of
   * `@encstream/packet`, from the same keys as `sealer`): a datagram that comes back and does
   * not authenticate is dropped and counted (`unauthenticatedReports` of the resilience's
   * stats) before it is read, so no one without the key can steer the sender's bitrate.
   * @default undefined (reports read in clear)
   */
  readonly feedbackOpener?: FeedbackOpener | undefined;
  /** LM coder of the payloads (ignored with `resilience`, which makes its own). @default undefined (packed codes) */
  readonly lmCoder?: PayloadLmCoder | undefined;
  /**
   * FEC, adaptive bitrate and the receiver reports (see sender-resilience.ts): it writes the
   * payloads and reads what comes back on the transport. @default undefined (every unit at the
   * encoder's K, no redundancy, reports ignored)
   */
  readonly resilience?: SenderResilience | undefined;
  /** The stream id in every `frag_id` (1 to 65535). @default a random one */
  readonly streamId?: number;
  /**
   * Track id written in every payload (the payload's track extension, 1–255; 0 writes none, so
   * a single-track stream is byte for byte what it was). Ignored with `resilience`, which has
   * its own (`SenderResilienceOptions.trackId`). See multi-track-sender.ts.
   * @default 0
   */
  readonly trackId?: number;
  /**
   * Awaited after the encoder's warm-up and before the capture starts: the multi-track sender
   * holds every track here until all are warm, so their captures start together (one
   * timeline; a live track's clock starts when its source delivers its first audio, see
   * `liveCapture`). @default undefined (start at once)
   */
  readonly startGate?: (() => Promise<void>) | undefined;
  /**
   * Pace the input as a live capture: a unit is encoded once the clock has reached the time its
   * last sample would have been captured. The clock starts when the source hands over its first
   * piece (a capture device opens at its first read), that piece taken as just captured. Off,
   * the input is encoded as fast as it is read (the socket's own real-time pacing still spaces
   * the datagrams).
   * @default true
   */
  readonly liveCapture?: boolean;
  /** Stops the stream (the last unit is flagged end-of-stream and sent). @default undefined */
  readonly signal?: AbortSignal | undefined;
  /** Called after each unit is sent. @default undefined */
  readonly onUnitSent?: ((unit: SentUnit) => void) | undefined;
  /** Called once when the capture clock starts (after the warm-up and, live, the source's first piece), with its origin (`performance.now()` ms). @default undefined */
  readonly onStart?: ((captureOriginMs: number) => void) | undefined;
  /**
   * Called when the transport reports a send refused (nothing listens at the destination: for
   * UDP an ICMP "port unreachable" came back). The stream goes on; those datagrams are lost, as
   * on a network. @default undefined
   */
  readonly onRefused?: (() => void) | undefined;
}

/** What {@link runSenderSession} did. */
export interface SenderSessionSummary {
  /** The stream id used. */
  readonly streamId: number;
  /** Units (chunks or frames) sent, end-of-stream copies not counted. */
  readonly units: number;
  /** Datagrams sent, copies included. */
  readonly datagrams: number;
  /** Bytes sent (headers included), copies included. */
  readonly bytes: number;
  /** The most any unit left behind the real-time schedule, ms. */
  readonly maxBehindScheduleMs: number;
  /** Audio sent, samples per channel. */
  readonly samples: number;
  /** Whether the input ended (false when stopped by the signal). */
  readonly completed: boolean;
  /** Sends the transport reported refused (no receiver listening at the time). */
  readonly refused: number;
  /** From the first unit sent to the last, ms. */
  readonly elapsedMs: number;
}

/**
 * Sends one stream: reads `source`, feeds the encoder at capture pace, turns every unit into a
 * frame payload (`encodePayload`), cuts it into datagrams (`splitIntoFragments`, frag_id = stream
 * id << 16 | message counter) and sends them through the transport, paced at real time. The
 * last unit carries the end-of-stream flag and is repeated (see the comment at the top of this
 * file).
 *
 * @throws whatever the source, the encoder or the transport throws (the stream is then unfinished)
 */
export async function runSenderSession(options: SenderSessionOptions): Promise<SenderSessionSummary> {
  const { source, encoder, transport, sampleRateHz, signal } = options;
  const sealer = options.sealer;
  const mtuBytes = (options.mtuBytes ?? DEFAULT_MTU_BYTES) - (sealer === undefined ? 0 : SECURE_OVERHEAD_BYTES);
  const paced = (options.pacing ?? "real-time") === "real-time";
  const pacer = new FramePacer();
  const streamId = options.streamId ?? randomStreamId();
  const live = options.liveCapture ?? true;
  let counter = 0;
  let units = 0;
  let samples = 0;
  let firstSentMs: number | undefined;
  let lastSentMs = 0;
  let last: { unit: EncodedUnit; datagrams: Uint8Array[] } | undefined;
  let refused = 0;
  let datagramsSent = 0;
  let bytesSent = 0;
  let maxBehindScheduleMs = 0;
  /** UDP does not need a listener: a refused send is a lost datagram, not the end of the stream. */
  const sendNow = async (plain: readonly Uint8Array[]): Promise<void> => {
    const datagrams = sealer === undefined ? plain : await Promise.all(plain.map((d) => sealer.seal(d)));
    const outcome = await transport.send(datagrams, options.destination);
    if (outcome === "refused") {
      refused++;
      options.onRefused?.();
      return;
    }
    datagramsSent += datagrams.length;
    for (const d of datagrams) bytesSent += d.length;
  };
  /**
   * Sends one unit's datagrams; returns how late it left. A live unit is sent at once, its
   * lateness measured from `dueMs` (see the top of this file); otherwise the schedule moves on by
   * `advanceMs` and the pacer holds the unit until its place in it.
   */
  const sendPaced = async (datagrams: readonly Uint8Array[], advanceMs: number, dueMs: number): Promise<number> => {
    let behindMs = 0;
    if (paced && live) behindMs = Math.max(0, performance.now() - dueMs);
    else if (paced) {
      pacer.advance(advanceMs);
      behindMs = await pacer.waitForNext();
    }
    maxBehindScheduleMs = Math.max(maxBehindScheduleMs, behindMs);
    await sendNow(datagrams);
    return behindMs;
  };
  /** The end sample of the first batch: no unit can be due before the first one is (the stream encoder's startup). */
  let firstBatchEnd: number | undefined;
  /** End (sample) of the last unit of the last batch sent: the schedule (not live) moves on from there. */
  let scheduledEnd: number | undefined;

  const resilience = options.resilience;
  const payloadOf = (unit: EncodedUnit, endOfStream: boolean): Uint8Array =>
    resilience !== undefined
      ? resilience.payloadOf(unit, { firstOfStream: unit.seq === 0, endOfStream })
      : encodePayload(
          {
            modelKind: options.modelKind,
            mode: encoder.mode,
            numCodebooks: unit.numCodebooks,
            numFrames: unit.numFrames,
            codes: unit.codes,
            lengthSamples: unit.lengthSamples,
            scale: unit.scale,
            firstOfStream: unit.seq === 0,
            endOfStream,
            timestampSamples: unit.startSample,
            overlapSamples: encoder.overlapSamples,
            trackId: options.trackId ?? 0,
          },
          options.lmCoder !== undefined ? { lmCoder: options.lmCoder } : {},
        );
  // Receiver reports come back on the same transport; the loop ends when the transport closes.
  if (resilience !== undefined) {
    const opener = options.feedbackOpener;
    void (async () => {
      for await (const datagram of transport) {
        if (opener === undefined) {
          resilience.onDatagram(datagram.bytes, datagram.receivedAtMs);
          continue;
        }
        const opened = await opener.open(datagram.bytes);
        if (opened.status === "opened") resilience.onDatagram(opened.message, datagram.receivedAtMs);
        else resilience.onUnauthenticated();
      }
    })().catch(() => undefined);
  }

  /** Sends a batch (not live: due the audio between the last batch's end and its own after the last batch). */
  const sendUnits = async (batch: readonly EncodedUnit[], final: boolean): Promise<void> => {
    if (batch.length === 0) return;
    const end = (batch[batch.length - 1] as EncodedUnit).endSample;
    firstBatchEnd ??= end;
    const advanceMs = scheduledEnd === undefined ? 0 : (Math.max(0, end - scheduledEnd) / sampleRateHz) * 1000;
    scheduledEnd = end;
    for (let i = 0; i < batch.length; i++) {
      const unit = batch[i] as EncodedUnit;
      const endOfStream = final && i === batch.length - 1;
      const payload = payloadOf(unit, endOfStream);
      const datagrams = splitIntoFragments(payload, { seq: unit.seq, fragId: makeFragId(streamId, counter++), hasOverlap: unit.hasOverlap, mtuBytes });
      // Units that come out together (the stream encoder's startup, a catch-up) leave together.
      const dueMs = captureOrigin + (Math.max(unit.endSample, firstBatchEnd ?? 0) / sampleRateHz) * 1000;
      const behindScheduleMs = await sendPaced(datagrams, i === 0 ? advanceMs : 0, dueMs);
      const sentAtMs = performance.now();
      resilience?.onSent(unit, sentAtMs, datagrams.reduce((n, d) => n + d.length, 0));
      firstSentMs ??= sentAtMs;
      lastSentMs = sentAtMs;
      units++;
      samples = Math.max(samples, unit.endSample);
      last = { unit, datagrams };
      options.onUnitSent?.({
        seq: unit.seq,
        startSample: unit.startSample,
        endSample: unit.endSample,
        capturedAtMs: captureOrigin + (unit.endSample / sampleRateHz) * 1000,
        sentAtMs,
        behindScheduleMs,
        payloadBytes: payload.length,
        datagrams: datagrams.length,
        endOfStream,
      });
    }
  };

  await encoder.warmUp();
  await options.startGate?.();
  const pieces = new PieceReader(source);
  let captureOrigin = performance.now();
  if (live) {
    // The capture clock starts with the capture: a device opens at its first read and delivers
    // its first audio some time later. A clock started before that would count audio as
    // captured that the device has not delivered: the sender would take it as behind, and
    // catch up (several frames a call) for the whole stream. The first piece is taken as just
    // captured (no earlier than the read began: a file's first piece is long, and at hand).
    await pieces.atEnd();
    captureOrigin = Math.max(captureOrigin, performance.now() - (pieces.queuedSamples / sampleRateHz) * 1000);
  }
  options.onStart?.(captureOrigin);
  let fed = 0;
  let completed = false;
  for (;;) {
    if (signal?.aborted) break;
    // The next unit's audio, and every later unit's that is already captured (a late sender catches up).
    let until = encoder.nextBoundary(fed);
    if (live) {
      const capturedSamples = ((performance.now() - captureOrigin) / 1000) * sampleRateHz;
      let far = until;
      let behind = 1;
      while (behind < MAX_CATCH_UP_UNITS && encoder.nextBoundary(far) <= capturedSamples) {
        far = encoder.nextBoundary(far);
        behind++;
      }
      if (behind >= MIN_CATCH_UP_UNITS) until = far;
    }
    const piece = await pieces.take(until - fed);
    const length = piece?.[0]?.length ?? 0;
    const atEnd = await pieces.atEnd();
    const dueMs = captureOrigin + ((fed + length) / sampleRateHz) * 1000;
    if (live && !(await sleepUntil(dueMs, signal))) break;
    let batch = piece !== null && length > 0 ? await encoder.push(piece) : [];
    fed += length;
    if (atEnd) {
      batch = [...batch, ...(await encoder.end())];
      completed = true;
      if (batch.length > 0) {
        await sendUnits(batch, true);
      } else {
        await resendAsEnd();
      }
      break;
    }
    await sendUnits(batch, false);
  }
  if (!completed) {
    // Stopped: encode what was captured and flag the end.
    const rest = await encoder.end();
    if (rest.length > 0) await sendUnits(rest, true);
    else await resendAsEnd();
  }
  // Repeats of the end-of-stream message (its datagrams unchanged).
  const end = last as { unit: EncodedUnit; datagrams: Uint8Array[] } | undefined;
  if (end !== undefined) {
    for (let i = 0; i < END_OF_STREAM_REPEATS; i++) {
      await sleepUntil(performance.now() + END_OF_STREAM_REPEAT_INTERVAL_MS);
      for (const datagram of end.datagrams) await sendNow([datagram]);
    }
  }
  return {
    streamId,
    units,
    datagrams: datagramsSent,
    bytes: bytesSent,
    maxBehindScheduleMs,
    samples,
    completed,
    refused,
    elapsedMs: firstSentMs === undefined ? 0 : lastSentMs - firstSentMs,
  };

  /** No unit is left to carry the end flag: send the last one again, flagged, as a new message. */
  async function resendAsEnd(): Promise<void> {
    if (last === undefined) return;
    const { unit } = last;
    const payload = payloadOf(unit, true);
    const datagrams = splitIntoFragments(payload, { seq: unit.seq, fragId: makeFragId(streamId, counter++), hasOverlap: unit.hasOverlap, mtuBytes });
    for (const datagram of datagrams) await sendNow([datagram]);
    last = { unit, datagrams };
  }
}
