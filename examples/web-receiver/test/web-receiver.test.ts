// End to end, all real: `encstream send` (a process, over loopback UDP) → `encstream receive --web`
// (a process: decodes to a WAV and relays every datagram over a WebSocket) → the web receiver in
// headless Chromium (onnxruntime-web in a Worker, playout in an AudioWorklet). The samples the
// worklet played (tapped) must equal the WAV within 1e-5 outside concealed units, and the page's
// statistics must equal the relay-side receiver's.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  launchChromium,
  parseReceiveSummary,
  readWav,
  FIXTURES,
  startCli,
  startLossyProxy,
  tempDir,
  TINY24,
  writeWavPrefix,
  type ReceiveSummary,
} from "./support.js";

let browser: Awaited<ReturnType<typeof launchChromium>>;
let tmp: ReturnType<typeof tempDir>;
let nextPort = 39_600 + Math.floor(Math.random() * 300);

beforeAll(async () => {
  tmp = tempDir("encstream-web-e2e-");
  for (const s of [3, 10]) writeWavPrefix(path.join(FIXTURES, "audio/test_24k.wav"), path.join(tmp.dir, `in${s}.wav`), s);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  tmp?.remove();
});

/** A stream key: the key file given to `send`/`receive`, and the same key as typed in the page. */
interface StreamKeyFixture {
  readonly file: string;
  readonly text: string;
  readonly keyId: number;
}

/** Writes a key file (0600, the format `encstream keygen` writes) with one random key. */
function writeKey(keyId: number): StreamKeyFixture {
  const hex = randomBytes(32).toString("hex");
  const file = path.join(tmp.dir, `key-${keyId}.key`);
  writeFileSync(file, `encstream-key-v1\nkey ${keyId} ${hex}\n`, { mode: 0o600 });
  return { file, text: `${keyId}:${hex}`, keyId };
}

interface PageStats {
  datagrams: number;
  played: number;
  concealed: number;
  lost: number;
  late: number;
  undecodable: number;
  samplesOut: number;
}

/** How a page gets the datagrams: the relay's WebRTC data channel, or (forced) its WebSocket. */
type PageTransport = "webrtc" | "websocket";

/** What one page played and showed. */
interface PageResult {
  tapped: Float32Array;
  pageStats: PageStats;
  shown: Record<string, string>;
  worklet: { underruns: number; driftSamples: number; overflowSamples: number; playedSamples: number };
  transport: PageTransport;
  /** Datagrams the page's receive transport got on each path. */
  onWebSocket: number;
  onDataChannel: number;
}

interface RunResult extends PageResult {
  wav: Float32Array;
  summary: ReceiveSummary;
  dropped: Set<number>;
  /** Every page's result (the first is spread into this object). */
  pages: PageResult[];
}

type EncstreamWindow = {
  encstream: {
    connected: boolean;
    keyIds: readonly number[];
    transport: PageTransport | "none";
    transportNote: string;
    transportStats?: { onWebSocket: number; onDataChannel: number };
    stats?: PageStats;
    worklet?: PageResult["worklet"] & { playing: boolean };
    tapped: Float32Array[][];
  };
};

/** Opens the relay's page and waits until it listens on the transport asked for (and with the key). */
async function openPage(url: string, transport: PageTransport, key: StreamKeyFixture | undefined): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${url}?tap${transport === "websocket" ? "&transport=websocket" : ""}`);
  await page.waitForFunction(() => (window as unknown as EncstreamWindow).encstream?.connected === true, undefined, { timeout: 90_000 });
  if (key) {
    // As a listener would: type the key, press Enter; the page listens again with it.
    await page.fill("#key", key.text);
    await page.press("#key", "Enter");
  }
  // A data channel opens within a second on loopback; the relay sends on it from then on. The
  // page shows which transport it is on.
  await page.waitForFunction(
    ([id, want, shown]) => {
      const e = (window as unknown as EncstreamWindow).encstream;
      return e.connected && (id === null || e.keyIds.includes(id)) && e.transport === want && document.querySelector("[data-stat=transport]")?.textContent === shown;
    },
    [key?.keyId ?? null, transport, transport === "webrtc" ? "WebRTC data channel" : "WebSocket (asked for by the URL)"] as const,
    { timeout: 30_000 },
  );
  return { page, errors };
}

/** One stream through the whole chain, to one page or several at once. */
async function runStream(options: {
  seconds: 3 | 10;
  stream: boolean;
  lm: boolean;
  drop?: (seq: number) => boolean;
  key?: StreamKeyFixture;
  /** One page per entry, all listening at once. @default ["webrtc"] */
  pages?: readonly PageTransport[];
}): Promise<RunResult> {
  const port = nextPort++;
  const out = path.join(tmp.dir, `out-${port}.wav`);
  const common = ["--model", TINY24, "--cache-dir", path.join(tmp.dir, "cache"), ...(options.key ? ["--key-file", options.key.file] : [])];
  const receive = startCli([
    "receive",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--web",
    "127.0.0.1:0",
    "--output",
    out,
    "--sample-format",
    "f32",
    "--buffer-size",
    options.stream ? "150" : "4", // 2 s or 750 ms: room for a loaded machine's scheduling (CI shares 2 cores)
    "--stats",
    "--timeout",
    "60",
    // The receiver warms up the framing it is told (the page warms up both).
    ...(options.stream ? ["--stream"] : ["--overlap", "25"]),
    ...common,
  ]);
  const opened: { page: Page; errors: string[] }[] = [];
  const proxy = options.drop ? await startLossyProxy(port, options.drop) : undefined;
  try {
    const url = (await receive.waitFor(/web receiver at (\S+)/))[1]!;
    const transports = options.pages ?? ["webrtc"];
    for (const transport of transports) opened.push(await openPage(url, transport, options.key));
    const send = startCli([
      "send",
      "--input",
      path.join(tmp.dir, `in${options.seconds}.wav`),
      "--ip",
      "127.0.0.1",
      "--port",
      String(proxy?.port ?? port),
      "--bandwidth",
      "6",
      ...(options.stream ? ["--stream"] : ["--overlap", "25"]),
      ...(options.lm ? [] : ["--no-lm"]),
      ...common,
    ]);
    const sent = await send.exited;
    expect(sent.code, sent.stderr).toBe(0);
    const received = await receive.exited;
    expect(received.code, received.stderr).toBe(0);
    const summary = parseReceiveSummary(received.stderr);
    const pages: PageResult[] = [];
    for (const [i, { page, errors }] of opened.entries()) {
      // The page plays in real time behind the relay: wait until its worklet has played it all.
      await page
        .waitForFunction(
          (samples) => {
            const e = (window as unknown as EncstreamWindow).encstream;
            return e.stats?.samplesOut === samples && e.worklet?.playedSamples === samples && !e.worklet.playing;
          },
          summary.samples,
          { timeout: 60_000 },
        )
        .catch(async (error: unknown) => {
          // Say where the page stood, next to what the relay-side receiver counted.
          const state = await page.evaluate(() => {
            const e = (window as unknown as EncstreamWindow).encstream;
            return JSON.stringify({ stats: e.stats, worklet: e.worklet, transport: e.transport, note: e.transportNote, paths: e.transportStats, status: (e as unknown as { status: string }).status });
          });
          throw new Error(`page ${i} did not play the stream out: ${state}; receiver: ${JSON.stringify(summary)}\n${received.stderr}`, { cause: error });
        });
      await page.waitForTimeout(300); // two stats periods: the shown figures are the final ones
      const got = await page.evaluate(() => {
        const e = (window as unknown as EncstreamWindow).encstream;
        const tapped: number[] = [];
        for (const part of e.tapped) for (const v of part[0]!) tapped.push(v);
        const shown: Record<string, string> = {};
        for (const cell of document.querySelectorAll("[data-stat]")) shown[(cell as HTMLElement).dataset.stat!] = cell.textContent ?? "";
        return { stats: e.stats!, worklet: e.worklet!, tapped, shown, paths: e.transportStats! };
      });
      expect(errors).toEqual([]);
      pages.push({
        tapped: Float32Array.from(got.tapped),
        pageStats: got.stats,
        shown: got.shown,
        worklet: got.worklet,
        transport: transports[i]!,
        onWebSocket: got.paths.onWebSocket,
        onDataChannel: got.paths.onDataChannel,
      });
    }
    return { ...pages[0]!, pages, wav: readWav(out).data[0]!, summary, dropped: proxy?.dropped ?? new Set() };
  } finally {
    proxy?.close();
    receive.kill();
    for (const { page } of opened) await page.close();
  }
}

/** Largest |a − b| outside the sample ranges `skip` covers. */
function maxDiffOutside(a: Float32Array, b: Float32Array, skip: readonly (readonly [number, number])[]): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    if (skip.some(([from, to]) => i >= from && i < to)) continue;
    max = Math.max(max, Math.abs(a[i]! - b[i]!));
  }
  return max;
}

/** Every page's statistics equal the relay-side receiver's, and each got every datagram on the path it was on. */
function expectStatsEqual(r: RunResult): void {
  const s = r.summary;
  for (const p of r.pages) {
    expect(p.pageStats).toMatchObject({
      datagrams: s.datagrams,
      played: s.played,
      concealed: s.concealed,
      lost: s.lost,
      late: s.late,
      undecodable: s.undecodable,
      samplesOut: s.samples,
    });
    // What the page shows is what it computed.
    expect(p.shown).toMatchObject({ datagrams: String(s.datagrams), played: String(s.played), concealed: String(s.concealed), lost: String(s.lost), late: String(s.late) });
    // Every datagram on the path the page was on (the relay has gone when this is read).
    if (p.transport === "webrtc") expect({ onDataChannel: p.onDataChannel, onWebSocket: p.onWebSocket }).toEqual({ onDataChannel: s.datagrams, onWebSocket: 0 });
    else expect({ onDataChannel: p.onDataChannel, onWebSocket: p.onWebSocket }).toEqual({ onDataChannel: 0, onWebSocket: s.datagrams });
  }
}

describe("web receiver in Chromium, fed by encstream send → receive --web (WebRTC data channel unless said)", () => {
  test("clean 10 s, chunked: plays what `encstream receive` wrote, 0 underruns, 0 concealed; stats equal the relay's", async () => {
    const r = await runStream({ seconds: 10, stream: false, lm: false });
    expect(r.wav.length).toBe(240_000);
    expect(r.tapped.length).toBe(r.wav.length);
    expect(maxDiffOutside(r.tapped, r.wav, [])).toBeLessThanOrEqual(1e-5);
    expect(r.summary.concealed).toBe(0);
    expect(r.worklet).toMatchObject({ underruns: 0, driftSamples: 0, overflowSamples: 0 });
    expect(r.shown.underruns).toBe("0");
    expectStatsEqual(r);
  });

  test.each([
    { stream: true, lm: false },
    { stream: false, lm: true },
    { stream: true, lm: true },
  ])("3 s, stream=$stream lm=$lm: the page's samples equal the WAV within 1e-5", async ({ stream, lm }) => {
    // Every mode runs over the data channel (the WebSocket fallback has its own test below).
    const r = await runStream({ seconds: 3, stream, lm, pages: ["webrtc"] });
    expectStatsEqual(r);
    expect(r.summary.concealed).toBe(0);
    expect(r.wav.length).toBe(72_000);
    expect(r.tapped.length).toBe(r.wav.length);
    // The samples played equal the WAV even if the device ran dry for a moment (an underrun only
    // delays what follows); 0 underruns is required of the clean 10 s run above.
    expect(maxDiffOutside(r.tapped, r.wav, [])).toBeLessThanOrEqual(1e-5);
  });

  test("an encrypted stream (--key-file): with the key typed in the page it plays what `encstream receive` wrote", async () => {
    const r = await runStream({ seconds: 3, stream: false, lm: false, key: writeKey(7) });
    expectStatsEqual(r);
    expect(r.summary.concealed).toBe(0);
    expect(r.summary.played).toBeGreaterThan(0);
    expect(r.wav.length).toBe(72_000);
    expect(r.tapped.length).toBe(r.wav.length);
    expect(maxDiffOutside(r.tapped, r.wav, [])).toBeLessThanOrEqual(1e-5);
  });

  test("two pages at once, one on the data channel and one forced onto the WebSocket fallback: both play what `encstream receive` wrote", async () => {
    const r = await runStream({ seconds: 3, stream: false, lm: false, pages: ["webrtc", "websocket"] });
    expectStatsEqual(r);
    expect(r.summary.concealed).toBe(0);
    expect(r.wav.length).toBe(72_000);
    for (const p of r.pages) {
      expect(p.tapped.length).toBe(r.wav.length);
      expect(maxDiffOutside(p.tapped, r.wav, [])).toBeLessThanOrEqual(1e-5);
    }
  });

  test("10 % loss on the path (stream mode): the page conceals exactly the lost frames, as the relay does", async () => {
    const r = await runStream({ seconds: 3, stream: true, lm: false, drop: (seq) => seq % 10 === 5, pages: ["webrtc"] });
    const lost = [...r.dropped].sort((a, b) => a - b);
    expect(lost.length).toBe(22); // frames 5, 15, ..., 215 of 225
    expect(r.summary).toMatchObject({ lost: lost.length, concealed: lost.length });
    expectStatsEqual(r);
    expect(r.tapped.length).toBe(r.wav.length);
    // Outside the concealed frames (and the frame after each, whose decoder state differs), equal.
    const skip = lost.map((seq) => [seq * 320, (seq + 2) * 320] as const);
    expect(maxDiffOutside(r.tapped, r.wav, skip)).toBeLessThanOrEqual(1e-5);
  });
});
