import type { InferenceSession, Tensor } from "onnxruntime-common";
import { streamStateElements, type StreamStateSpec } from "../../onnx/streaming-graphs.js";
import type { OrtRuntime, OrtSession } from "../../runtime/ort-types.js";

/**
 * One side's graphs: the "step" session (states in and out), and a way to run the "first" graph
 * (offline start, outputs the states), whose session may be opened on demand and released after.
 */
export interface GraphPair {
  /** Run the "step" graph on `feeds` (its session opened on the first call when the codec holds one session of a side at a time). */
  runStep(feeds: Record<string, Tensor>): Promise<InferenceSession.ReturnType>;
  /** Run the "first" graph on `feeds`. */
  runFirst(feeds: Record<string, Tensor>): Promise<InferenceSession.ReturnType>;
}

/** What stream encoders and decoders need from a `StreamingCodec`, kept out of its public type. */
export interface CodecInternals {
  readonly runtime: OrtRuntime;
  /** The decoder sessions. @throws Error once the codec is released, or when it was created without the decoder side */
  decoder(): GraphPair;
  /** The encoder sessions for `numQuantizers` codebooks (opened on first use). @throws Error once the codec is released, or when it was created without the encoder side */
  encoder(numQuantizers: number): Promise<GraphPair>;
}

const internals = new WeakMap<object, CodecInternals>();

export function setCodecInternals(codec: object, value: CodecInternals): void {
  internals.set(codec, value);
}

/** @throws TypeError when `codec` is not a `StreamingCodec` */
export function codecInternals(codec: object, name: string): CodecInternals {
  const v = typeof codec === "object" && codec !== null ? internals.get(codec) : undefined;
  if (!v) throw new TypeError(`${name} must be a StreamingCodec (see StreamingCodec.create)`);
  return v;
}

/** The packed state tensor of `specs` all zero (the "zero-state" start). */
export function zeroState(runtime: OrtRuntime, specs: readonly StreamStateSpec[]): Tensor {
  const n = streamStateElements(specs);
  return new runtime.Tensor("float32", new Float32Array(n), [1, n]);
}

/** A promise chain that runs queued operations one at a time, in call order; a failure does not block later ones. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
