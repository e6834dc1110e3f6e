import { MultiTrackReceiver, type AudioSink, type MultiTrackStats, type ReceiverStats, type TrackInfo } from "@encstream/session";
import type { PayloadModelKind } from "@encstream/codec";
import { DatagramOpener, FeedbackSealer } from "@encstream/packet";
import { createNodeAead, isTransportError, UdpTransport } from "@encstream/transport-udp";
import { openPlayback, type Playback } from "../audio/playback.js";
import { TrackMixer, type MixerInput } from "../audio/track-mixer.js";
import { WavFileWriter } from "../audio/wav-writer.js";
import type { ReceiveOptions } from "../command-options.js";
import { STATS_INTERVAL_MS } from "../constants.js";
import { CliError } from "../errors.js";
import type { CommandIo } from "../internal/command-io.js";
import { resumingOptimizerOnLm } from "../internal/lean-v8.js";
import { loadStreamKeys } from "../keys.js";
import { openCodecSession, type CodecSession } from "../session/codec-session.js";
import { asCliError } from "../session/session-errors.js";
import { formatReceiveLine, formatReceiveSummary } from "../session/stats-format.js";
import { warmUp, type ReceiveHooks, type ReceiveResult } from "./receive.js";

/*
 * `receive` of a multi-track run (`--model 24khz,48khz`, `--output 'out-{track}.wav'`, `--mix`):
 * a MultiTrackReceiver of @encstream/session over one socket, one WAV per track (`{track}` in
 * `--output` is the track id) and/or the mix of the tracks (`--mix FILE`, or the mix to
 * `--output` without `{track}` / `--play`), aligned sample for sample. Each track is decoded by
 * the model of its kind among `--model`'s.
 */

/** The placeholder of `--output` replaced by the track id. */
export const TRACK_PLACEHOLDER = "{track}";

/** Whether `options` ask for a multi-track receive. */
export function isMultiTrackReceive(options: ReceiveOptions): boolean {
  return options.models !== undefined || options.mix !== undefined || options.output?.includes(TRACK_PLACEHOLDER) === true;
}

/**
 * Receives a multi-track run (see the comment at the top of this file). A summary line per
 * track, then one for the run, go to `io.stdout`; `--stats` adds each track's summary on stderr.
 *
 * @throws CliError `"usage"` for two models of one kind, `"io"` for the socket or a WAV,
 *   `"no-stream"` when `--timeout` passed without any track, the models' errors
 */
export async function receiveTracks(options: ReceiveOptions, io: CommandIo, hooks: ReceiveHooks, signal: AbortSignal, log: (line: string) => void): Promise<ReceiveResult> {
  const refs = options.models ?? [options.model];
  const codecs: CodecSession[] = [];
  const byKind = new Map<PayloadModelKind, CodecSession>();
  const writers: WavFileWriter[] = [];
  let playback: Playback | undefined;
  let mixWriter: WavFileWriter | undefined;
  let udp: UdpTransport | undefined;
  try {
    for (const ref of refs) {
      const codec = await openCodecSession(ref, { cacheDir: options.cacheDir, lmPath: options.lmPath, workers: options.workers, precision: options.precision, side: "decoder", onProgress: (p) => log(p.message) });
      codecs.push(codec);
      if (byKind.has(codec.modelKind)) throw new CliError("usage", `--model: two ${codec.modelKind === "48k" ? "48 kHz" : "24 kHz"} models; give one model per kind (a track is decoded by the one of its kind)`);
      byKind.set(codec.modelKind, resumingOptimizerOnLm(codec));
      await warmUp(codec, options, log);
    }
    const loaded = await loadStreamKeys(options.keyFile);
    if (loaded?.warning !== undefined) log(`warning: ${loaded.warning}`);
    const opener = loaded === undefined ? undefined : await DatagramOpener.create({ keys: loaded.keys, aead: createNodeAead });
    const reportSealer = loaded === undefined ? undefined : await FeedbackSealer.create({ keys: loaded.keys, aead: createNodeAead });
    const perTrack = options.output?.includes(TRACK_PLACEHOLDER) === true ? options.output : undefined;
    // the mix: to --mix FILE, else to --output (without {track}) and/or --play
    const mixPath = typeof options.mix === "string" ? options.mix : perTrack === undefined ? options.output : undefined;
    const mixRateHz = Math.max(...codecs.map((c) => c.sampleRateHz));
    const mixChannels = Math.max(...codecs.map((c) => c.channels));
    const mixing = mixPath !== undefined || options.play;
    if (mixPath !== undefined) mixWriter = await WavFileWriter.create(mixPath, { sampleRateHz: mixRateHz, channels: mixChannels, sampleFormat: options.sampleFormat });
    if (options.play) playback = await openPlayback({ sampleRateHz: mixRateHz, channels: mixChannels });
    const mixSinks = [mixWriter, playback].filter((s): s is WavFileWriter | Playback => s !== undefined);
    const mixer = mixing ? new TrackMixer({ sampleRateHz: mixRateHz, channels: mixChannels, write: async (audio) => void (await Promise.all(mixSinks.map((s) => s.write(audio)))) }) : undefined;
    try {
      udp = await UdpTransport.open({
        address: options.bind,
        port: options.port,
        ...(options.group !== undefined ? { multicastGroup: options.group, reuseAddr: true, ...(options.interface !== undefined ? { multicastInterface: options.interface } : {}) } : {}),
      });
    } catch (error) {
      if (isTransportError(error)) throw new CliError("io", `cannot listen on ${options.bind}:${options.port}: ${error.message}`, { cause: error });
      throw error;
    }
    const where = `${udp.address.includes(":") ? `[${udp.address}]` : udp.address}:${udp.port}`;
    log(
      `listening on ${where} for tracks (${codecs.map((c) => `${c.sampleRateHz / 1000} kHz`).join(", ")} models)` +
        `${perTrack !== undefined ? `, each track to ${perTrack}` : ""}${mixing ? `, the mix (${mixRateHz} Hz, ${mixChannels} channel(s)) to ${[mixPath, playback !== undefined ? "playback" : undefined].filter((x) => x !== undefined).join(" and ")}` : ""}`,
    );
    hooks.onListening?.(udp.address, udp.port);
    const mixInputs = new Map<number, MixerInput>();
    const outputs = new Map<number, string>();
    const receiver = new MultiTrackReceiver(udp, {
      codecFor: (kind) => byKind.get(kind),
      overlapRatio: options.overlapRatio,
      bufferFrames: options.bufferSize.unit === "units" ? options.bufferSize.units : 1,
      bufferMs: options.bufferSize.unit === "ms" ? options.bufferSize.ms : undefined,
      idleTimeoutMs: options.idleTimeoutS === undefined ? undefined : options.idleTimeoutS * 1000,
      streamIdleMs: options.streamIdleS * 1000,
      allowFrom: options.allowFrom,
      opener,
      reportSealer,
      signal,
      log,
      sinkFor: async (track: TrackInfo): Promise<AudioSink> => {
        let writer: WavFileWriter | undefined;
        if (perTrack !== undefined) {
          const path = perTrack.replaceAll(TRACK_PLACEHOLDER, String(track.trackId));
          outputs.set(track.trackId, path);
          writer = await WavFileWriter.create(path, { sampleRateHz: track.sampleRateHz, channels: track.channels, sampleFormat: options.sampleFormat });
          writers.push(writer);
        }
        const mixIn = mixer?.addTrack(track.sampleRateHz, track.channels);
        if (mixIn !== undefined) mixInputs.set(track.trackId, mixIn);
        log(`track ${track.trackId}: stream ${track.streamId.toString(16).padStart(4, "0")}, ${track.sampleRateHz / 1000} kHz, ${track.channels} channel(s)${writer !== undefined ? ` → ${outputs.get(track.trackId)}` : ""}`);
        return { write: async (audio) => void (await Promise.all([writer?.write(audio), mixIn?.write(audio)])) };
      },
    });
    const timer = options.stats
      ? setInterval(() => {
          for (const t of receiver.stats.tracks) io.stderr.write(`track ${t.track.trackId}: ${formatReceiveLine(t.stats)}\n`);
        }, STATS_INTERVAL_MS)
      : undefined;
    let stats: MultiTrackStats;
    try {
      stats = await receiver.run();
      // a track's end releases the mix from waiting on it
      for (const input of mixInputs.values()) await input.end();
      await mixer?.finish();
    } catch (error) {
      throw asCliError(error, codecs[0]!);
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
    await Promise.all([...writers, ...mixSinks].map((s) => s.close()));
    if (options.stats) {
      for (const t of stats.tracks) io.stderr.write(formatReceiveSummary(t.stats).replace("receive: summary", `receive: track ${t.track.trackId} summary`));
      io.stderr.write(
        `receive: router: ${stats.datagrams} datagrams, ${stats.malformed} malformed, ${stats.unauthenticated} unauthenticated, ${stats.foreign} foreign, ` +
          `${stats.mismatched} mismatched, ${stats.ignored} ignored, ${stats.unrouted} unrouted${mixer !== undefined ? `; mix ${mixer.position} samples, ${mixer.lateSamples} late samples dropped` : ""}\n`,
      );
    }
    if (stats.tracks.length === 0 && options.idleTimeoutS !== undefined && !signal.aborted) {
      throw new CliError("no-stream", `${stats.datagrams === 0 ? "no packets" : `${stats.datagrams} datagram(s), no track`} on ${where} in ${options.idleTimeoutS} s (--timeout): is a sender running, to this address and port?`);
    }
    for (const t of stats.tracks) {
      const s = t.stats;
      const loss = s.played + s.concealed === 0 ? 0 : (100 * s.lost) / (s.played + s.concealed);
      io.stdout.write(
        `track ${t.track.trackId}: received ${(s.samplesOut / s.sampleRateHz).toFixed(2)} s${outputs.has(t.track.trackId) ? ` into ${outputs.get(t.track.trackId)}` : ""}: ` +
          `${s.played + s.concealed} frames, ${loss.toFixed(1)} % lost, ${s.datagrams} datagrams\n`,
      );
    }
    const durationS = Math.max(0, ...stats.tracks.map((t) => t.stats.samplesOut / t.stats.sampleRateHz));
    io.stdout.write(`received ${stats.tracks.length} track(s), ${durationS.toFixed(2)} s${mixPath !== undefined ? `, mixed into ${mixPath}` : ""}${playback !== undefined ? " (played)" : ""}\n`);
    return { address: udp.address, port: udp.port, output: options.output, durationS, stats: totalOf(stats) };
  } finally {
    await udp?.close();
    await Promise.all(writers.map((w) => w.close().catch(() => undefined)));
    await mixWriter?.close().catch(() => undefined);
    await playback?.abort().catch(() => undefined);
    await Promise.all(codecs.map((c) => c.release()));
  }
}

/** The tracks' statistics added up (rates and positions from the longest track). */
function totalOf(stats: MultiTrackStats): ReceiverStats {
  const list = stats.tracks.map((t) => t.stats);
  const longest = list.reduce<ReceiverStats | undefined>((a, b) => (a === undefined || b.samplesOut / b.sampleRateHz > a.samplesOut / a.sampleRateHz ? b : a), undefined);
  const sum = (key: keyof ReceiverStats) => list.reduce((n, s) => n + ((s[key] as number | undefined) ?? 0), 0);
  const keys = ["bytes", "malformed", "unauthenticated", "foreign", "unfit", "mismatched", "afterEnd", "dropped", "duplicates", "expired", "played", "concealed", "recovered", "comfortNoise", "reportsSent", "lost", "late", "undecodable", "tooFarAhead", "underruns", "resyncs", "streams"] as const;
  const totals = Object.fromEntries(keys.map((k) => [k, sum(k)])) as Record<(typeof keys)[number], number>;
  return {
    ...totals,
    datagrams: stats.datagrams,
    malformed: totals.malformed + stats.malformed,
    unauthenticated: totals.unauthenticated + stats.unauthenticated,
    foreign: totals.foreign + stats.foreign,
    mismatched: totals.mismatched + stats.mismatched,
    jitterMs: longest?.jitterMs,
    depthFrames: 0,
    bufferFrames: longest?.bufferFrames ?? 0,
    capacityFrames: longest?.capacityFrames ?? 0,
    unitMs: longest?.unitMs ?? 0,
    kbps: list.reduce((n, s) => n + s.kbps, 0),
    samplesOut: longest?.samplesOut ?? 0,
    sampleRateHz: longest?.sampleRateHz ?? 0,
  };
}
