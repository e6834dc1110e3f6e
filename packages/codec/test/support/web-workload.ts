// One workload run twice, on onnxruntime-web in Node and in Chromium, whose outputs must be bit-identical.
// Browser-safe: only the web entry and the core, no Node built-ins.
import { createStreamDecoder, createStreamEncoder, LmStreamDecoder } from "../../src/index.js";
import { loadEncodec, loadLmWeightsWeb, loadStreamingCodec, type LoadEncodecWebOptions } from "../../src/web.js";

/** What the workload gets: model folder URLs (relative ones are resolved by the loaders) and the inputs. */
export interface WorkloadInput {
  readonly tiny24Url: string;
  readonly tiny48Url: string;
  readonly lmUrl: string;
  /** Mono 24 kHz audio to stream-encode and decode. */
  readonly audio: readonly number[];
  /** tiny48 codes of segment 0 at 6 kbps ([K × F], codebook-major) and its scale. */
  readonly codes48: readonly number[];
  readonly numCodebooks48: number;
  readonly numFrames48: number;
  readonly scale48: number | null;
  /** LM-coded stream payloads of 4-codebook (3 kbps) frames, written in Node. */
  readonly lmPayloads: readonly (readonly number[])[];
}

/** What comes back: every number the runtime computed. */
export interface WorkloadOutput {
  readonly streamCodes: number[];
  readonly streamAudio: number[];
  readonly offline48: number[][];
  readonly lmCodes: number[];
  readonly timingsMs: { readonly loadStreaming: number; readonly loadOffline: number };
}

/** Stream-encodes and decodes `audio` on tiny24 at 6 kbps, decodes a tiny48 segment, LM-decodes the payloads. */
export async function runWebWorkload(input: WorkloadInput, options: LoadEncodecWebOptions): Promise<WorkloadOutput> {
  let t0 = performance.now();
  const codec = await loadStreamingCodec({ url: input.tiny24Url }, options);
  const loadStreaming = performance.now() - t0;
  const encoder = await createStreamEncoder(codec, { bandwidthKbps: 6 });
  const decoder = createStreamDecoder(codec);
  const audio = Float32Array.from(input.audio);
  const streamCodes: number[] = [];
  const streamAudio: number[] = [];
  const hop = codec.hopLengthSamples;
  const take = (out: Float32Array[]) => {
    for (const v of out[0] ?? []) streamAudio.push(v);
  };
  for (let i = 0; i < audio.length; i += 4 * hop) {
    for (const frame of await encoder.push([audio.subarray(i, Math.min(audio.length, i + 4 * hop))])) {
      streamCodes.push(...frame.codes);
      take(await decoder.push(frame));
    }
  }
  for (const frame of await encoder.end()) {
    streamCodes.push(...frame.codes);
    take(await decoder.push(frame));
  }
  take(await decoder.end());
  await codec.release();

  t0 = performance.now();
  const model48 = await loadEncodec({ url: input.tiny48Url }, options);
  const loadOffline = performance.now() - t0;
  const out48 = await model48.decodeSegment({
    codes: Uint16Array.from(input.codes48),
    numCodebooks: input.numCodebooks48,
    numFrames: input.numFrames48,
    scale: input.scale48,
  });
  await model48.release();

  const lm = await loadLmWeightsWeb({ url: input.lmUrl }, options);
  const lmDecoder = new LmStreamDecoder(lm!, 4);
  const lmCodes: number[] = [];
  for (const p of input.lmPayloads) {
    const r = lmDecoder.decode(Uint8Array.from(p), 1);
    if (r.kind !== "decoded") throw new Error(`LM payload: ${r.kind}`);
    lmCodes.push(...r.codes);
  }
  return { streamCodes, streamAudio, offline48: out48.map((c) => [...c]), lmCodes, timingsMs: { loadStreaming, loadOffline } };
}
