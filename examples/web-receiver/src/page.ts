// The page: starts the decode worker, creates the AudioContext at the model's rate with the
// playout worklet, connects the two, and shows live statistics and a level meter.
import type { ReceiverStats } from "@encstream/session";
import { DATA_CHANNEL_ATTEMPTS, DataChannelLink } from "./data-channel-link.js";
import type { ChannelDatagram, ReceiverConfig, WorkerEvent, WorkerKey, WorkerSignal, WorkerStart, WorkletCommand, WorkletEvent } from "./messages.js";
import type { RelayTransportStats } from "./relay-transport.js";

/** What the page exposes for tests and benchmarks (`window.encstream`). */
interface PageState {
  state: "loading" | "ready" | "listening" | "error";
  status: string;
  /** True once the worker's WebSocket to the relay is open. */
  connected: boolean;
  /** Ids of the keys the listening session opens datagrams with ([] without a key). */
  keyIds: readonly number[];
  /** How the datagrams come from the relay now ("none" while not connected to it). */
  transport: "websocket" | "webrtc" | "none";
  /** Why the page is on the WebSocket (no data channel asked for, or why it could not be had), or "". */
  transportNote: string;
  /** Data channels asked for on the current WebSocket (a failed handshake is tried again). */
  dataChannelAttempts: number;
  /** The receive transport's counters (datagrams on each path). */
  transportStats: RelayTransportStats | undefined;
  openedAtMs: number;
  readyAtMs: number | undefined;
  firstSoundAtMs: number | undefined;
  /** Where the start went, ms a phase (the worker's phases, the page's before and after them). */
  startupMs: Record<string, number>;
  stats: ReceiverStats | undefined;
  worklet: Extract<WorkletEvent, { type: "stats" }> | undefined;
  tapped: Float32Array[][];
  enableTap: () => void;
}

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const page: PageState = {
  state: "loading",
  status: "loading",
  connected: false,
  keyIds: [],
  transport: "none",
  transportNote: "",
  dataChannelAttempts: 0,
  transportStats: undefined,
  openedAtMs: performance.timeOrigin,
  readyAtMs: undefined,
  firstSoundAtMs: undefined,
  startupMs: {},
  stats: undefined,
  worklet: undefined,
  tapped: [],
  enableTap: () => undefined,
};
(window as unknown as { encstream: PageState }).encstream = page;

function setStatus(text: string, state?: PageState["state"]): void {
  page.status = text;
  if (state) page.state = state;
  $("status").textContent = text;
}

function show(name: string, value: string): void {
  const cell = document.querySelector(`[data-stat="${name}"]`);
  if (cell && cell.textContent !== value) cell.textContent = value;
}

function showStats(): void {
  show("transport", page.transport === "none" ? "–" : page.transport === "webrtc" ? "WebRTC data channel" : page.transportNote === "" ? "WebSocket" : `WebSocket (${page.transportNote})`);
  const s = page.stats;
  if (s) {
    show("datagrams", String(s.datagrams));
    show("kbps", s.kbps.toFixed(1));
    show("played", String(s.played));
    show("concealed", String(s.concealed));
    show("lost", String(s.lost));
    show("lossPercent", (s.played + s.concealed === 0 ? 0 : (100 * s.lost) / (s.played + s.concealed)).toFixed(1));
    show("late", String(s.late));
    show("jitterMs", s.jitterMs === undefined ? "–" : s.jitterMs.toFixed(1));
    show("depthFrames", String(s.depthFrames));
    show("streams", String(s.streams));
  }
  const w = page.worklet;
  if (w) {
    show("underruns", String(w.underruns));
    show("deviceBufferMs", s && s.sampleRateHz > 0 ? ((1000 * w.levelSamples) / s.sampleRateHz).toFixed(0) : "0");
  }
}

async function main(): Promise<void> {
  const config = (await (await fetch("receiver.json")).json()) as ReceiverConfig;
  const worker = new Worker(new URL("decode-worker.js", import.meta.url), { type: "module" });
  worker.onerror = (e) => setStatus(`error: the decode worker failed: ${e.message || "it could not be loaded"}`, "error");
  const channel = new MessageChannel();
  const datagrams = new MessageChannel();
  // ?transport=websocket: no data channel (the WebSocket fallback, on purpose).
  const forceWebSocket = new URLSearchParams(location.search).get("transport") === "websocket";
  const webrtc = !forceWebSocket && config.webrtc === true && typeof RTCPeerConnection === "function";
  page.transportNote = forceWebSocket ? "asked for by the URL" : config.webrtc !== true ? "the relay offers no data channel" : webrtc ? "" : "this browser has no WebRTC";
  // The data channel of the connection the worker listens on (a new one for each key).
  let link: { connection: number; link: DataChannelLink } | undefined;
  const closeLink = (): void => {
    link?.link.close();
    link = undefined;
    page.transport = "none";
  };
  // `attempt` 1 is asked for by the worker when it connects; a failed handshake is asked for again.
  const openLink = (connection: number, attempt = 1): void => {
    closeLink();
    page.transport = "websocket";
    if (!webrtc) return;
    page.dataChannelAttempts = attempt;
    const signal = (text: string): void => {
      const message: WorkerSignal = { type: "signal", connection, text };
      worker.postMessage(message);
    };
    const created = new DataChannelLink({
      signal,
      onDatagram: (bytes) => {
        const message: ChannelDatagram = { connection, bytes };
        datagrams.port1.postMessage(message, [bytes]);
      },
      onState: (state) => {
        if (link?.link !== created) return;
        page.transport = state.kind === "open" ? "webrtc" : "websocket";
        page.transportNote = state.kind === "open" ? "" : state.reason;
        if (state.kind === "failed" && state.retryable && attempt < DATA_CHANNEL_ATTEMPTS) openLink(connection, attempt + 1);
      },
    });
    link = { connection, link: created };
    if (attempt > 1) signal(JSON.stringify({ type: "rtc-request" }));
  };
  const ready = new Promise<{ sampleRateHz: number; channels: number; phasesMs: Readonly<Record<string, number>> }>((resolve) => {
    worker.onmessage = (e: MessageEvent<WorkerEvent>) => {
      const ev = e.data;
      if (ev.type === "status") {
        if (ev.text === "listening") page.connected = true;
        if (ev.text === "disconnected") page.connected = false;
        setStatus(ev.text);
      }
      else if (ev.type === "listening") {
        page.keyIds = ev.keyIds;
        openLink(ev.connection);
      } else if (ev.type === "signal") {
        if (link?.connection === ev.connection) link.link.handle(ev.text);
      } else if (ev.type === "disconnected") {
        if (link?.connection === ev.connection) closeLink();
      } else if (ev.type === "error") setStatus(`error: ${ev.message}`, "error");
      else if (ev.type === "stats") {
        page.stats = ev.stats;
        page.transportStats = ev.transport;
      }
      else if (ev.type === "ready") resolve(ev);
    };
  });
  const wsUrl = new URL(config.websocketPath, location.href);
  wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const start: WorkerStart = {
    type: "start",
    config,
    baseUrl: location.href,
    websocketUrl: wsUrl.href,
    worklet: channel.port2,
    key: ($("key") as HTMLInputElement).value,
    webrtc,
    datagrams: datagrams.port2,
  };
  worker.postMessage(start, [channel.port2, datagrams.port2]);
  // A submitted key (Enter in the field) restarts listening with it; the model stays loaded.
  $("key-form").addEventListener("submit", () => {
    const message: WorkerKey = { type: "key", key: ($("key") as HTMLInputElement).value };
    worker.postMessage(message);
  });
  const { sampleRateHz, channels, phasesMs } = await ready;
  page.readyAtMs = performance.now();
  const { workerStartAtMs, ...phases } = phasesMs;
  page.startupMs = { pageToWorkerStart: (workerStartAtMs ?? performance.timeOrigin) - performance.timeOrigin, ...phases };
  const context = new AudioContext({ sampleRate: sampleRateHz, latencyHint: "playback" });
  await context.audioWorklet.addModule(new URL("playout-worklet.js", import.meta.url));
  const node = new AudioWorkletNode(context, "encstream-playout", { numberOfInputs: 0, outputChannelCount: [channels], processorOptions: { channels } });
  node.connect(context.destination);
  node.port.postMessage({ type: "port" }, [channel.port1]);
  node.port.onmessage = (e: MessageEvent<WorkletEvent>) => {
    const ev = e.data;
    if (ev.type === "tap") page.tapped.push(ev.channels);
    else {
      page.worklet = ev;
      if (ev.playing && page.firstSoundAtMs === undefined) {
        page.firstSoundAtMs = performance.now();
        page.startupMs.readyToFirstSound = page.firstSoundAtMs - (page.readyAtMs ?? 0);
      }
      const bar = $("meter-bar");
      // -60 dBFS to 0 dBFS across the bar.
      const db = ev.peak > 0 ? 20 * Math.log10(ev.peak) : -60;
      bar.style.width = `${Math.max(0, Math.min(100, Math.round((100 * (db + 60)) / 60)))}%`;
    }
  };
  page.enableTap = () => {
    page.tapped = [];
    const cmd: WorkletCommand = { type: "tap", on: true };
    node.port.postMessage(cmd);
  };
  if (new URLSearchParams(location.search).has("tap")) page.enableTap();
  setInterval(showStats, 200);
  if (context.state !== "running") {
    const button = $("listen");
    button.hidden = false;
    setStatus("ready: press Listen (the browser needs a click before it plays sound)", "ready");
    await new Promise<void>((resolve) => button.addEventListener("click", () => resolve(), { once: true }));
    await context.resume();
    button.hidden = true;
  }
  page.state = "listening";
}

main().catch((error: unknown) => setStatus(`error: ${error instanceof Error ? error.message : String(error)}`, "error"));
