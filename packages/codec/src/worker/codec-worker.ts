// The worker thread of @encstream/codec/node's worker codecs: loads the model given in
// `workerData` (a streaming codec, or an offline model for chunks), then serves its parent's
// requests one at a time, in order, replying with transferred buffers.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { loadEncodec } from "../node/encodec-node.js";
import { decodeChunk, encodeChunk } from "../streaming/chunk-codec.js";
import { SerialQueue } from "../streaming/internal/codec-internals.js";
import { loadStreamingCodec } from "../streaming/node/load-streaming-codec.js";
import { createStreamDecoder, StreamDecoder } from "../streaming/stream-decoder.js";
import { createStreamEncoder, StreamEncoder } from "../streaming/stream-encoder.js";
import type { StreamFrame } from "../streaming/stream-types.js";
import { buffersOf, serializeError, type PackedFrames, type StreamHandle, type WorkerInit, type WorkerReady, type WorkerRequest } from "./worker-protocol.js";

const port = parentPort;
if (port === null) throw new Error("codec-worker.js runs as a worker thread (see WorkerStreamingCodec.create)");
const init = workerData as WorkerInit;

type Reply = { value: unknown; transfer: ArrayBuffer[] };

interface Loaded {
  readonly ready: WorkerReady;
  readonly handle: (request: WorkerRequest) => Promise<Reply>;
  readonly release: () => Promise<void>;
}

function packFrames(frames: readonly StreamFrame[], numCodebooks: number): Reply {
  const codes = new Uint16Array(frames.length * numCodebooks);
  const indices = new Int32Array(frames.length);
  const lengths = new Int32Array(frames.length);
  frames.forEach((f, j) => {
    codes.set(f.codes, j * numCodebooks);
    indices[j] = f.index;
    lengths[j] = f.lengthSamples;
  });
  const value: PackedFrames = { codes, indices, lengths, numCodebooks };
  return { value, transfer: [codes.buffer, indices.buffer, lengths.buffer] };
}

function audioReply(audio: Float32Array[]): Reply {
  // Arrays that are views of a larger buffer are copied so that only their own samples travel.
  const owned = audio.map((ch) => (ch.byteOffset === 0 && ch.byteLength === ch.buffer.byteLength ? ch : ch.slice()));
  return { value: owned, transfer: buffersOf(owned) };
}

const done = (value: unknown = null): Reply => ({ value, transfer: [] });

function unexpected(op: string): never {
  throw new TypeError(`codec worker (${init.role}): unexpected request ${op}`);
}

async function loadChunkCoder(): Promise<Loaded> {
  const model = await loadEncodec(init.spec, init.load);
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
      encoderStartupFrames: 0,
      decoderStartupFrames: 0,
    },
    handle: async (r) => {
      if (r.op === "chunk-encode") {
        const chunk = await encodeChunk(model, r.audio, { bandwidthKbps: r.bandwidthKbps });
        return { value: chunk, transfer: buffersOf([chunk.codes]) };
      }
      if (r.op === "chunk-decode") {
        const { codes, numCodebooks, numFrames, lengthSamples, scale, frameCodebooks } = r;
        return audioReply(await decodeChunk(model, { codes, numCodebooks, numFrames, lengthSamples, scale, frameCodebooks }));
      }
      return unexpected(r.op);
    },
    release: () => model.release(),
  };
}

async function loadStreaming(): Promise<Loaded> {
  const codec = await loadStreamingCodec(init.spec, init.load);
  const objects = new Map<number, StreamEncoder | StreamDecoder>();
  let nextTarget = 1;
  const add = (object: StreamEncoder | StreamDecoder, numCodebooks: number): Reply => {
    const target = nextTarget++;
    objects.set(target, object);
    const handle: StreamHandle = { target, startupFrames: object.startupFrames, numCodebooks };
    return done(handle);
  };
  const encoderOf = (target: number): StreamEncoder => {
    const o = objects.get(target);
    if (!(o instanceof StreamEncoder)) throw new TypeError(`codec worker: no stream encoder ${target} (disposed?)`);
    return o;
  };
  const decoderOf = (target: number): StreamDecoder => {
    const o = objects.get(target);
    if (!(o instanceof StreamDecoder)) throw new TypeError(`codec worker: no stream decoder ${target} (disposed?)`);
    return o;
  };
  return {
    ready: {
      config: codec.config,
      sampleRateHz: codec.sampleRateHz,
      channels: codec.channels,
      hopSamples: codec.hopLengthSamples,
      numQuantizers: codec.numQuantizers,
      codebookSize: codec.codebookSize,
      bandwidthsKbps: [...codec.bandwidthsKbps],
      normalize: codec.config.normalize,
      encoderStartupFrames: codec.encoderStartupFrames,
      decoderStartupFrames: codec.decoderStartupFrames,
    },
    handle: async (r) => {
      switch (r.op) {
        case "create-encoder": {
          const encoder = await createStreamEncoder(codec, { bandwidthKbps: r.bandwidthKbps, start: r.start, maxFramesPerCall: r.maxFramesPerCall });
          return add(encoder, encoder.numCodebooks);
        }
        case "create-decoder":
          return add(createStreamDecoder(codec, { start: r.start, maxFramesPerCall: r.maxFramesPerCall, concealFadeFrames: r.concealFadeFrames }), 0);
        case "dispose":
          objects.delete(r.target);
          return done();
        case "reset": {
          const o = objects.get(r.target);
          o?.reset();
          return done();
        }
        case "encoder-push": {
          const encoder = encoderOf(r.target);
          return packFrames(await encoder.push(r.audio), encoder.numCodebooks);
        }
        case "encoder-end": {
          const encoder = encoderOf(r.target);
          return packFrames(await encoder.end(), encoder.numCodebooks);
        }
        case "decoder-push": {
          const { codes, numCodebooks, numFrames, lengthSamples, frameCodebooks } = r;
          const block = lengthSamples === undefined ? { codes, numCodebooks, numFrames, frameCodebooks } : { codes, numCodebooks, numFrames, lengthSamples, frameCodebooks };
          return audioReply(await decoderOf(r.target).push(block));
        }
        case "decoder-missing":
          return audioReply(await decoderOf(r.target).pushMissing(r.count));
        case "decoder-end":
          return audioReply(await decoderOf(r.target).end());
        default:
          return unexpected(r.op);
      }
    },
    release: () => codec.release(),
  };
}

async function main(channel: MessagePort): Promise<void> {
  let loaded: Loaded;
  try {
    loaded = init.role === "chunk-coder" ? await loadChunkCoder() : await loadStreaming();
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
