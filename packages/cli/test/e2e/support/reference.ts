import { createStreamDecoder, createStreamEncoder, decodeChunk, encodeChunk, type EncodecModel, type StreamFrame, type StreamingCodec } from "@encstream/codec";
import { OverlapAdd, splitIntoChunks, type Chunk } from "@encstream/ola";

/*
 * What the receiver must write, computed offline with the same packages and the same calls the
 * sender and receiver make (one ONNX call per unit, in order), so the comparison is bit-exact.
 * `concealed` lists the units the receiver played as missing.
 */

/** Joins planar pieces end to end, then cuts or zero-pads them to `length`. */
export function joinTo(parts: readonly Float32Array[][], channels: number, length: number): Float32Array[] {
  const out = Array.from({ length: channels }, () => new Float32Array(length));
  let at = 0;
  for (const part of parts) {
    const n = Math.min(part[0]?.length ?? 0, length - at);
    if (n <= 0) continue;
    part.forEach((channel, c) => out[c]!.set(channel.subarray(0, n), at));
    at += n;
  }
  return out;
}

/** The chunks the sender cuts, each encoded and decoded on its own (the wire carries the 48 kHz scale as float32). */
export async function encodeChunks(
  model: EncodecModel,
  audio: readonly Float32Array[],
  options: { readonly chunkSamples: number; readonly overlapRatio: number; readonly bandwidthKbps: number },
): Promise<{ chunks: Chunk[]; decoded: Float32Array[][] }> {
  const chunks = splitIntoChunks(audio, options);
  const decoded: Float32Array[][] = [];
  for (const chunk of chunks) {
    const encoded = await encodeChunk(model, chunk.samples, { bandwidthKbps: options.bandwidthKbps });
    const scale = encoded.scale === null ? null : Math.fround(encoded.scale);
    decoded.push(await decodeChunk(model, { ...encoded, scale }));
  }
  return { chunks, decoded };
}

/** Chunked mode: the decoded chunks joined by overlap-add, `concealed` ones by `pushMissing`. */
export function joinChunks(
  channels: number,
  coded: { chunks: readonly Chunk[]; decoded: readonly Float32Array[][] },
  options: { readonly chunkSamples: number; readonly overlapRatio: number; readonly length: number; readonly concealed?: ReadonlySet<number> },
): Float32Array[] {
  const ola = new OverlapAdd({ channels, chunkSamples: options.chunkSamples, overlapRatio: options.overlapRatio });
  const parts: Float32Array[][] = coded.chunks.map((chunk, k) =>
    options.concealed?.has(k) ? ola.pushMissing() : ola.push(coded.decoded[k]!, { hasOverlap: chunk.hasOverlap }),
  );
  parts.push(ola.flush());
  return joinTo(parts, channels, options.length);
}

/** Stream mode: the frames the sender's stream encoder makes, fed 320 samples at a time as the sender does. */
export async function encodeStream(codec: StreamingCodec, audio: readonly Float32Array[], bandwidthKbps: number): Promise<StreamFrame[]> {
  const encoder = await createStreamEncoder(codec, { bandwidthKbps });
  const frames: StreamFrame[] = [];
  const length = audio[0]!.length;
  for (let at = 0; at < length; at += 320) {
    frames.push(...(await encoder.push(audio.map((channel) => channel.subarray(at, Math.min(length, at + 320))))));
  }
  frames.push(...(await encoder.end()));
  return frames;
}

/** Stream mode: the frames decoded one call each by the stream decoder, `concealed` ones by `pushMissing(1)`. */
export async function decodeStream(
  codec: StreamingCodec,
  frames: readonly StreamFrame[],
  options: { readonly length: number; readonly concealed?: ReadonlySet<number> },
): Promise<Float32Array[]> {
  const decoder = createStreamDecoder(codec);
  const parts: Float32Array[][] = [];
  for (const frame of frames) parts.push(options.concealed?.has(frame.index) ? await decoder.pushMissing(1) : await decoder.push(frame));
  parts.push(await decoder.end());
  return joinTo(parts, codec.channels, options.length);
}

/** Index of the first sample where `a` and `b` differ (any channel), or -1 when they are equal. */
export function firstDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let first = -1;
  a.forEach((channel, c) => {
    const other = b[c]!;
    const n = Math.min(channel.length, other.length);
    for (let i = 0; i < n && (first < 0 || i < first); i++) {
      if (!Object.is(channel[i], other[i]) && channel[i] !== other[i]) {
        first = i;
        break;
      }
    }
    if (channel.length !== other.length && (first < 0 || n < first)) first = n;
  });
  return first;
}
