// Messages between a worker codec (main thread) and codec-worker.ts (its worker thread). Internal.
import type { EncodecModelSpec } from "../node/encodec-node.js";
import type { LoadStreamingCodecOptions } from "../streaming/node/load-streaming-codec.js";
import type { EncodecConfig } from "../config.js";
import type { StreamStart } from "../streaming/stream-types.js";
import { CodecError, isCodecError } from "../errors.js";

/** What the worker loads: a streaming codec (any number of stream encoders and decoders) or an offline model (chunks). */
export type WorkerRole = "streaming" | "chunk-coder";

/** `workerData` of a codec worker. */
export interface WorkerInit {
  readonly role: WorkerRole;
  /** A model path, or `{ config, tensors }` (cloned into the worker). */
  readonly spec: EncodecModelSpec;
  /** The node loader's options (cache, threads, session options; streaming: the sides to open). */
  readonly load: LoadStreamingCodecOptions;
}

/** What the worker reports once its model is loaded. */
export interface WorkerReady {
  readonly config: EncodecConfig;
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly hopSamples: number;
  readonly numQuantizers: number;
  readonly codebookSize: number;
  readonly bandwidthsKbps: readonly number[];
  readonly normalize: boolean;
  /** Streaming: frames an "exact" encoder / decoder gathers before its first output; 0 for the chunk coder. */
  readonly encoderStartupFrames: number;
  readonly decoderStartupFrames: number;
}

/** What the worker reports for a stream encoder or decoder it made. */
export interface StreamHandle {
  /** The object's id in the worker (the `target` of its requests). */
  readonly target: number;
  readonly startupFrames: number;
  /** Encoder: codebooks per frame; decoder: 0. */
  readonly numCodebooks: number;
}

/** A request to the worker: `id` pairs it with its reply; `target` names a stream encoder or decoder. Audio travels as one array per channel. */
export type WorkerRequest =
  | { readonly id: number; readonly op: "create-encoder"; readonly bandwidthKbps: number; readonly start: StreamStart; readonly maxFramesPerCall: number }
  | { readonly id: number; readonly op: "create-decoder"; readonly start: StreamStart; readonly maxFramesPerCall: number; readonly concealFadeFrames: number }
  | { readonly id: number; readonly op: "dispose"; readonly target: number }
  | { readonly id: number; readonly op: "encoder-push"; readonly target: number; readonly audio: Float32Array[] }
  | { readonly id: number; readonly op: "encoder-end"; readonly target: number }
  | { readonly id: number; readonly op: "decoder-push"; readonly target: number; readonly codes: Uint16Array; readonly numCodebooks: number; readonly numFrames: number; readonly lengthSamples: number | undefined; readonly frameCodebooks: Uint8Array | null }
  | { readonly id: number; readonly op: "decoder-missing"; readonly target: number; readonly count: number }
  | { readonly id: number; readonly op: "decoder-end"; readonly target: number }
  | { readonly id: number; readonly op: "reset"; readonly target: number }
  | { readonly id: number; readonly op: "chunk-encode"; readonly audio: Float32Array[]; readonly bandwidthKbps: number }
  | { readonly id: number; readonly op: "chunk-decode"; readonly codes: Uint16Array; readonly numCodebooks: number; readonly numFrames: number; readonly lengthSamples: number; readonly scale: number | null; readonly frameCodebooks: Uint8Array | null }
  | { readonly id: number; readonly op: "close" };

/** Encoded frames, packed: frame `j`'s codes at `codes[j * numCodebooks, (j + 1) * numCodebooks)`. */
export interface PackedFrames {
  readonly indices: Int32Array;
  readonly lengths: Int32Array;
  readonly codes: Uint16Array;
  readonly numCodebooks: number;
}

/** A reply: `value` is the op's result (`PackedFrames`, planar audio, a chunk's codes, or null). */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/** Flatten an error for `postMessage`. */
export function serializeError(error: unknown): SerializedError {
  if (isCodecError(error)) return { name: "CodecError", message: error.message, code: error.code };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/**
 * Rebuild an error from the worker: a CodecError keeps its code, a TypeError / RangeError (misuse)
 * its class; anything else (an ONNX Runtime failure) becomes CodecError `worker-failed`.
 */
export function deserializeError(error: SerializedError): Error {
  if (error.name === "CodecError") return new CodecError((error.code ?? "worker-failed") as CodecError["code"], error.message);
  if (error.name === "RangeError") return new RangeError(error.message);
  if (error.name === "TypeError") return new TypeError(error.message);
  return new CodecError("worker-failed", `codec worker: ${error.name}: ${error.message}`);
}

/** The distinct buffers of `arrays`, for a transfer list (arrays that share one are listed once). */
export function buffersOf(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) set.add(a.buffer);
  return [...set];
}

/** Copies of planar channels in buffers of their own (safe to transfer: the caller's arrays stay usable). */
export function ownedCopies(audio: readonly Float32Array[]): Float32Array[] {
  return audio.map((ch) => ch.slice());
}
