// Messages between a worker codec (main thread) and codec-worker.ts (its worker thread). Internal.
import type { EncodecModelSpec, LoadEncodecOptions } from "../node/encodec-node.js";
import type { EncodecConfig } from "../config.js";
import type { StreamStart } from "../streaming/stream-types.js";
import { CodecError, isCodecError } from "../errors.js";

/** What the worker loads and runs: one role a worker. */
export type WorkerRole =
  | { readonly kind: "stream-encoder"; readonly bandwidthKbps: number; readonly start: StreamStart; readonly maxFramesPerCall: number }
  | { readonly kind: "stream-decoder"; readonly start: StreamStart; readonly maxFramesPerCall: number; readonly concealFadeFrames: number }
  | { readonly kind: "chunk-coder" };

/** `workerData` of a codec worker. */
export interface WorkerInit {
  readonly role: WorkerRole;
  /** A model path, or `{ config, tensors }` (cloned into the worker). */
  readonly spec: EncodecModelSpec;
  /** The node loader's options (cache, threads, session options). */
  readonly load: LoadEncodecOptions;
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
  /** Stream roles: frames gathered before the first output; 0 for the chunk coder. */
  readonly startupFrames: number;
  /** Stream encoder: codebooks per frame; 0 otherwise. */
  readonly numCodebooks: number;
}

/** A request to the worker: `id` pairs it with its reply. Audio travels as one planar array per channel. */
export type WorkerRequest =
  | { readonly id: number; readonly op: "encoder-push"; readonly audio: Float32Array[] }
  | { readonly id: number; readonly op: "encoder-end" }
  | { readonly id: number; readonly op: "decoder-push"; readonly codes: Uint16Array; readonly numCodebooks: number; readonly numFrames: number; readonly lengthSamples: number | undefined }
  | { readonly id: number; readonly op: "decoder-missing"; readonly count: number }
  | { readonly id: number; readonly op: "decoder-end" }
  | { readonly id: number; readonly op: "reset" }
  | { readonly id: number; readonly op: "chunk-encode"; readonly audio: Float32Array[]; readonly bandwidthKbps: number }
  | { readonly id: number; readonly op: "chunk-decode"; readonly codes: Uint16Array; readonly numCodebooks: number; readonly numFrames: number; readonly lengthSamples: number; readonly scale: number | null }
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
