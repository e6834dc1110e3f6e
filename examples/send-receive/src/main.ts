/**
 * Send a WAV file over loopback UDP to a receiver in the same process, using the encstream
 * packages directly, the way an application would:
 *
 *   sender:   WAV → Chunker (@encstream/ola) → encodeChunk → encodePayload (@encstream/codec)
 *             → splitIntoFragments (@encstream/packet) → UdpSender.sendFrame, paced at real time
 *   receiver: UdpReceiver (@encstream/transport-udp) → Reassembler (@encstream/packet)
 *             → JitterBuffer (@encstream/jitter), popped once per chunk hop
 *             → decodePayload → decodeChunk → OverlapAdd (@encstream/ola) → out.wav
 *
 * Usage: tsx src/main.ts [--input in.wav] [--model dir] [--out out.wav] [--seconds s]
 *   --input   a 16-bit WAV at the model's rate and channel count (default: the codec's 24 kHz test speech)
 *   --model   a model folder with config.json + model.safetensors (default: the codec's tiny test model)
 *   --out     where to write what was received (default: out.wav)
 *   --seconds send only the first s seconds (default: all)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeChunk, decodePayload, encodeChunk, encodePayload, parsePayloadHeader, payloadModelKindOf } from "@encstream/codec";
import { loadEncodec } from "@encstream/codec/node";
import { JitterBuffer } from "@encstream/jitter";
import { Chunker, OverlapAdd } from "@encstream/ola";
import { Reassembler, splitIntoFragments } from "@encstream/packet";
import { UdpReceiver, UdpSender } from "@encstream/transport-udp";
import wavefile from "wavefile";

const fixtures = fileURLToPath(new URL("../../../packages/codec/test/fixtures/", import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const inputPath = arg("input", `${fixtures}audio/test_24k.wav`);
const modelDir = arg("model", `${fixtures}tiny24`);
const outPath = arg("out", "out.wav");
const seconds = Number(arg("seconds", "Infinity"));

const CHUNK_MS = 250;
const OVERLAP_RATIO = 0.25;
const BANDWIDTH_KBPS = 6;
const PREFILL_CHUNKS = 2;

// ---- the input and the model ----
const model = await loadEncodec(modelDir);
const wav = new wavefile.WaveFile(readFileSync(inputPath));
const format = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
if (format.sampleRate !== model.sampleRateHz || format.numChannels !== model.channels || format.bitsPerSample !== 16) {
  throw new Error(`${inputPath}: expected 16-bit ${model.sampleRateHz} Hz × ${model.channels}, got ${format.bitsPerSample}-bit ${format.sampleRate} Hz × ${format.numChannels}`);
}
const raw = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
const planar = (Array.isArray(raw) ? raw : [raw]).map((ch) => Float32Array.from(ch.subarray(0, Math.min(ch.length, seconds * model.sampleRateHz)), (v) => v / 32768));
const chunkSamples = Math.round((CHUNK_MS * model.sampleRateHz) / 1000);
const modelKind = payloadModelKindOf(model.config);

// ---- the receiver ----
const receiver = await UdpReceiver.bind({ address: "127.0.0.1", port: 0 });
const reassembler = new Reassembler();
const ola = new OverlapAdd({ channels: model.channels, chunkSamples, overlapRatio: OVERLAP_RATIO });
const hopMs = (ola.hopSamples / model.sampleRateHz) * 1000;
const jitter = new JitterBuffer<Uint8Array>({ capacity: 16, prefillFrames: PREFILL_CHUNKS, frameDurationMs: hopMs });
const received: Float32Array[][] = [];
let endSeq: number | undefined;
let lastArrivalMs = 0;

const receiving = (async () => {
  for await (const datagram of receiver) {
    lastArrivalMs = datagram.receivedAtMs;
    const result = reassembler.push(datagram.bytes, datagram.receivedAtMs);
    if (result.status !== "complete") continue;
    const header = parsePayloadHeader(result.message.payload); // the stream says when it ends
    if (header.endOfStream) endSeq = result.message.seq;
    jitter.push(result.message.seq, result.message.payload, datagram.receivedAtMs);
  }
})();

const playing = (async () => {
  // One pop per chunk hop once the jitter buffer has its prefill; drain at the end of the stream.
  for (;;) {
    const popped = jitter.pop({ draining: endSeq !== undefined });
    if (popped.kind === "frame") {
      const payload = decodePayload(popped.frame);
      const audio = await decodeChunk(model, { codes: payload.codes!, numCodebooks: payload.numCodebooks, numFrames: payload.numFrames, lengthSamples: payload.lengthSamples, scale: payload.scale });
      received.push(ola.push(audio, { hasOverlap: popped.seq > 0 }));
    } else if (popped.kind === "missing") {
      received.push(ola.pushMissing());
    }
    if (popped.kind !== "empty" && popped.seq === endSeq) break;
    if (popped.kind === "empty" && lastArrivalMs > 0 && performance.now() - lastArrivalMs > 2000) break; // the end never came
    await new Promise((resolve) => setTimeout(resolve, popped.kind === "empty" ? 5 : hopMs));
  }
  received.push(ola.flush());
})();

// ---- the sender ----
const sender = await UdpSender.open({ address: "127.0.0.1", port: receiver.port });
const chunker = new Chunker({ chunkSamples, overlapRatio: OVERLAP_RATIO });
const chunks = [...chunker.push(planar), ...chunker.end()];
for (const [i, chunk] of chunks.entries()) {
  const encoded = await encodeChunk(model, chunk.samples, { bandwidthKbps: BANDWIDTH_KBPS });
  const payload = encodePayload({ modelKind, mode: "chunked", ...encoded, firstOfStream: i === 0, endOfStream: i === chunks.length - 1 });
  await sender.sendFrame(splitIntoFragments(payload, { seq: chunk.index, fragId: chunk.index, hasOverlap: chunk.hasOverlap }), hopMs);
}

await playing;
await sender.close();
await receiver.close();
await receiving;

// ---- the output and what happened ----
const length = received.reduce((n, part) => n + part[0]!.length, 0);
const out = Array.from({ length: model.channels }, (_, c) => {
  const channel = new Int16Array(length);
  let at = 0;
  for (const part of received) for (const v of part[c]!) channel[at++] = Math.max(-32768, Math.min(32767, Math.round(v * 32768)));
  return channel;
});
const result = new wavefile.WaveFile();
result.fromScratch(model.channels, model.sampleRateHz, "16", out.length === 1 ? out[0]! : out);
writeFileSync(outPath, result.toBuffer());
const j = jitter.stats;
console.log(
  `sent ${chunks.length} chunks in ${sender.stats.datagramsSent} datagrams; received ${receiver.stats.datagramsReceived}, ` +
    `${j.delivered} chunks played, ${j.lost} lost, jitter ${(j.jitterMs ?? 0).toFixed(2)} ms; ` +
    `wrote ${outPath}: ${length} samples (input ${planar[0]!.length})`,
);
await model.release();
