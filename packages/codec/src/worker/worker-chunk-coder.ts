import { checkBandwidth, numQuantizersForBandwidth } from "../config.js";
import type { EncodecModelSpec, LoadEncodecOptions } from "../node/encodec-node.js";
import type { EncodeOptions } from "../runtime/encodec-model.js";
import type { EncodedChunk } from "../streaming/chunk-codec.js";
import type { ChunkCoder } from "../streaming/codec-interfaces.js";
import { loaderOptions, WorkerClient, type WorkerThreadOptions } from "./worker-client.js";
import { buffersOf, ownedCopies, type WorkerReady } from "./worker-protocol.js";

/** Options of {@link createWorkerChunkCoder}: the node loader's and the worker's. */
export interface WorkerChunkCoderOptions extends LoadEncodecOptions, WorkerThreadOptions {}

/**
 * Chunked streaming's {@link ChunkCoder} with the offline model in a worker thread of its own:
 * the same codes and audio, bit for bit, as `encodeChunk` / `decodeChunk` on the calling thread.
 * Create one for the sender's encoding and another for the receiver's decoding to give each side
 * its own thread. The thread does not keep the process alive while idle; {@link close} releases it.
 */
export class WorkerChunkCoder implements ChunkCoder {
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly hopLengthSamples: number;
  readonly normalize: boolean;

  /** @internal use {@link createWorkerChunkCoder} */
  constructor(
    private readonly client: WorkerClient,
    private readonly ready: WorkerReady,
  ) {
    this.sampleRateHz = ready.sampleRateHz;
    this.channels = ready.channels;
    this.hopLengthSamples = ready.hopSamples;
    this.normalize = ready.normalize;
  }

  /** Codebooks at `bandwidthKbps`. @throws RangeError for a bandwidth the model does not support */
  numQuantizersForBandwidth(bandwidthKbps: number): number {
    checkBandwidth(this.ready.config, bandwidthKbps, "bandwidthKbps");
    return numQuantizersForBandwidth(this.ready.config, bandwidthKbps);
  }

  /**
   * As `encodeChunk(model, audio, options)`; the audio is copied (the caller's arrays stay untouched).
   * @throws (rejects) the same errors, and CodecError `worker-failed` when the worker is gone
   */
  encodeChunk(audio: readonly Float32Array[], options: EncodeOptions): Promise<EncodedChunk> {
    if (!Array.isArray(audio) || !audio.every((ch) => ch instanceof Float32Array)) {
      return Promise.reject(new TypeError("audio must be an array of Float32Array (one per channel)"));
    }
    const copies = ownedCopies(audio);
    return this.client.call<EncodedChunk>({ op: "chunk-encode", audio: copies, bandwidthKbps: options?.bandwidthKbps }, buffersOf(copies));
  }

  /**
   * As `decodeChunk(model, chunk)`; the codes are copied.
   * @throws (rejects) the same errors, and CodecError `worker-failed` when the worker is gone
   */
  decodeChunk(chunk: EncodedChunk): Promise<Float32Array[]> {
    if (typeof chunk !== "object" || chunk === null || !(chunk.codes instanceof Uint16Array)) {
      return Promise.reject(new TypeError("chunk must be an EncodedChunk { codes: Uint16Array, numCodebooks, numFrames, lengthSamples, scale }"));
    }
    const codes = chunk.codes.slice();
    const { numCodebooks, numFrames, lengthSamples, scale } = chunk;
    const frameCodebooks = chunk.frameCodebooks ? chunk.frameCodebooks.slice() : null;
    return this.client.call<Float32Array[]>({ op: "chunk-decode", codes, numCodebooks, numFrames, lengthSamples, scale, frameCodebooks }, [codes.buffer]);
  }

  /** Release the worker's sessions and end its thread; later calls reject with CodecError `worker-failed`. */
  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * Start a worker thread that loads `spec` (any model: 24 or 48 kHz; a path, or `{ config, tensors }`
 * cloned into the worker) with `loadEncodec`'s options; resolves once it is ready.
 *
 * @throws CodecError from loading the model, or `worker-failed`; RangeError / TypeError for bad options
 */
export async function createWorkerChunkCoder(spec: EncodecModelSpec, options: WorkerChunkCoderOptions = {}): Promise<WorkerChunkCoder> {
  const client = new WorkerClient({ role: "chunk-coder", spec, load: loaderOptions(options) }, options);
  try {
    return new WorkerChunkCoder(client, await client.ready);
  } catch (error) {
    await client.close();
    throw error;
  }
}
