import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import {
  batchFrames,
  measureUnitLevels,
  createChunkedEncoder,
  createFrameStreamEncoder,
  createLmPayloadEncoder,
  defaultChunkMsOf,
  runSenderSession,
  SenderResilience,
  DEFAULT_AUTO_MAX_FRAMES_PER_PACKET,
  STREAM_LM_KEYFRAME_INTERVAL_FRAMES,
  type FrameEncoder,
  type SenderResilienceOptions,
  type SentUnit,
} from "@encstream/session";
import { DatagramSealer, FeedbackOpener } from "@encstream/packet";
import { createNodeAead, isTransportError, UdpTransport } from "@encstream/transport-udp";
import { loadStreamKeys } from "../keys.js";
import type { SendOptions } from "../command-options.js";
import { STATS_INTERVAL_MS } from "../constants.js";
import { CliError } from "../errors.js";
import { processIo, secondsSince, type CommandIo } from "../internal/command-io.js";
import { onInterrupt } from "../interrupt.js";
import { openCodecSession, type CodecSession } from "../session/codec-session.js";
import { openSendInput } from "../session/send-input.js";
import { sendTracks } from "./send-tracks.js";
import { SendProgress } from "../session/send-progress.js";
import { asCliError } from "../session/session-errors.js";
import { formatPathFigures, formatPathSummary, formatSendFigures } from "../session/stats-format.js";

/** Most EnCodec frames one payload carries (the payload's 16-bit frame count allows 1024). */
const MAX_CHUNK_FRAMES = 1024;

/** What {@link runSend} did. */
export interface SendResult {
  /** Where the stream went, `address:port`. */
  readonly destination: string;
  /** The random stream id in every `frag_id` (high 16 bits). */
  readonly streamId: number;
  /** Units sent: chunks (chunked framing) or 320-sample frames (`--stream`). */
  readonly units: number;
  /** Datagrams sent, end-of-stream repeats included. */
  readonly datagrams: number;
  /** Bytes sent, headers included. */
  readonly bytes: number;
  /** Audio sent, seconds. */
  readonly durationS: number;
  /** Whether the payloads were LM-coded. */
  readonly lmCoded: boolean;
  /** False when stopped early (Ctrl-C). */
  readonly completed: boolean;
  /** Capture overruns (`--input mic`; 0 otherwise). */
  readonly overruns: number;
  /** Units sent as comfort noise (`--dtx`; 0 otherwise). */
  readonly comfortNoise: number;
}

/** Hooks for the latency benchmark and tests: when each unit left, and the capture clock's origin. */
export interface SendHooks {
  /** Called once the capture clock starts, with its origin (`performance.now()` ms). */
  readonly onStart?: (captureOriginMs: number) => void;
  /** Called after every unit is sent. */
  readonly onUnitSent?: (unit: SentUnit) => void;
}

/**
 * `encstream send`: streams a WAV file (any rate, depth and channel count; resampled and mixed to
 * the model's format) to a receiver over UDP (or, when `--ip` is a multicast group, to every
 * receiver that joined it, `--ttl` hops away at most), as a live source would: audio is released to the
 * encoder at real time, each chunk (or, with `--stream`, each 320-sample frame) is encoded the
 * moment its audio is complete, wrapped in a frame payload (packed codes, or LM-coded when a
 * language model is found and `--no-lm` is not given), cut into datagrams of at most `--mtu`
 * bytes and sent paced at real time. The last unit carries the end-of-stream flag and is
 * repeated, so the receiver knows the stream's exact length. Ctrl-C (or `io.signal`) ends the
 * stream the same way. A progress bar (or plain lines) goes to `io.stderr`, a summary line to
 * `io.stdout`.
 *
 * @throws CliError `"usage"` (a bandwidth the model lacks, `--stream` with a 48 kHz model, a
 *   chunk too long for the model), the input's and the model's errors (see `runEncode`),
 *   `"io"` when the socket cannot be opened or the host name not resolved
 */
export async function runSend(options: SendOptions, io: CommandIo = processIo(), hooks: SendHooks = {}): Promise<SendResult> {
  const log = (line: string): void => void io.stderr.write(`send: ${line}\n`);
  const started = performance.now();
  const stop = new AbortController();
  const signal = io.signal === undefined ? stop.signal : AbortSignal.any([io.signal, stop.signal]);
  let finishing: Promise<void> = Promise.resolve();
  const unregister = io.signal === undefined ? onInterrupt(() => (stop.abort(), finishing)) : () => undefined;
  const tracks = options.tracks;
  if (tracks !== undefined) {
    // several tracks on one timeline (--input more than once, --tracks split)
    try {
      const run = sendTracks({ ...options, tracks }, io, hooks, signal, log, started);
      finishing = run.then(
        () => undefined,
        () => undefined,
      );
      return await run;
    } finally {
      unregister();
    }
  }
  const codec = await openCodecSession(options.model, {
    cacheDir: options.cacheDir,
    lmPath: options.lmPath,
    workers: options.workers,
    precision: options.precision,
    side: "encoder",
    onProgress: (p) => log(p.message),
  });
  try {
    const run = sendWith(codec, options, io, hooks, signal, log, started);
    finishing = run.then(
        () => undefined,
        () => undefined,
      );
    return await run;
  } finally {
    unregister();
    await codec.release();
  }
}

async function sendWith(
  codec: CodecSession,
  options: SendOptions,
  io: CommandIo,
  hooks: SendHooks,
  signal: AbortSignal,
  log: (line: string) => void,
  started: number,
): Promise<SendResult> {
  const loaded = await loadStreamKeys(options.keyFile);
  if (loaded?.warning !== undefined) log(`warning: ${loaded.warning}`);
  const sealer = loaded === undefined ? undefined : await DatagramSealer.create({ key: loaded.keys[0]!, aead: createNodeAead });
  // With a key, receiver reports must be sealed too (any key of the file: the receiver seals with the stream's).
  const feedbackOpener = loaded === undefined ? undefined : await FeedbackOpener.create({ keys: loaded.keys, aead: createNodeAead });
  if (loaded !== undefined) log(`sealing every datagram with key ${loaded.keys[0]!.keyId} of ${loaded.source} (AES-256-GCM)`);
  const { model } = codec.resolved;
  if (!model.bandwidthsKbps.includes(options.bandwidthKbps)) {
    throw new CliError("usage", `--bandwidth ${options.bandwidthKbps}: this model supports ${model.bandwidthsKbps.join(", ")} kbps`);
  }
  const inner = await createEncoder(codec, options);
  // --bandwidth auto --stream: the rate controller chooses the frames per message too (1 to
  // --frames-per-packet, default 16), asked at each message boundary
  const maxFramesPerPacket = options.adaptive !== undefined && inner.mode === "stream" ? (options.framesPerPacket ?? DEFAULT_AUTO_MAX_FRAMES_PER_PACKET) : undefined;
  let resilience: SenderResilience | undefined;
  const batched =
    maxFramesPerPacket !== undefined && maxFramesPerPacket > 1
      ? batchFrames(inner, () => resilience?.framesPerPacket ?? 1)
      : batchFrames(inner, options.framesPerPacket ?? 1);
  // --dtx: each unit carries its input level, which the resilience layer's gate reads
  const encoder = options.dtx !== undefined ? measureUnitLevels(batched) : batched;
  let lmCoder;
  let lmCoderFor;
  const keyframeIntervalFrames = options.lmKeyframeIntervalFrames ?? STREAM_LM_KEYFRAME_INTERVAL_FRAMES;
  if (options.useLm) {
    const lm = await codec.lm();
    if (lm === null) log("no language model found beside the model: sending packed codes, as with --no-lm (give one with --lm PATH)");
    else {
      lmCoder = createLmPayloadEncoder(lm, encoder.numCodebooks, encoder.mode, keyframeIntervalFrames);
      lmCoderFor = (k: number) => createLmPayloadEncoder(lm, k, encoder.mode, keyframeIntervalFrames);
    }
  }
  const minKbps = options.adaptive?.minKbps ?? model.bandwidthsKbps[0]!;
  if (options.adaptive !== undefined && !model.bandwidthsKbps.includes(minKbps)) {
    throw new CliError("usage", `--bandwidth auto:${minKbps}-…: this model supports ${model.bandwidthsKbps.join(", ")} kbps`);
  }
  // FEC, adaptive K (and frames per message), the media timestamp and overlap in every payload, and the receiver's reports
  resilience = createSenderResilience(codec, encoder, options, {
    minKbps: options.adaptive !== undefined ? minKbps : undefined,
    maxFramesPerPacket,
    lmCoderFor,
    keyframeIntervalFrames,
    dtx: options.dtx,
  });
  const framesPerUnit = maxFramesPerPacket !== undefined ? 1 : Math.ceil(encoder.unitSamples / codec.hopLengthSamples);

  const input = await openSendInput(options, { sampleRateHz: codec.sampleRateHz, channels: codec.channels });
  // A live input may wait for audio that never comes: Ctrl-C closes it, ending the stream.
  const closeOnStop = () => void input.close();
  signal.addEventListener("abort", closeOnStop, { once: true });
  try {
    const address = await resolveHost(options.ip);
    const destination = `${address.includes(":") ? `[${address}]` : address}:${options.port}`;
    let refused = false;
    const noteRefused = (why: string) => {
      if (!refused) log(`${destination} does not answer (${why}: nothing listens there now); sending anyway`);
      refused = true;
    };
    let udp: UdpTransport;
    try {
      udp = await UdpTransport.open({
        remote: { address, port: options.port },
        ...(options.bind !== undefined ? { address: options.bind } : {}),
        // To a multicast group: --ttl hops, out of the --bind interface, this host's members included.
        multicastTtl: options.ttl,
        ...(options.bind !== undefined ? { multicastInterface: options.bind } : {}),
        onError: (error) => {
          // Reported by the socket on its own (ECONNREFUSED after an ICMP "port unreachable"):
          // nothing listens at the destination (yet); UDP goes on regardless.
          noteRefused(error.systemCode ?? error.code);
        },
      });
    } catch (error) {
      throw asTransportCliError(error, destination);
    }
    const framing =
      encoder.mode === "stream"
        ? `frame-exact stream (320-sample frames${maxFramesPerPacket !== undefined && maxFramesPerPacket > 1 ? `, 1–${maxFramesPerPacket} a message as the rate controller chooses` : framesPerUnit > 1 ? `, ${framesPerUnit} a message` : ""})`
        : `chunks of ${encoder.unitSamples} samples (${((encoder.unitSamples / codec.sampleRateHz) * 1000).toFixed(0)} ms), overlap ${encoder.overlapSamples}`;
    log(
      `sending ${input.description} to ${destination}: ${framing}, ` +
        `${options.adaptive !== undefined ? `adaptive ${minKbps}–${options.bandwidthKbps} kbps` : `${options.bandwidthKbps} kbps`}` +
        `${options.fec !== undefined ? `, FEC ${options.fec.depth}:${options.fec.numCodebooks}` : ""}` +
        `${options.dtx !== undefined ? `, DTX below ${options.dtx.thresholdDb} dBFS` : ""}, ` +
        `${lmCoder !== undefined ? `LM-coded${encoder.mode === "stream" ? ` (keyframe every ${keyframeIntervalFrames} frames)` : ""}` : "packed codes"}, mtu ${options.mtuBytes}`,
    );
    const progress = new SendProgress(io.stderr, input.durationS, options.stats);
    let units = 0;
    let sentSamples = 0;
    let firstSentMs: number | undefined;
    let behindMs = 0;
    const overrunText = () => (input.overruns() > 0 ? `${input.overruns()} capture overrun(s)` : "");
    const figures = () =>
      options.stats
        ? [
            formatSendFigures({
              units,
              datagrams: udp.stats.datagramsSent,
              bytes: udp.stats.bytesSent,
              elapsedMs: firstSentMs === undefined ? 0 : performance.now() - firstSentMs,
              behindMs,
            }) + formatPathFigures(resilience.stats, codec.sampleRateHz / codec.hopLengthSamples),
            overrunText(),
          ]
            .filter((t) => t !== "")
            .join(", ")
        : overrunText();
    const timer = setInterval(() => progress.update(sentSamples / codec.sampleRateHz, figures()), STATS_INTERVAL_MS);
    let summary;
    try {
      summary = await runSenderSession({
        source: input.source,
        encoder,
        modelKind: codec.modelKind,
        sampleRateHz: codec.sampleRateHz,
        transport: udp,
        mtuBytes: options.mtuBytes,
        sealer,
        feedbackOpener,
        lmCoder,
        resilience,
        signal,
        onStart: hooks.onStart,
        onRefused: () => noteRefused("ECONNREFUSED"),
        onUnitSent: (unit) => {
          units++;
          firstSentMs ??= unit.sentAtMs;
          sentSamples = Math.max(sentSamples, unit.endSample);
          behindMs = unit.behindScheduleMs;
          hooks.onUnitSent?.(unit);
        },
      });
    } catch (error) {
      throw asTransportCliError(asCliError(error, codec), destination);
    } finally {
      clearInterval(timer);
      progress.update(sentSamples / codec.sampleRateHz, figures());
      progress.stop();
      await udp.close();
    }
    const durationS = summary.samples / codec.sampleRateHz;
    const kbps = summary.elapsedMs > 0 ? (summary.bytes * 8) / summary.elapsedMs : 0;
    if (input.overruns() > 0) log(`${input.overruns()} capture overrun(s): the device delivered audio faster than it was taken, and some was lost`);
    if (options.stats) {
      log(
        `summary: ${summary.units} frames, ${summary.datagrams} datagrams, ${summary.bytes} bytes, ${kbps.toFixed(1)} kbps on the wire, ` +
          `at most ${summary.maxBehindScheduleMs.toFixed(1)} ms behind schedule, ${resilience.stats.comfortNoise} comfort-noise`,
      );
      log(`path: ${formatPathSummary(resilience.stats, codec.sampleRateHz / codec.hopLengthSamples)}`);
    }
    io.stdout.write(
      `${summary.completed ? "sent" : "stopped after"} ${durationS.toFixed(2)} s to ${destination}: ${summary.units} frames, ` +
        `${summary.datagrams} datagrams, ${kbps.toFixed(1)} kbps (stream ${summary.streamId.toString(16).padStart(4, "0")}, ${secondsSince(started)})\n`,
    );
    return {
      destination,
      streamId: summary.streamId,
      units: summary.units,
      datagrams: summary.datagrams,
      bytes: summary.bytes,
      durationS,
      lmCoded: lmCoder !== undefined,
      completed: summary.completed,
      overruns: input.overruns(),
      comfortNoise: resilience.stats.comfortNoise,
    };
  } finally {
    signal.removeEventListener("abort", closeOnStop);
    await input.close();
  }
}

/** The framing's encoder, its chunk length checked against the model. */
/** What {@link createSenderResilience} needs beyond the codec, the encoder and the send options. */
export interface SenderResilienceChoices {
  /** The adaptive range's lowest bandwidth, kbps; undefined for a fixed bandwidth. */
  readonly minKbps: number | undefined;
  /** With adaptive `--stream`: the most frames a message (one frame a unit); undefined otherwise. */
  readonly maxFramesPerPacket?: number;
  readonly lmCoderFor: SenderResilienceOptions["lmCoderFor"];
  /** LM keyframe interval, frames (stream mode). */
  readonly keyframeIntervalFrames: number;
  readonly dtx?: SenderResilienceOptions["dtx"];
  /** Multi-track: the track's id. */
  readonly trackId?: number;
}

/**
 * The resilience layer of one stream (FEC, adaptive K and frames per message, timestamps and
 * overlap in every payload, the receiver's reports) for `encoder`, as `send` and each track of
 * a multi-track `send` build it.
 */
export function createSenderResilience(
  codec: CodecSession,
  encoder: Pick<FrameEncoder, "mode" | "numCodebooks" | "unitSamples" | "stepSamples" | "overlapSamples">,
  options: Pick<SendOptions, "mtuBytes" | "fec">,
  choices: SenderResilienceChoices,
): SenderResilience {
  const { maxFramesPerPacket } = choices;
  // (the start's: with the frames per message chosen, one)
  const framesPerUnit = maxFramesPerPacket !== undefined ? 1 : Math.ceil(encoder.unitSamples / codec.hopLengthSamples);
  return new SenderResilience({
    modelKind: codec.modelKind,
    mode: encoder.mode,
    maxCodebooks: encoder.numCodebooks,
    framesPerUnit,
    ...(maxFramesPerPacket !== undefined ? { maxFramesPerPacket } : {}),
    unitMs: ((maxFramesPerPacket !== undefined ? codec.hopLengthSamples : encoder.stepSamples) / codec.sampleRateHz) * 1000,
    overlapSamples: encoder.overlapSamples,
    mtuBytes: options.mtuBytes,
    fec: options.fec,
    adaptive: choices.minKbps !== undefined ? { minCodebooks: codec.numQuantizersForBandwidth(choices.minKbps) } : undefined,
    lmCoderFor: choices.lmCoderFor,
    lmKeyframeUnits: encoder.mode === "stream" ? Math.max(1, Math.round(choices.keyframeIntervalFrames / framesPerUnit)) : 1,
    ...(choices.dtx !== undefined ? { dtx: choices.dtx } : {}),
    ...(choices.trackId !== undefined ? { trackId: choices.trackId } : {}),
  });
}

export async function createEncoder(codec: CodecSession, options: SendOptions): Promise<FrameEncoder> {
  const { model } = codec.resolved;
  if (options.framing === "stream") {
    if (!codec.causal) {
      throw new CliError(
        "usage",
        `--stream needs a causal model (the 24 kHz one); this ${codec.sampleRateHz / 1000} kHz model is not causal, so it streams in chunks: leave out --stream`,
      );
    }
    return createFrameStreamEncoder(codec, options.bandwidthKbps);
  }
  const chunkMs = options.chunkMs ?? defaultChunkMsOf(codec.modelKind);
  const chunkSamples = Math.round((chunkMs * codec.sampleRateHz) / 1000);
  const maxSamples = Math.min(model.segmentLengthSamples ?? Number.POSITIVE_INFINITY, MAX_CHUNK_FRAMES * model.hopLengthSamples);
  if (chunkSamples > maxSamples) {
    throw new CliError(
      "usage",
      `--chunk-ms ${chunkMs}: a chunk of this model holds at most ${((maxSamples / codec.sampleRateHz) * 1000).toFixed(0)} ms` +
        (model.segmentLengthSamples !== null ? " (one segment of its encoder's loudness normalisation)" : ""),
    );
  }
  return createChunkedEncoder(codec, { chunkSamples, overlapRatio: options.overlapRatio, bandwidthKbps: options.bandwidthKbps });
}

/** An IP literal for `host` (resolved when it is a name). */
export async function resolveHost(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (error) {
    throw new CliError("io", `--ip ${host}: cannot resolve the host name (${(error as Error).message})`, { cause: error });
  }
}

/** A transport error as the `"io"` CliError naming the destination; anything else unchanged. */
export function asTransportCliError(error: unknown, destination: string): unknown {
  if (isTransportError(error)) return new CliError("io", `UDP to ${destination}: ${error.message}`, { cause: error });
  return error;
}
