// The worker thread of @encstream/codec/node's worker codecs: loads the model given in
// `workerData`, then runs one stream encoder, one stream decoder or one chunk coder on the
// requests of its parent, one at a time and in order, and replies with transferred buffers.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { loadEncodec } from "../node/encodec-node.js";
import type { EncodecModel } from "../runtime/encodec-model.js";
import { decodeChunk, encodeChunk } from "../streaming/chunk-codec.js";
import { SerialQueue } from "../streaming/internal/codec-internals.js";
import { loadStreamingCodec } from "../streaming/node/load-streaming-codec.js";
import { createStreamDecoder, type StreamDecoder } from "../streaming/stream-decoder.js";
import { createStreamEncoder, type StreamEncoder } from "../streaming/stream-encoder.js";
import type { StreamFrame } from "../streaming/stream-types.js";
import type { StreamingCodec } from "../streaming/streaming-codec.js";
import { buffersOf, serializeError, type PackedFrames, type WorkerInit, type WorkerReady, type WorkerRequest } from "./worker-protocol.js";

const port = parentPort;
if (port === null) throw new Error("codec-worker.js runs as a worker thread (see createWorkerStreamEncoder)");
const init = workerData as WorkerInit;

interface Loaded {
  readonly ready: WorkerReady;
  readonly handle: (request: WorkerRequest) => Promise<{ value: unknown; transfer: ArrayBuffer[] }>;
  readonly release: () => Promise<void>;
}

function packFrames(frames: readonly StreamFrame[], numCodebooks: number): { value: PackedFrames; transfer: ArrayBuffer[] } {
  const codes = new Uint16Array(frames.length * numCodebooks);
  const indices = new Int32Array(frames.length);
  const lengths = new Int32Array(frames.length);
  frames.forEach((f, j) => {
    codes.set(f.codes, j * numCodebooks);
    indices[j] = f.index;
    lengths[j] = f.lengthSamples;
  });
  return { value: { codes, indices, lengths, numCodebooks }, transfer: [codes.buffer, indices.buffer, lengths.buffer] };
}

function audioReply(audio: Float32Array[]): { value: Float32Array[]; transfer: ArrayBuffer[] } {
  // Arrays that are views of a larger buffer are copied so that only their own samples travel.
  const owned = audio.map((ch) => (ch.byteOffset === 0 && ch.byteLength === ch.buffer.byteLength ? ch : ch.slice()));
  return { value: owned, transfer: buffersOf(owned) };
}

function unexpected(op: string): never {
  throw new TypeError(`codec worker (${init.role.kind}): unexpected request ${op}`);
}

function streamReady(codec: StreamingCodec, startupFrames: number, numCodebooks: number): WorkerReady {
  return {
    config: codec.config,
    sampleRateHz: codec.sampleRateHz,
    channels: codec.channels,
    hopSamples: codec.hopLengthSamples,
    numQuantizers: codec.numQuantizers,
    codebookSize: codec.codebookSize,
    bandwidthsKbps: [...codec.bandwidthsKbps],
    normalize: codec.config.normalize,
    startupFrames,
    numCodebooks,
  };
}

async function load(): Promise<Loaded> {
  const role = init.role;
  if (role.kind === "chunk-coder") {
    const model: EncodecModel = await loadEncodec(init.spec, init.load);
    return {
      ready: {
        config: model.config,
        sampleRateHz: model.sampleRateHz,
        channels: model.channels,
        hopSamples: model.hopLengthSamples,
        numQuantizers: model.numQuantizers,
        codebookSize: model.codebookSize,
        bandwidthsKbps: [...model.bandwidthsKbps],
        normalize: model.config.normalize,
        startupFrames: 0,
        numCodebooks: 0,
      },
      handle: async (r) => {
        if (r.op === "chunk-encode") {
          const chunk = await encodeChunk(model, r.audio, { bandwidthKbps: r.bandwidthKbps });
          return { value: chunk, transfer: [chunk.codes.buffer as ArrayBuffer] };
        }
        if (r.op === "chunk-decode") {
          const { codes, numCodebooks, numFrames, lengthSamples, scale } = r;
          return audioReply(await decodeChunk(model, { codes, numCodebooks, numFrames, lengthSamples, scale }));
        }
        return unexpected(r.op);
      },
      release: () => model.release(),
    };
  }
  const codec = await loadStreamingCodec(init.spec, init.load);
  try {
    if (role.kind === "stream-encoder") {
      const encoder: StreamEncoder = await createStreamEncoder(codec, role);
      const k = encoder.numCodebooks;
      return {
        ready: streamReady(codec, encoder.startupFrames, k),
        handle: async (r) => {
          if (r.op === "encoder-push") return packFrames(await encoder.push(r.audio), k);
          if (r.op === "encoder-end") return packFrames(await encoder.end(), k);
          if (r.op === "reset") {
            encoder.reset();
            return { value: null, transfer: [] };
          }
          return unexpected(r.op);
        },
        release: () => codec.release(),
      };
    }
    const decoder: StreamDecoder = createStreamDecoder(codec, role);
    return {
      ready: streamReady(codec, decoder.startupFrames, 0),
      handle: async (r) => {
        if (r.op === "decoder-push") {
          const { codes, numCodebooks, numFrames, lengthSamples } = r;
          return audioReply(await decoder.push(lengthSamples === undefined ? { codes, numCodebooks, numFrames } : { codes, numCodebooks, numFrames, lengthSamples }));
        }
        if (r.op === "decoder-missing") return audioReply(await decoder.pushMissing(r.count));
        if (r.op === "decoder-end") return audioReply(await decoder.end());
        if (r.op === "reset") {
          decoder.reset();
          return { value: null, transfer: [] };
        }
        return unexpected(r.op);
      },
      release: () => codec.release(),
    };
  } catch (error) {
    await codec.release();
    throw error;
  }
}

async function main(channel: MessagePort): Promise<void> {
  let loaded: Loaded;
  try {
    loaded = await load();
  } catch (error) {
    channel.postMessage({ initError: { id: 0, ok: false, error: serializeError(error) } });
    channel.close();
    return;
  }
  const queue = new SerialQueue();
  channel.on("message", (request: WorkerRequest) => {
    void queue.run(async () => {
      try {
        if (request.op === "close") {
          await loaded.release();
          channel.postMessage({ id: request.id, ok: true, value: null });
          channel.close();
          return;
        }
        const { value, transfer } = await loaded.handle(request);
        channel.postMessage({ id: request.id, ok: true, value }, transfer);
      } catch (error) {
        channel.postMessage({ id: request.id, ok: false, error: serializeError(error) });
      }
    });
  });
  channel.postMessage({ ready: loaded.ready });
}

void main(port);
