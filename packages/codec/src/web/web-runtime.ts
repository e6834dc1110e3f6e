import type { Env } from "onnxruntime-common";
import type { OrtRuntime } from "../runtime/ort-types.js";

/**
 * An `onnxruntime-web` module (any flavour: `onnxruntime-web`, `onnxruntime-web/wasm`,
 * `onnxruntime-web/webgpu`, ...): the runtime API plus `env`, whose `wasm` settings the loaders set.
 */
export interface WebOrtRuntime extends OrtRuntime {
  readonly env: Env;
}

/**
 * Which `onnxruntime-web` build the loaders import when no `runtime` is passed:
 * - `"wasm"`: `onnxruntime-web/wasm` (`ort.wasm.bundle.min.mjs`, CPU/WebAssembly only; starts
 *   about 4× faster than the default bundle in Chromium);
 * - `"default"`: `onnxruntime-web` (WebAssembly + WebGPU/WebNN glue);
 * - `"all"`: `onnxruntime-web/all` (every backend, WebGL included).
 */
export type WebOrtFlavour = "wasm" | "default" | "all";

/** Runtime settings shared by the web loaders. */
export interface WebRuntimeOptions {
  /** The `onnxruntime-web` module to run on (the app imports the flavour it wants). @default the `flavour` import */
  readonly runtime?: WebOrtRuntime;
  /** Which build to import when `runtime` is not given. @default "wasm" */
  readonly flavour?: WebOrtFlavour;
  /** Sets `env.wasm.numThreads` when given (more than 1 needs a cross-origin isolated page: COOP/COEP). @default undefined (the runtime's choice) */
  readonly numThreads?: number;
  /** Sets `env.wasm.wasmPaths`: where the runtime's `.wasm`/`.mjs` files are served (a folder URL ending in `/`). @default undefined (next to the runtime's own script) */
  readonly wasmPaths?: string;
}

const FLAVOURS: readonly WebOrtFlavour[] = ["wasm", "default", "all"];

async function importFlavour(flavour: WebOrtFlavour): Promise<WebOrtRuntime> {
  // Literal specifiers, so bundlers see (and split out) each flavour.
  switch (flavour) {
    case "wasm":
      return (await import("onnxruntime-web/wasm")) as WebOrtRuntime;
    case "all":
      return (await import("onnxruntime-web/all")) as WebOrtRuntime;
    default:
      return (await import("onnxruntime-web")) as WebOrtRuntime;
  }
}

/**
 * The runtime the web loaders use: `options.runtime`, or the `options.flavour` build imported on
 * first use; `numThreads` and `wasmPaths` are applied to its `env.wasm` (global to that module).
 *
 * @throws RangeError / TypeError for bad options
 */
export async function resolveWebRuntime(options: WebRuntimeOptions): Promise<WebOrtRuntime> {
  if (options.numThreads !== undefined && (!Number.isInteger(options.numThreads) || options.numThreads < 0)) {
    throw new RangeError(`numThreads must be a non-negative integer, got ${options.numThreads}`);
  }
  const flavour = options.flavour ?? "wasm";
  if (!FLAVOURS.includes(flavour)) throw new RangeError(`flavour must be one of ${FLAVOURS.join(", ")}, got ${String(flavour)}`);
  if (options.runtime !== undefined && (typeof options.runtime !== "object" || typeof options.runtime.InferenceSession?.create !== "function" || !options.runtime.env)) {
    throw new TypeError("runtime must be an onnxruntime-web module (InferenceSession, Tensor, env)");
  }
  const runtime = options.runtime ?? (await importFlavour(flavour));
  if (options.numThreads !== undefined) runtime.env.wasm.numThreads = options.numThreads;
  if (options.wasmPaths !== undefined) runtime.env.wasm.wasmPaths = options.wasmPaths;
  return runtime;
}
