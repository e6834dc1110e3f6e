import type { InferenceSession, Tensor } from "onnxruntime-common";

/**
 * The part of an ONNX Runtime module the codec uses: pass `onnxruntime-node` or
 * `onnxruntime-web` (`import * as ort from "onnxruntime-web"`), or anything with the same API.
 */
export interface OrtRuntime {
  readonly InferenceSession: typeof InferenceSession;
  readonly Tensor: typeof Tensor;
}

/** ONNX Runtime session options (threads, execution providers, optimization level, config entries). */
export type OrtSessionOptions = InferenceSession.SessionOptions;

/** An ONNX Runtime inference session. */
export type OrtSession = InferenceSession;
