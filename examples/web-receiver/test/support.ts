// Real processes, sockets, files and Chromium for the web receiver's end-to-end tests.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const exampleDir = path.resolve(here, "..");
/** The codec's copies of the reference vectors and test audio (tiny models, test_24k.wav). */
export const FIXTURES = path.resolve(exampleDir, "../../packages/codec/test/fixtures");
export const TINY24 = path.join(FIXTURES, "tiny24");
export const BIN = path.join(path.dirname(createRequire(import.meta.url).resolve("@encstream/cli/package.json")), "dist/bin.js");
export const CHROMIUM_PATH = process.env.ENCSTREAM_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium (fresh profile) that may play audio without a click. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found: apt-get install -y chromium (see .ci/system-deps), or set ENCSTREAM_CHROMIUM`);
  const profile = mkdtempSync(path.join(tmpdir(), "encstream-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A temp dir removed by `remove()`. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The first `seconds` of a 16-bit mono WAV (looped when it is shorter), written as a 16-bit mono WAV. */
export function writeWavPrefix(source: string, target: string, seconds: number): void {
  const { rate, data } = readWav(source);
  const src = data[0]!;
  const n = Math.round(seconds * rate);
  const body = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) body.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(src[i % src.length]! * 32768))), i * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + body.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(body.length, 40);
  writeFileSync(target, Buffer.concat([header, body]));
}

/** A PCM16 or float32 WAV as planar float32 (chunks walked; enough for the files these tests write). */
export function readWav(file: string): { rate: number; data: Float32Array[] } {
  const b = readFileSync(file);
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE") throw new Error(`${file}: not a WAV file`);
  let at = 12;
  let format = 0;
  let channels = 0;
  let rate = 0;
  let bits = 0;
  while (at + 8 <= b.length) {
    const id = b.toString("ascii", at, at + 4);
    let size = b.readUInt32LE(at + 4);
    if (id === "fmt ") {
      format = b.readUInt16LE(at + 8);
      channels = b.readUInt16LE(at + 10);
      rate = b.readUInt32LE(at + 12);
      bits = b.readUInt16LE(at + 22);
      if (format === 0xfffe) format = b.readUInt16LE(at + 32);
    } else if (id === "data") {
      size = Math.min(size, b.length - at - 8);
      const frames = Math.floor(size / ((bits / 8) * channels));
      const data = Array.from({ length: channels }, () => new Float32Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < channels; c++) {
          const o = at + 8 + (i * channels + c) * (bits / 8);
          data[c]![i] = format === 3 ? b.readFloatLE(o) : b.readInt16LE(o) / 32768;
        }
      }
      return { rate, data };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** A running `encstream` process. */
export interface CliProcess {
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  readonly stderr: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  kill(): void;
}

/** Starts `node packages/cli/dist/bin.js ...args`. */
export function startCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) {
      const m = w.pattern.exec(stderr);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return {
    exited,
    stderr: () => stderr,
    waitFor: (pattern, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const m = pattern.exec(stderr);
        if (m) return resolve(m);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (x) => (clearTimeout(timer), resolve(x)) });
        void exited.then(({ code }) => reject(new Error(`process exited (${code}) before ${pattern}:\n${stderr}`)));
      }),
    kill: () => void child.kill("SIGTERM"),
  };
}

/** The receiver's `--stats` summary figures. */
export interface ReceiveSummary {
  datagrams: number;
  played: number;
  concealed: number;
  lost: number;
  late: number;
  undecodable: number;
  underruns: number;
  samples: number;
}

/** Parses `receive: summary` (see the cli's stats-format.ts). */
export function parseReceiveSummary(stderr: string): ReceiveSummary {
  const num = (re: RegExp): number => {
    const m = re.exec(stderr);
    if (!m) throw new Error(`no ${re} in the receive summary:\n${stderr}`);
    return Number(m[1]);
  };
  return {
    datagrams: num(/datagrams (\d+) received/),
    played: num(/frames (\d+) played/),
    concealed: num(/(\d+) concealed/),
    lost: num(/(\d+) lost \(/),
    late: num(/(\d+) late,/),
    undecodable: num(/(\d+) undecodable/),
    underruns: num(/(\d+) underruns/),
    samples: num(/\((\d+) samples at/),
  };
}

/**
 * A UDP proxy on loopback that forwards to `port`, dropping every datagram of the units `drop(seq)`
 * names (the seed header's seq_num, the first 4 bytes big-endian), so exactly those units are lost;
 * what the receiver sends back (its reports) goes to the sender untouched.
 */
export async function startLossyProxy(port: number, drop: (seq: number) => boolean): Promise<{ port: number; dropped: Set<number>; close: () => void }> {
  const socket = createSocket("udp4");
  const dropped = new Set<number>();
  let sender: { address: string; port: number } | undefined;
  socket.on("message", (msg, from) => {
    if (from.port === port) {
      // From the receiver (its reports): back to the sender, untouched and not counted.
      if (sender !== undefined) socket.send(msg, sender.port, sender.address);
      return;
    }
    sender = { address: from.address, port: from.port };
    if (msg.length >= 24 && drop(msg.readUInt32BE(0))) {
      dropped.add(msg.readUInt32BE(0));
      return;
    }
    socket.send(msg, port, "127.0.0.1");
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, dropped, close: () => socket.close() };
}
