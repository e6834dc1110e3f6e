import { createSocket } from "node:dgram";
import { join } from "node:path";
import type { EncodecModel, StreamingCodec } from "@encstream/codec";
import { loadEncodec } from "@encstream/codec/node";
import { encodePacket } from "@encstream/packet";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readWavFile } from "../../src/audio/wav-input.js";
import { makeTempDir, seededRandom } from "../helpers.js";
import { CliProcess, cleanupCli, parseReceiveSummary, prepareCli, startReceiver } from "./support/cli-process.js";
import { SPEECH_24K, SPEECH_48K, TINY24_DIR, TINY48_DIR, loadStreaming, writeInputWav } from "./support/fixtures.js";
import { decodeStream, encodeChunks, encodeStream, firstDifference, joinChunks } from "./support/reference.js";

/*
 * What the outside world can do to a running stream, with real processes on loopback: junk
 * datagrams at the receiver, a stream of the wrong model, a sender stopped with Ctrl-C, a sender
 * killed and restarted, a receiver stopped with Ctrl-C.
 */

let dir: string;
let cache: string;
let input: string;
let model: EncodecModel;
let streaming: StreamingCodec;
let audio: Float32Array[];
const CHUNKED = { chunkSamples: 6000, overlapRatio: 0.25, bandwidthKbps: 6 };

beforeAll(async () => {
  await prepareCli();
  dir = await makeTempDir("e2e-robust");
  cache = join(dir, "cache");
  input = join(dir, "in.wav");
  // Long enough that a sender is still mid-stream when a test stops it after its first second.
  await writeInputWav(input, SPEECH_24K, 6, 3);
  model = await loadEncodec(TINY24_DIR, { cacheDir: cache });
  streaming = await loadStreaming(TINY24_DIR, cache);
  audio = (await readWavFile(input, { sampleRateHz: 24_000, channels: 1 })).audio;
});

afterAll(async () => {
  await cleanupCli();
  await Promise.all([model?.release(), streaming?.release()]);
});

const common = () => ["--model", TINY24_DIR, "--cache-dir", cache];

/** Junk for a receiver, each kind of datagram it must count as malformed and drop. */
function junkDatagrams(seed: number, count: number): Uint8Array[] {
  const random = seededRandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    if (kind === 0) {
      // random bytes, any length from 0 to 300 (a random 24-byte header has has_overlap ∉ {0, 1})
      out.push(Uint8Array.from({ length: Math.floor(random() * 301) }, () => Math.floor(random() * 256)));
    } else if (kind === 1) {
      // a valid header whose payload is shorter than its total_length says
      const d = encodePacket({ seqNum: i, totalLength: 100, hasOverlap: false, fragId: 1, totalFrags: 1, fragIndex: 0 }, new Uint8Array(100));
      out.push(d.subarray(0, 24 + 50));
    } else if (kind === 2) {
      // a fragment of a 4 GiB message (total_length 2^32 − 1)
      const header = new Uint8Array(24 + 100);
      const view = new DataView(header.buffer);
      view.setUint32(0, i);
      view.setUint32(4, 0xffff_ffff);
      view.setUint32(12, 0xdead_0000 + i);
      view.setUint32(16, 3);
      out.push(header);
    } else if (kind === 3) {
      // fewer than 24 bytes
      out.push(new Uint8Array(Math.floor(random() * 24)));
    } else {
      // a well-formed packet whose message is no frame payload (version 9)
      out.push(encodePacket({ seqNum: 5, totalLength: 12, hasOverlap: false, fragId: 0x7777_0000 + i, totalFrags: 1, fragIndex: 0 }, Uint8Array.from([9, ...new Uint8Array(11)])));
    }
  }
  return out;
}

/**
 * The sender's `--stats` line once at least 1.0 s of the input has been sent and some is still to
 * send (`send: 1.4/6.0 s (23 %) …`; not the last line, `6.0/6.0 s (100 %)`).
 */
const SENT_ONE_SECOND = /send: [1-9]\d*\.\d\/\d+\.\d s \([1-9]?\d %\)/;

describe.concurrent("a stream survives the outside world", () => {
  test("junk datagrams (random bytes, wrong lengths, huge total_length, bad payloads) are counted, dropped, and change nothing", async () => {
    const output = join(dir, "junk.wav");
    const { receiver, port } = await startReceiver([...common(), "--stream", "--output", output, "--sample-format", "f32", "--stats", "--timeout", "10", "--buffer-size", "16"]);
    const sender = await CliProcess.start(["send", ...common(), "--input", input, "--port", String(port), "--stream", "--no-lm", "--bandwidth", "6"]);
    const junk = junkDatagrams(3, 200);
    const socket = createSocket("udp4");
    for (const datagram of junk) {
      await new Promise<void>((resolve, reject) => socket.send(datagram, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())));
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    socket.close();
    expect(await sender.finish(), sender.stderr).toBe(0);
    expect(await receiver.finish(), receiver.stderr).toBe(0);
    const summary = parseReceiveSummary(receiver.stderr);
    expect(summary.malformed).toBe(junk.length);
    expect(summary).toMatchObject({ lost: 0, concealed: 0 });
    const wav = await readWavFile(output);
    const reference = await decodeStream(streaming, await encodeStream(streaming, audio, 6), { length: audio[0]!.length });
    expect(firstDifference(wav.audio, reference)).toBe(-1);
  });

  test("a 48 kHz stream at a receiver loaded with the 24 kHz model is ignored with a clear note, never fatal", async () => {
    const in48 = join(dir, "in48.wav");
    await writeInputWav(in48, SPEECH_48K, 1);
    const { receiver, port } = await startReceiver([...common(), "--output", join(dir, "mismatch.wav"), "--timeout", "8", "--stats"]);
    const sender = await CliProcess.start(["send", "--model", TINY48_DIR, "--cache-dir", cache, "--input", in48, "--port", String(port), "--no-lm"]);
    expect(await sender.finish()).toBe(0);
    // Ignored, not fatal: the receiver keeps listening, and ends at --timeout having had no stream
    // it can play, which it reports as an error (exit 1, no WAV), as for no datagrams at all.
    expect(await receiver.finish(), receiver.stderr).toBe(1);
    expect(receiver.stderr).toMatch(/none of them a valid stream .* in 8 s \(--timeout\)/);
    expect(receiver.stderr).toMatch(/ignoring stream [0-9a-f]{4} from 127\.0\.0\.1:\d+: it carries 48 kHz stereo EnCodec codes, and the loaded model is 24 kHz with 1 channel\(s\) \(receive with the 48 kHz model\)/);
    expect(parseReceiveSummary(receiver.stderr)).toMatchObject({ played: 0, samples: 0 });
    expect(parseReceiveSummary(receiver.stderr).mismatched).toBeGreaterThan(0);
  });

  test("Ctrl-C at the sender ends the stream: the receiver exits by itself with exactly what was sent", async () => {
    const output = join(dir, "stopped.wav");
    const { receiver, port } = await startReceiver([...common(), "--output", output, "--sample-format", "f32", "--timeout", "10", "--buffer-size", "2"]);
    const sender = await CliProcess.start(["send", ...common(), "--input", input, "--port", String(port), "--no-lm", "--bandwidth", "6", "--stats"]);
    // A second of audio sent (not a second of wall time: a loaded machine may still be starting).
    await sender.waitForStderr(SENT_ONE_SECOND, 40_000);
    sender.kill("SIGINT");
    expect(await sender.finish()).toBe(130);
    expect(await receiver.finish(), receiver.stderr).toBe(0);
    const wav = await readWavFile(output);
    const length = wav.audio[0]!.length;
    expect(length).toBeGreaterThanOrEqual(12_000);
    expect(length).toBeLessThan(audio[0]!.length);
    // The sender cut its last chunk where it stopped; offline, the same prefix gives the same chunks.
    const prefix = [audio[0]!.slice(0, length)];
    const reference = joinChunks(1, await encodeChunks(model, prefix, CHUNKED), { ...CHUNKED, length });
    expect(firstDifference(wav.audio, reference)).toBe(-1);
  });

  test("a sender killed mid-stream and started again: the receiver ends the first stream and follows the second", async () => {
    const output = join(dir, "restart.wav");
    // --stream-idle longer than the second sender can take to start on a loaded machine: the first
    // stream must be replaced by the second (the takeover), not ended alone by its silence.
    const { receiver, port } = await startReceiver([...common(), "--output", output, "--sample-format", "f32", "--stats", "--timeout", "10", "--buffer-size", "2", "--stream-idle", "8"]);
    const first = await CliProcess.start(["send", ...common(), "--input", input, "--port", String(port), "--no-lm", "--bandwidth", "6", "--stats"]);
    await first.waitForStderr(SENT_ONE_SECOND, 40_000);
    first.kill("SIGKILL"); // no end-of-stream message
    await first.finish();
    const second = await CliProcess.start(["send", ...common(), "--input", input, "--port", String(port), "--no-lm", "--bandwidth", "6"]);
    expect(await second.finish(), second.stderr).toBe(0);
    expect(await receiver.finish(), receiver.stderr).toBe(0);
    expect(receiver.stderr).toMatch(/stream [0-9a-f]{4} replaces stream [0-9a-f]{4} \(silent for \d+ ms\)/);
    expect(receiver.stderr).toMatch(/2 stream\(s\)/);
    const wav = await readWavFile(output);
    const total = wav.audio[0]!.length;
    // The second stream is whole, aligned and exact at the end of the file.
    const tail = [wav.audio[0]!.slice(total - audio[0]!.length)];
    const reference = joinChunks(1, await encodeChunks(model, audio, CHUNKED), { ...CHUNKED, length: audio[0]!.length });
    expect(total).toBeGreaterThan(audio[0]!.length);
    expect(firstDifference(tail, reference)).toBe(-1);
  });

  test("Ctrl-C at the receiver finalises a valid WAV of what it received", async () => {
    const output = join(dir, "interrupted.wav");
    const { receiver, port } = await startReceiver([...common(), "--output", output, "--sample-format", "f32", "--timeout", "10", "--buffer-size", "2", "--stats"]);
    const sender = await CliProcess.start(["send", ...common(), "--input", input, "--port", String(port), "--no-lm", "--bandwidth", "6", "--stats"]);
    // Once the receiver itself has written half a second (its --stats line), while the rest of the
    // 6 s stream is still to come: what it received must be in the file, and no more.
    await receiver.waitForStderr(/receive: (?:0\.[5-9]|[1-9]\d*\.\d) s \|/, 40_000);
    receiver.kill("SIGINT");
    expect(await receiver.finish()).toBe(130);
    expect(await sender.finish()).toBe(0);
    const wav = await readWavFile(output);
    const length = wav.audio[0]!.length;
    expect(length).toBeGreaterThan(12_000);
    expect(length).toBeLessThan(audio[0]!.length);
    const reference = joinChunks(1, await encodeChunks(model, audio, CHUNKED), { ...CHUNKED, length: audio[0]!.length });
    // Everything written but the last chunk's tail (flushed as it was, without the next chunk's
    // crossfade) equals the whole stream's output.
    const settled = length - 1500;
    expect(firstDifference([wav.audio[0]!.slice(0, settled)], [reference[0]!.slice(0, settled)])).toBe(-1);
  });
});
