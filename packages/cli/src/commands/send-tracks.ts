import {
  batchFrames,
  createLmPayloadEncoder,
  runMultiTrackSender,
  STREAM_LM_KEYFRAME_INTERVAL_FRAMES,
  type AudioSource,
  type TrackSenderOptions,
} from "@encstream/session";
import { DatagramSealer, FeedbackOpener } from "@encstream/packet";
import { createNodeAead, UdpTransport } from "@encstream/transport-udp";
import { WavInput } from "../audio/wav-input.js";
import type { SendOptions, SendTracksOptions } from "../command-options.js";
import { STATS_INTERVAL_MS } from "../constants.js";
import { CliError } from "../errors.js";
import { secondsSince, type CommandIo } from "../internal/command-io.js";
import { loadStreamKeys } from "../keys.js";
import type { BandwidthKbps, ModelRef } from "../model-ref.js";
import { openCodecSession, type CodecSession } from "../session/codec-session.js";
import { openSendInput, type SendInput } from "../session/send-input.js";
import { asCliError } from "../session/session-errors.js";
import { asTransportCliError, createEncoder, createSenderResilience, resolveHost, type SendHooks, type SendResult } from "./send.js";

/*
 * `send` with several tracks (`--input a.wav --input b.wav`, or `--tracks split`): one
 * `runMultiTrackSender` run over one socket (see @encstream/session's multi-track-sender.ts for
 * the wire). Per-track settings are matched by position: `--model 24khz,48khz`, `--bandwidth
 * 6,12`, `--lm-tracks on,off`; a single value applies to every track. `--stream`, `--chunk-ms`,
 * `--overlap`, `--fec`, `--mtu` and `--key-file` apply to every track.
 */

/** One track as `send` runs it. */
interface OpenTrack {
  readonly name: string;
  readonly inputName: string;
  /** Opens the input (files first, live inputs last: only once every model is ready). */
  readonly openInput: () => Promise<SendInput>;
  input: SendInput | undefined;
  readonly codec: CodecSession;
  readonly options: TrackSenderOptions;
  readonly lmCoded: boolean;
  sentSamples: number;
}

/**
 * Sends the tracks of `options.tracks` as one run (see the comment at the top of this file);
 * `signal` stops every track (each flags its end). A summary line per track goes to `io.stdout`.
 *
 * @throws CliError `"usage"` for per-track lists that do not match the tracks, a bandwidth a
 *   track's model lacks, `--stream` with a 48 kHz track; the inputs', models' and socket's errors
 */
export async function sendTracks(
  options: SendOptions & { readonly tracks: SendTracksOptions },
  io: CommandIo,
  hooks: SendHooks,
  signal: AbortSignal,
  log: (line: string) => void,
  started: number,
): Promise<SendResult> {
  const spec = options.tracks;
  if (options.dtx !== undefined) throw new CliError("usage", "--dtx sends one track; leave it out with several tracks");
  const count = spec.split ? await channelCount(spec.inputs[0] as string) : spec.inputs.length;
  for (const [name, list] of [["--model", spec.models], ["--bandwidth", spec.bandwidths], ["--lm-tracks", spec.lm ?? []]] as const) {
    if (list.length > 1 && list.length !== count) throw new CliError("usage", `${name} lists ${list.length} values for ${count} tracks (give one value, or one per track)`);
  }
  const pick = <T>(list: readonly T[], t: number): T => (list.length === 1 ? list[0] : list[t]) as T;
  const loaded = await loadStreamKeys(options.keyFile);
  if (loaded?.warning !== undefined) log(`warning: ${loaded.warning}`);
  const sealer = loaded === undefined ? undefined : await DatagramSealer.create({ key: loaded.keys[0]!, aead: createNodeAead });
  // With a key, the receiver's reports must be sealed too.
  const feedbackOpener = loaded === undefined ? undefined : await FeedbackOpener.create({ keys: loaded.keys, aead: createNodeAead });
  const codecs = new Map<string, Promise<CodecSession>>();
  const tracks: OpenTrack[] = [];
  const closeAll = async () => {
    await Promise.all(tracks.map((t) => t.input?.close()));
    await Promise.all([...codecs.values()].map(async (c) => (await c.catch(() => undefined))?.release()));
  };
  const closeOnStop = () => void Promise.all(tracks.map((t) => t.input?.close()));
  signal.addEventListener("abort", closeOnStop, { once: true });
  try {
    for (let t = 0; t < count; t++) {
      const model: ModelRef = pick(spec.models, t);
      // One codec session (and worker thread) per track, even for tracks of one model: no track's
      // model calls wait behind another's, so a slow track cannot make a live one fall behind.
      const key = String(t);
      if (!codecs.has(key)) {
        codecs.set(key, openCodecSession(model, { cacheDir: options.cacheDir, lmPath: options.lmPath, workers: options.workers, precision: options.precision, side: "encoder", onProgress: (p) => log(`track ${t}: ${p.message}`) }));
      }
      const codec = await (codecs.get(key) as Promise<CodecSession>);
      tracks.push(await openTrack(t, codec, options, spec, pick(spec.bandwidths, t), spec.lm === undefined ? options.useLm : pick(spec.lm, t), log));
    }
    // Every model is ready: open the inputs, a live one (stdin, the microphone) last, so it is
    // not captured long before the tracks' clocks start.
    const live = (name: string) => name === "-" || name === "mic";
    // A capture opened before slow warm-ups would queue, then drop, audio: warm every encoder
    // first (the sessions warm them again, then quickly).
    if (tracks.some((t) => live(t.inputName))) await Promise.all(tracks.map((t) => t.options.encoder.warmUp()));
    for (const track of [...tracks.filter((t) => !live(t.inputName)), ...tracks.filter((t) => live(t.inputName))]) track.input = await track.openInput();
    const address = await resolveHost(options.ip);
    const destination = `${address.includes(":") ? `[${address}]` : address}:${options.port}`;
    let refused = false;
    let udp: UdpTransport;
    try {
      udp = await UdpTransport.open({
        remote: { address, port: options.port },
        ...(options.bind !== undefined ? { address: options.bind } : {}),
        multicastTtl: options.ttl,
        ...(options.bind !== undefined ? { multicastInterface: options.bind } : {}),
        onError: () => {
          if (!refused) log(`${destination} does not answer (nothing listens there now); sending anyway`);
          refused = true;
        },
      });
    } catch (error) {
      throw asTransportCliError(error, destination);
    }
    for (const [t, track] of tracks.entries()) log(`track ${t}: ${track.input!.description}, ${track.name}`);
    log(`sending ${tracks.length} tracks to ${destination} on one timeline`);
    const timer = options.stats
      ? setInterval(() => log(`sent ${tracks.map((tr, t) => `track ${t} ${(tr.sentSamples / tr.codec.sampleRateHz).toFixed(2)} s`).join(", ")}`), STATS_INTERVAL_MS)
      : undefined;
    let summary;
    try {
      summary = await runMultiTrackSender({
        transport: udp,
        signal,
        feedbackOpener,
        tracks: tracks.map((track) => ({
          ...track.options,
          source: track.input!.source,
          sealer,
          mtuBytes: options.mtuBytes,
          onStart: hooks.onStart,
          onUnitSent: (unit) => {
            track.sentSamples = Math.max(track.sentSamples, unit.endSample);
            hooks.onUnitSent?.(unit);
          },
        })),
      });
    } catch (error) {
      throw asTransportCliError(asCliError(error, tracks[0]!.codec), destination);
    } finally {
      if (timer !== undefined) clearInterval(timer);
      await udp.close();
    }
    let units = 0;
    let datagrams = 0;
    let bytes = 0;
    for (const [t, s] of summary.tracks.entries()) {
      const track = tracks[t]!;
      const kbps = s.elapsedMs > 0 ? (s.bytes * 8) / s.elapsedMs : 0;
      units += s.units;
      datagrams += s.datagrams;
      bytes += s.bytes;
      io.stdout.write(
        `track ${t}: ${s.completed ? "sent" : "stopped after"} ${(s.samples / track.codec.sampleRateHz).toFixed(2)} s (${track.codec.sampleRateHz / 1000} kHz, ${track.lmCoded ? "LM-coded" : "packed codes"}): ` +
          `${s.units} frames, ${s.datagrams} datagrams, ${kbps.toFixed(1)} kbps (stream ${s.streamId.toString(16).padStart(4, "0")})\n`,
      );
    }
    const durationS = Math.max(...summary.tracks.map((s, t) => s.samples / tracks[t]!.codec.sampleRateHz));
    const completed = summary.tracks.every((s) => s.completed);
    io.stdout.write(`${completed ? "sent" : "stopped after"} ${durationS.toFixed(2)} s of ${tracks.length} tracks to ${destination}: ${units} frames, ${datagrams} datagrams (${secondsSince(started)})\n`);
    return {
      destination,
      streamId: summary.baseStreamId,
      units,
      datagrams,
      bytes,
      durationS,
      comfortNoise: 0, // --dtx is refused above
      lmCoded: tracks.some((t) => t.lmCoded),
      completed,
      overruns: tracks.reduce((n, t) => n + (t.input?.overruns() ?? 0), 0),
    };
  } finally {
    signal.removeEventListener("abort", closeOnStop);
    await closeAll();
  }
}

/** Opens track `t`: its input at its model's format, its encoder, its payload writer. */
async function openTrack(
  t: number,
  codec: CodecSession,
  options: SendOptions & { readonly tracks: SendTracksOptions },
  spec: SendTracksOptions,
  bandwidth: SendTracksOptions["bandwidths"][number],
  useLm: boolean,
  log: (line: string) => void,
): Promise<OpenTrack> {
  const { model } = codec.resolved;
  const adaptive = typeof bandwidth === "object" ? bandwidth : undefined;
  const bandwidthKbps: BandwidthKbps = adaptive !== undefined ? adaptive.maxKbps : (bandwidth as BandwidthKbps);
  const minKbps = adaptive?.minKbps ?? model.bandwidthsKbps[0]!;
  for (const b of adaptive !== undefined ? [minKbps, bandwidthKbps] : [bandwidthKbps]) {
    if (!model.bandwidthsKbps.includes(b)) throw new CliError("usage", `track ${t}: --bandwidth ${b}: its model supports ${model.bandwidthsKbps.join(", ")} kbps`);
  }
  const encoder = batchFrames(await createEncoder(codec, { ...options, bandwidthKbps }), options.framesPerPacket ?? 1);
  let lmCoderFor;
  const keyframeIntervalFrames = options.lmKeyframeIntervalFrames ?? STREAM_LM_KEYFRAME_INTERVAL_FRAMES;
  if (useLm) {
    const lm = await codec.lm();
    if (lm === null) log(`track ${t}: no language model found beside the model: sending packed codes (give one with --lm PATH, or --lm-tracks off)`);
    else lmCoderFor = (k: number) => createLmPayloadEncoder(lm, k, encoder.mode, keyframeIntervalFrames);
  }
  const resilience = createSenderResilience(codec, encoder, options, { minKbps: adaptive !== undefined ? minKbps : undefined, lmCoderFor, keyframeIntervalFrames, trackId: t });
  const format = { sampleRateHz: codec.sampleRateHz, channels: codec.channels };
  const inputName = spec.split ? (spec.inputs[0] as string) : (spec.inputs[t] as string);
  const openInput = () =>
    spec.split
      ? openChannel(inputName, t, format)
      : openSendInput({ input: inputName, rawFormat: inputName === "-" ? options.rawFormat : undefined, inputDevice: inputName === "mic" ? options.inputDevice : undefined }, format);
  const framing = encoder.mode === "stream" ? "frame-exact stream" : `chunks of ${encoder.unitSamples} samples, overlap ${encoder.overlapSamples}`;
  return {
    name: `${codec.sampleRateHz / 1000} kHz model, ${framing}, ${adaptive !== undefined ? `adaptive ${minKbps}–${bandwidthKbps}` : bandwidthKbps} kbps, ${lmCoderFor !== undefined ? "LM-coded" : "packed codes"}`,
    inputName,
    openInput,
    input: undefined,
    codec,
    lmCoded: lmCoderFor !== undefined,
    sentSamples: 0,
    options: { source: { read: async () => null }, encoder, modelKind: codec.modelKind, sampleRateHz: codec.sampleRateHz, resilience },
  };
}

/** Channels of a WAV file (`--tracks split`). */
async function channelCount(path: string): Promise<number> {
  const wav = await WavInput.open(path);
  try {
    if (wav.sourceChannels < 2) throw new CliError("usage", `--tracks split: ${path} has 1 channel; give a multichannel WAV, or one --input per track`);
    return wav.sourceChannels;
  } finally {
    await wav.close();
  }
}

/** Channel `c` of a WAV file as a track's input, at the model's rate, copied to its channels. */
async function openChannel(path: string, c: number, format: { sampleRateHz: number; channels: number }): Promise<SendInput> {
  const wav = await WavInput.open(path, { sampleRateHz: format.sampleRateHz });
  if (wav.frameCount === 0) {
    await wav.close();
    throw new CliError("unsupported", `${path}: the WAV file holds no audio`);
  }
  const source: AudioSource = {
    read: async () => {
      const piece = await wav.read();
      if (piece === null) return null;
      const channel = piece[c] as Float32Array;
      return Array.from({ length: format.channels }, () => channel);
    },
  };
  return { source, durationS: wav.durationS, description: `${path} channel ${c + 1} of ${wav.sourceChannels} (${wav.durationS.toFixed(2)} s)`, overruns: () => 0, close: () => wav.close() };
}
