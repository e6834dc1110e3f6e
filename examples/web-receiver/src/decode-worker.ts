// The decode worker: the model loaded by URL (graphs cached in the Cache API), warmed up before
// the first stream, then the receive pipeline of @encstream/session on the datagrams the relay
// forwards over a WebSocket or, once the page has one, a WebRTC data channel; decoded audio goes
// straight to the playout worklet's port.
import * as ort from "onnxruntime-web/wasm";
import { loadEncodec, loadLmWeightsWeb, loadStreamingCodec, type LoadEncodecWebOptions } from "@encstream/codec/web";
import { DatagramOpener, FeedbackSealer, createWebCryptoAead, parseKeyList } from "@encstream/packet";
import { createChunkedDecoder, createFrameStreamDecoder, createSessionCodec, defaultChunkMsOf, ReceiverSession, type SessionCodec } from "@encstream/session";
import type { ChannelDatagram, WorkerEvent, WorkerKey, WorkerSignal, WorkerStart, WorkletCommand } from "./messages.js";
import { RelayTransport } from "./relay-transport.js";

const STATS_INTERVAL_MS = 250;
const post = (event: WorkerEvent): void => postMessage(event);

/** The relay connection listened on now (one per receive session), and its number. */
let current: { readonly connection: number; readonly transport: RelayTransport } | undefined;
let connections = 0;

async function start(msg: WorkerStart): Promise<void> {
  const { config } = msg;
  const options: LoadEncodecWebOptions = { runtime: ort, wasmPaths: new URL("ort/", msg.baseUrl).href, numThreads: 1, baseUrl: msg.baseUrl };
  post({ type: "status", text: "loading the model" });
  // Where the start goes (`ready.phasesMs`, shown by the benchmark): each phase's wall time.
  const phasesMs: Record<string, number> = { workerStartAtMs: performance.timeOrigin + performance.now() };
  let mark = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    phasesMs[name] = now - mark;
    mark = now;
  };
  const t0 = performance.now();
  // A receiver never encodes: the offline encoder graph is never built or opened (its decode
  // graph opens on the warm-up's first call), and the streaming codec opens only its decoder side.
  const model = await loadEncodec({ url: config.modelUrl }, { ...options, openGraphs: "on-first-use" });
  lap("loadModel");
  const codec = createSessionCodec({
    model,
    streaming: () => loadStreamingCodec({ url: config.modelUrl }, { ...options, sides: ["decoder"] }),
    lm: () => (config.lmUrl === null ? Promise.resolve(null) : loadLmWeightsWeb({ url: config.lmUrl, optional: true }, options)),
  });
  post({ type: "status", text: "warming up" });
  // ONNX Runtime's first calls are slow: run both framings once on silence before any stream.
  const numCodebooks = model.numQuantizersForBandwidth(model.bandwidthsKbps.includes(6) ? 6 : model.bandwidthsKbps[0]!);
  const chunkSamples = Math.round((defaultChunkMsOf(codec.modelKind) * codec.sampleRateHz) / 1000);
  await createChunkedDecoder(codec, { chunkSamples, overlapRatio: config.overlapRatio }).warmUp(numCodebooks);
  lap("warmUpChunked");
  if (codec.causal) {
    const decoder = await createFrameStreamDecoder(codec);
    lap("loadStreaming");
    await decoder.warmUp(numCodebooks);
    lap("warmUpStream");
  }
  await codec.lm().catch(() => null);
  lap("loadLm");
  post({ type: "ready", sampleRateHz: codec.sampleRateHz, channels: codec.channels, warmUpMs: performance.now() - t0, phasesMs });

  const worklet = msg.worklet;
  const toWorklet = (cmd: WorkletCommand, transfer: Transferable[] = []): void => worklet.postMessage(cmd, transfer);
  // One receive session at a time; a new key (the page's key field) ends it and starts another
  // that opens datagrams with that key. The model and its warm-up are kept; a bad key is
  // reported and changes nothing.
  let key = await openerOf(msg.key).catch((error: unknown) => void postError(error));
  for (;;) {
    const stop = new AbortController();
    const running = listen(msg, codec, key, stop.signal, toWorklet).then(() => "ended" as const);
    for (;;) {
      const outcome = await Promise.race([running, nextKey()]);
      if (outcome === "ended") return;
      try {
        key = await openerOf(outcome);
        break;
      } catch (error) {
        postError(error);
      }
    }
    stop.abort();
    await running;
  }
}

function postError(error: unknown): void {
  post({ type: "error", message: error instanceof Error ? error.message : String(error) });
}

/** A key sent by the page and not yet taken, and the taker waiting for one. */
let pendingKey: string | undefined;
let keyWaiter: ((key: string) => void) | undefined;

/** The next key the page sends (at once if one came while nobody waited). */
function nextKey(): Promise<string> {
  return new Promise((resolve) => {
    if (pendingKey !== undefined) {
      const key = pendingKey;
      pendingKey = undefined;
      resolve(key);
    } else keyWaiter = resolve;
  });
}

/** A key set in the page: the opener, the sealer of its reports, and the ids of its keys. */
interface PageKey {
  readonly opener: DatagramOpener;
  readonly reportSealer: FeedbackSealer;
  readonly keyIds: readonly number[];
}

/** The opener for a key typed in the page, or undefined for "" (no key). */
async function openerOf(key: string): Promise<PageKey | undefined> {
  const text = key.trim();
  if (text === "") return undefined;
  const keys = parseKeyList(text, "the key field");
  return {
    opener: await DatagramOpener.create({ keys, aead: createWebCryptoAead }),
    reportSealer: await FeedbackSealer.create({ keys, aead: createWebCryptoAead }),
    keyIds: keys.map((k) => k.keyId),
  };
}

/** Receives from the relay until the session ends or `signal` aborts it. */
async function listen(msg: WorkerStart, codec: SessionCodec, key: PageKey | undefined, signal: AbortSignal, toWorklet: (cmd: WorkletCommand, transfer?: Transferable[]) => void): Promise<void> {
  const { config } = msg;
  const connection = ++connections;
  const transport = new RelayTransport(msg.websocketUrl, { onSignal: (text) => post({ type: "signal", connection, text }) });
  current = { connection, transport };
  await transport.opened;
  post({ type: "listening", connection, keyIds: key?.keyIds ?? [] });
  post({ type: "status", text: "listening" });
  // The relay sends on the WebSocket until the page's data channel opens, then on the channel.
  if (msg.webrtc && config.webrtc === true) transport.sendSignal(JSON.stringify({ type: "rtc-request" }));
  const session = new ReceiverSession(transport, {
    codec,
    overlapRatio: config.overlapRatio,
    bufferFrames: config.bufferFrames,
    bufferMs: config.bufferMs,
    exitOnEnd: false,
    signal,
    ...(key !== undefined ? { opener: key.opener, reportSealer: key.reportSealer } : {}),
    sink: {
      write: async (audio) => {
        const channels = audio.map((c) => c.slice());
        toWorklet({ type: "audio", channels }, channels.map((c) => c.buffer));
      },
    },
    log: (line) => {
      // The session logs a stream's end after its last audio: running dry from here on is the
      // silence between streams, not an underrun.
      if (/^stream [0-9a-f]{4} ended/.test(line)) toWorklet({ type: "stream-ended" });
      post({ type: "status", text: line });
    },
  });
  const timer = setInterval(() => post({ type: "stats", stats: session.stats, transport: transport.stats }), STATS_INTERVAL_MS);
  try {
    await session.run();
  } finally {
    clearInterval(timer);
    await transport.close();
    if (current?.connection === connection) current = undefined;
    post({ type: "stats", stats: session.stats, transport: transport.stats });
    post({ type: "disconnected", connection });
    post({ type: "status", text: "disconnected" });
  }
}

addEventListener("message", (e: MessageEvent<WorkerStart | WorkerKey | WorkerSignal>) => {
  if (e.data?.type === "signal") {
    if (current?.connection === e.data.connection) current.transport.sendSignal(e.data.text);
    return;
  }
  if (e.data?.type === "key") {
    const waiter = keyWaiter;
    keyWaiter = undefined;
    if (waiter !== undefined) waiter(e.data.key);
    else pendingKey = e.data.key;
    return;
  }
  if (e.data?.type !== "start") return;
  // The data channel's datagrams, handed over by the page; those of an ended connection are dropped.
  e.data.datagrams.onmessage = (m: MessageEvent<ChannelDatagram>) => {
    // Timed on arrival here, on this worker's clock like the WebSocket's datagrams (the page's
    // clock and this one's do not line up exactly: mixing them made silent gaps out of nothing).
    if (current?.connection === m.data.connection) current.transport.pushFromDataChannel(m.data.bytes, performance.now());
  };
  start(e.data).catch((error: unknown) => post({ type: "error", message: error instanceof Error ? error.message : String(error) }));
});
