import { unlink } from "node:fs/promises";
import {
  createChunkedDecoder,
  createFrameStreamDecoder,
  defaultChunkMsOf,
  ReceiverSession,
  type AudioSink,
  type DatagramTransport,
  type InboundDatagram,
  type PlayedBlock,
  type ReceiverStats,
} from "@encstream/session";
import { DatagramOpener, FeedbackSealer } from "@encstream/packet";
import { createNodeAead, isTransportError, UdpTransport } from "@encstream/transport-udp";
import { loadStreamKeys } from "../keys.js";
import { openPlayback, probePlayback, type Playback } from "../audio/playback.js";
import { formatRawFormat } from "../audio/raw-format.js";
import { StreamOutput } from "../audio/stream-output.js";
import { WavFileWriter } from "../audio/wav-writer.js";
import type { ReceiveOptions } from "../command-options.js";
import { STATS_INTERVAL_MS } from "../constants.js";
import { CliError } from "../errors.js";
import { isTty, processIo, type CommandIo } from "../internal/command-io.js";
import { resumingOptimizerOnLm } from "../internal/lean-v8.js";
import { onInterrupt } from "../interrupt.js";
import { openCodecSession, type CodecSession } from "../session/codec-session.js";
import { asCliError } from "../session/session-errors.js";
import { formatReceiveLine, formatReceiveSummary } from "../session/stats-format.js";
import { isMultiTrackReceive, receiveTracks } from "./receive-tracks.js";
import type { WebRelay, WebRelayStats } from "../web/web-relay.js";
import { defaultWebRoot } from "../web/web-root.js";

/** `--output` value that writes the audio to stdout. */
const STDOUT_OUTPUT = "-";

/** What {@link runReceive} did. */
export interface ReceiveResult {
  /** The address and port listened on (the port the OS chose for `--port 0`). */
  readonly address: string;
  readonly port: number;
  /** The WAV written, or undefined. */
  readonly output: string | undefined;
  /** Audio received (written and/or played), seconds. */
  readonly durationS: number;
  /** The final statistics (all zero but the datagram counts when only relaying to pages). */
  readonly stats: ReceiverStats;
  /** The web relay's counters (`--web`), or undefined. */
  readonly relay?: WebRelayStats | undefined;
}

/** Hooks for the latency benchmark and tests. */
export interface ReceiveHooks {
  /** Called once the socket is bound, with its port (useful with `--port 0`). */
  readonly onListening?: (address: string, port: number) => void;
  /** Called for every block of audio handed to the output. */
  readonly onPlayed?: (block: PlayedBlock) => void;
  /** Called once the web relay (`--web`) listens, with the page's URL. */
  readonly onWebListening?: (url: string) => void;
}

/**
 * `encstream receive`: listens on `--bind`:`--port` (joining the multicast `--group` on
 * `--interface` when given), reassembles the datagrams, orders them in a jitter buffer
 * (`--buffer-size`, units or a duration, before playout starts), decodes them with the model given
 * by `--model` (the stream itself says which model kind, framing, bandwidth and LM use it has;
 * a stream of another model kind is refused) and writes a WAV (`--output`, valid at every
 * moment) and/or plays it (`--play`, the default without `--output`). Lost frames are concealed,
 * so the output keeps the sender's timing; it starts at the input's first sample and, when the
 * end-of-stream message arrives, has exactly the input's length.
 *
 * With `--output` it returns once the stream has ended (or after `--timeout` seconds without
 * packets; when no stream came at all in that time it fails and removes the empty WAV); playing only, it waits for further streams until `--timeout` or Ctrl-C. Ctrl-C (or
 * `io.signal`) plays out what is buffered and finalises the WAV. `--stats` prints a live line
 * and a final summary on `io.stderr`; the bound address goes to `io.stderr` too, a summary line
 * to `io.stdout`.
 *
 * @throws CliError `"playback-unavailable"` / `"playback-failed"` for `--play` without a usable
 *   device, the model's errors, `"io"` when the socket or the WAV cannot be opened,
 *   `"model-mismatch"` for a stream of another model kind, `"lm-unavailable"` for an LM-coded
 *   stream without a language model, `"no-stream"` when `--timeout` passed without any stream
 */
export async function runReceive(options: ReceiveOptions, io: CommandIo = processIo(), hooks: ReceiveHooks = {}): Promise<ReceiveResult> {
  const log = (line: string): void => void io.stderr.write(`receive: ${line}\n`);
  const stop = new AbortController();
  const signal = io.signal === undefined ? stop.signal : AbortSignal.any([io.signal, stop.signal]);
  let finishing: Promise<void> = Promise.resolve();
  const unregister = io.signal === undefined ? onInterrupt(() => (stop.abort(), finishing)) : () => undefined;
  try {
    if (options.play) {
      // Before any model or network work: a machine without sound fails at once, in one line.
      const support = await probePlayback(options.model.kind === "preset" ? options.model.preset : undefined);
      if (!support.available) throw new CliError("playback-unavailable", support.reason);
    }
    if (isMultiTrackReceive(options)) {
      // several tracks (--model a,b, --output with {track}, --mix)
      const run = receiveTracks(options, io, hooks, signal, log);
      finishing = run.then(
        () => undefined,
        () => undefined,
      );
      return await run;
    }
    const codec = await openCodecSession(options.model, {
      cacheDir: options.cacheDir,
      lmPath: options.lmPath,
      workers: options.workers,
      precision: options.precision,
      side: "decoder",
      onProgress: (p) => log(p.message),
    });
    try {
      const run = receiveWith(codec, options, io, hooks, signal, log);
      finishing = run.then(
        () => undefined,
        () => undefined,
      );
      return await run;
    } finally {
      await codec.release();
    }
  } finally {
    unregister();
  }
}

async function receiveWith(
  codec: CodecSession,
  options: ReceiveOptions,
  io: CommandIo,
  hooks: ReceiveHooks,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<ReceiveResult> {
  const loaded = await loadStreamKeys(options.keyFile);
  if (loaded?.warning !== undefined) log(`warning: ${loaded.warning}`);
  const opener = loaded === undefined ? undefined : await DatagramOpener.create({ keys: loaded.keys, aead: createNodeAead });
  const reportSealer = loaded === undefined ? undefined : await FeedbackSealer.create({ keys: loaded.keys, aead: createNodeAead });
  if (loaded !== undefined) log(`datagrams must authenticate with the ${loaded.keys.length} key(s) of ${loaded.source} (ids ${loaded.keys.map((k) => k.keyId).join(", ")})`);
  await warmUp(codec, options, log);
  const toStdout = options.output === STDOUT_OUTPUT;
  // With --output -, stdout carries the audio: the summary line goes to stderr with the rest.
  const results = toStdout ? io.stderr : io.stdout;
  const raw = options.rawFormat;
  if (raw !== undefined && !toStdout) throw new CliError("usage", "--raw-format describes stdout: give it with --output -");
  if (raw !== undefined && (raw.sampleRateHz !== codec.sampleRateHz || raw.channels !== codec.channels)) {
    throw new CliError(
      "usage",
      `--raw-format ${formatRawFormat(raw)}: this model gives ${codec.sampleRateHz} Hz, ${codec.channels} channel(s) (use ${raw.sampleFormat}le:${codec.sampleRateHz}:${codec.channels})`,
    );
  }
  const writer =
    options.output === undefined
      ? undefined
      : toStdout
        ? new StreamOutput(io.stdout, {
            sampleRateHz: codec.sampleRateHz,
            channels: codec.channels,
            sampleFormat: raw?.sampleFormat ?? options.sampleFormat,
            container: raw === undefined ? "wav" : "raw",
            fd: io.stdout === process.stdout ? 1 : undefined,
          })
        : await WavFileWriter.create(options.output, { sampleRateHz: codec.sampleRateHz, channels: codec.channels, sampleFormat: options.sampleFormat });
  let playback: Playback | undefined;
  let udp: UdpTransport | undefined;
  let relay: WebRelay | undefined;
  try {
    if (options.play) playback = await openPlayback({ sampleRateHz: codec.sampleRateHz, channels: codec.channels });
    try {
      udp = await UdpTransport.open({
        address: options.bind,
        port: options.port,
        ...(options.group !== undefined
          ? { multicastGroup: options.group, reuseAddr: true, ...(options.interface !== undefined ? { multicastInterface: options.interface } : {}) }
          : {}),
      });
    } catch (error) {
      const what = options.group === undefined ? "" : ` and join ${options.group}${options.interface !== undefined ? ` on ${options.interface}` : ""}`;
      if (isTransportError(error)) throw new CliError("io", `cannot listen on ${options.bind}:${options.port}${what}: ${error.message}`, { cause: error });
      if (error instanceof RangeError) throw new CliError("usage", `--group ${options.group}: ${error.message}`, { cause: error });
      throw error;
    }
    const where = `${udp.address.includes(":") ? `[${udp.address}]` : udp.address}:${udp.port}`;
    const buffer = options.bufferSize.unit === "ms" ? `${options.bufferSize.ms} ms` : `${options.bufferSize.units} units`;
    const group = options.group === undefined ? "" : `, group ${options.group}`;
    log(`listening on ${where}${group} (${codec.sampleRateHz} Hz, ${codec.channels} channel(s); buffer ${buffer})`);
    hooks.onListening?.(udp.address, udp.port);
    if (options.web !== undefined) {
      relay = await openRelay(codec, options, log);
      hooks.onWebListening?.(relay.url);
      if (writer === undefined && playback === undefined) return await relayOnly(udp, relay, options, io, signal, log);
    }
    const source: DatagramTransport = relay === undefined ? udp : teeTransport(udp, relay);
    const sinks = [writer, playback].filter((s): s is WavFileWriter | StreamOutput | Playback => s !== undefined);
    const sink: AudioSink = { write: async (audio) => void (await Promise.all(sinks.map((s) => s.write(audio)))) };
    const session = new ReceiverSession(source, {
      codec: resumingOptimizerOnLm(codec),
      overlapRatio: options.overlapRatio,
      bufferFrames: options.bufferSize.unit === "units" ? options.bufferSize.units : 1,
      bufferMs: options.bufferSize.unit === "ms" ? options.bufferSize.ms : undefined,
      sink,
      idleTimeoutMs: options.idleTimeoutS === undefined ? undefined : options.idleTimeoutS * 1000,
      streamIdleMs: options.streamIdleS * 1000,
      allowFrom: options.allowFrom,
      opener,
      reportSealer,
      exitOnEnd: options.output !== undefined,
      signal,
      onPlayed: hooks.onPlayed,
      log,
    });
    relay?.setReceiverStats(() => session.stats);
    const tty = isTty(io.stderr);
    const timer = options.stats
      ? setInterval(() => io.stderr.write(tty ? `\r\x1b[2K${formatReceiveLine(session.stats)}` : `${formatReceiveLine(session.stats)}\n`), STATS_INTERVAL_MS)
      : undefined;
    let stats: ReceiverStats;
    try {
      stats = await session.run();
    } catch (error) {
      throw asCliError(error, codec);
    } finally {
      if (timer !== undefined) {
        clearInterval(timer);
        if (tty) io.stderr.write("\n");
      }
    }
    await Promise.all(sinks.map((s) => s.close()));
    if (options.stats) io.stderr.write(formatReceiveSummary(stats));
    if (stats.streams === 0 && options.idleTimeoutS !== undefined && !signal.aborted) {
      // Nothing to keep: an empty WAV would pass for a recording.
      const file = options.output !== undefined && options.output !== "-" ? options.output : undefined;
      if (file !== undefined) await unlink(file).catch(() => undefined);
      const heard = stats.datagrams === 0 ? "no packets" : `${stats.datagrams} datagram(s), none of them a valid stream`;
      throw new CliError(
        "no-stream",
        `${heard} on ${where} in ${options.idleTimeoutS} s (--timeout)${file !== undefined ? `; ${file} not written` : ""}: ` +
          `is a sender running, to this address and port${options.group !== undefined ? " and group" : ""}?`,
      );
    }
    const durationS = stats.samplesOut / codec.sampleRateHz;
    const lossPercent = stats.played + stats.concealed === 0 ? 0 : (100 * stats.lost) / (stats.played + stats.concealed);
    results.write(
      `received ${durationS.toFixed(2)} s${options.output !== undefined ? ` into ${toStdout ? "stdout" : options.output}` : ""}${playback !== undefined ? " (played)" : ""}: ` +
        `${stats.played + stats.concealed} frames, ${lossPercent.toFixed(1)} % lost, ${stats.datagrams} datagrams\n`,
    );
    return { address: udp.address, port: udp.port, output: options.output, durationS, stats, relay: relay?.stats };
  } finally {
    await udp?.close();
    await relay?.close();
    // Closing twice is harmless; this finalises the WAV when receiving failed.
    await writer?.close().catch(() => undefined);
    await playback?.abort().catch(() => undefined);
  }
}

/** Runs the decoder of the expected framing once, so the first frames of the stream are not late. */
export async function warmUp(codec: CodecSession, options: ReceiveOptions, log: (line: string) => void): Promise<void> {
  // One codebook: the decode graphs take any codebook count, and their codebook table is mapped
  // from the graph cache, so a call makes resident every codebook it names (measured: 512 KiB a
  // codebook of the full-size model). Warming with the default bandwidth's 16 codebooks kept
  // 8 MiB resident for a 6 kbps stream that reads 8; now only the stream's own codebooks are.
  const numCodebooks = 1;
  if (options.framing === "stream" && codec.causal) {
    log("preparing the frame-exact streaming decoder");
    await (await createFrameStreamDecoder(codec)).warmUp(numCodebooks);
  } else {
    const chunkSamples = Math.round((defaultChunkMsOf(codec.modelKind) * codec.sampleRateHz) / 1000);
    await createChunkedDecoder(codec, { chunkSamples, overlapRatio: options.overlapRatio }).warmUp(numCodebooks);
  }
  // Most streams are LM-coded unless the sender said --no-lm: load the LM now if there is one.
  await codec.lm().catch(() => null);
}

async function openRelay(codec: CodecSession, options: ReceiveOptions, log: (line: string) => void): Promise<WebRelay> {
  const web = options.web!;
  const webRoot = options.webRoot ?? defaultWebRoot();
  if (webRoot === undefined) {
    throw new CliError("usage", "--web: no built web receiver found; build it (pnpm --filter @encstream/example-web-receiver build) or give --web-root DIR");
  }
  let relay: WebRelay;
  try {
    // Loaded only for --web: its HTTP and WebSocket servers (and WebRTC) cost a plain receiver memory.
    const { WebRelay } = await import("../web/web-relay.js");
    relay = await WebRelay.open({
      host: web.host,
      port: web.port,
      webRoot,
      webrtc: options.webrtc !== false,
      log,
      modelDir: codec.resolved.source.dir,
      lmPath: codec.resolved.lmPath,
      overlapRatio: options.overlapRatio,
      bufferFrames: options.bufferSize.unit === "units" ? options.bufferSize.units : 1,
      bufferMs: options.bufferSize.unit === "ms" ? options.bufferSize.ms : undefined,
    });
  } catch (error) {
    throw new CliError("io", `--web ${web.host}:${web.port}: ${(error as Error).message}`, { cause: error });
  }
  const rtc = relay.stats.webrtcUnavailable;
  log(`web receiver at ${relay.url} (pages: open it in a browser; the stream is relayed to every open page${rtc === undefined ? ", on a WebRTC data channel where one opens" : `; WebSocket only: ${rtc}`})`);
  return relay;
}

/** The UDP transport, with every datagram also handed to the relay as it is read. */
function teeTransport(inner: DatagramTransport, relay: WebRelay): DatagramTransport {
  return {
    send: (datagrams, to) => inner.send(datagrams, to),
    close: () => inner.close(),
    get stats() {
      return inner.stats;
    },
    async *[Symbol.asyncIterator](): AsyncIterator<InboundDatagram> {
      for await (const datagram of inner) {
        relay.relay(datagram.bytes);
        yield datagram;
      }
    },
  };
}

/** `--web` without `--output`/`--play`: forward datagrams to the pages until Ctrl-C or `--timeout`. */
async function relayOnly(
  udp: UdpTransport,
  relay: WebRelay,
  options: ReceiveOptions,
  io: CommandIo,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<ReceiveResult> {
  const timeoutMs = options.idleTimeoutS === undefined ? undefined : options.idleTimeoutS * 1000;
  let last = performance.now();
  const onAbort = () => void udp.close();
  signal.addEventListener("abort", onAbort);
  const idle =
    timeoutMs === undefined
      ? undefined
      : setInterval(() => {
          if (performance.now() - last > timeoutMs) void udp.close();
        }, Math.min(250, timeoutMs));
  try {
    for await (const datagram of udp) {
      last = performance.now();
      relay.relay(datagram.bytes);
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (idle !== undefined) clearInterval(idle);
  }
  const r = relay.stats;
  log(`relayed ${r.datagrams} datagrams to ${r.pagesTotal} page(s) (${r.dataChannelsOpened} on a WebRTC data channel), ${r.dropped} dropped for slow pages`);
  io.stdout.write(`relayed ${r.datagrams} datagrams (${r.bytes} bytes) to ${r.pagesTotal} page(s)\n`);
  const u = udp.stats;
  const zero = { malformed: 0, unauthenticated: 0, foreign: 0, unfit: 0, mismatched: 0, afterEnd: 0, dropped: 0, duplicates: 0, expired: 0, played: 0, concealed: 0, recovered: 0, comfortNoise: 0, reportsSent: 0, lost: 0, late: 0, undecodable: 0, tooFarAhead: 0 };
  const stats: ReceiverStats = {
    ...zero,
    underruns: 0,
    resyncs: 0,
    streams: 0,
    jitterMs: undefined,
    depthFrames: 0,
    capacityFrames: 0,
    unitMs: 0,
    kbps: 0,
    samplesOut: 0,
    sampleRateHz: 0,
    datagrams: u.datagramsReceived,
    bytes: u.bytesReceived,
    bufferFrames: options.bufferSize.unit === "units" ? options.bufferSize.units : 0,
  };
  return { address: udp.address, port: udp.port, output: undefined, durationS: 0, stats, relay: r };
}
