import {
  payloadModelKindOf,
  type CodecPrecision,
  type EncodecConfig,
  type StreamingCodec,
  type TensorMap,
} from "@encstream/codec";
import {
  createWorkerChunkCoder,
  loadStreamingCodec,
  WorkerStreamingCodec,
  type LoadEncodecOptions,
  type WorkerChunkCoder,
} from "@encstream/codec/node";
import { createSessionCodec, type SessionCodec } from "@encstream/session";
import { CliError } from "../errors.js";
import { keepYoungGenerationBound } from "../internal/lean-v8.js";
import { resolveModel, type ModelLoadProgress, type ResolvedModel } from "../model-loader.js";
import type { ModelRef } from "../model-ref.js";

/** Options of {@link openCodecSession}. */
export interface CodecSessionOptions {
  /** `--cache-dir`. @default undefined (the codec's default cache) */
  readonly cacheDir?: string | undefined;
  /** `--lm`: a language-model file instead of the one beside the weights. @default undefined */
  readonly lmPath?: string | undefined;
  /** Called at each loading step. @default undefined */
  readonly onProgress?: (progress: ModelLoadProgress) => void;
  /**
   * Run the model calls of the sessions (stream encoders and decoders, chunk encoding and
   * decoding) in worker threads: one for the streaming codec, one for the offline model, each
   * started on first use, so the main thread never waits for a model call. @default false
   */
  readonly workers?: boolean | undefined;
  /**
   * The side the command runs (`send`: "encoder", `receive`: "decoder"): the streaming codec
   * (in its worker or on this thread) opens only that side's sessions. @default undefined (both sides)
   */
  readonly side?: "encoder" | "decoder" | undefined;
  /** `--precision` of every graph the session opens (offline, streaming, in workers or not). @default "float32" */
  readonly precision?: CodecPrecision | undefined;
}

/**
 * A loaded model with what the streaming commands need of it: the `SessionCodec` the send and
 * receive sessions of `@encstream/session` take (the offline model for chunked mode, the
 * frame-exact streaming codec built on first use, the language model read on first use), and
 * the resolved model behind it.
 */
export interface CodecSession extends SessionCodec {
  /** The resolved model (offline `EncodecModel`, config, source, LM file). */
  readonly resolved: ResolvedModel;
  /**
   * The frame-exact streaming codec (built, or read from the graph cache, on the first call).
   * @throws CliError `"usage"` for a non-causal model (48 kHz), `"bad-model"` when it cannot be built
   */
  streaming(): Promise<StreamingCodec>;
  /** Frees every inference session. */
  release(): Promise<void>;
}

/**
 * Resolves and loads `ref` (see `resolveModel`) for `send` / `receive`.
 *
 * @throws CliError from `resolveModel` (`"model-not-found"`, `"bad-model"`, `"lm-unavailable"`
 *   for a `--lm` file that does not exist), or `"unsupported"` for a model that is neither
 *   24 kHz mono nor 48 kHz stereo (the stream payload names only those two kinds)
 */
export async function openCodecSession(ref: ModelRef, options: CodecSessionOptions = {}): Promise<CodecSession> {
  const resolved = await resolveModel(ref, {
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.lmPath !== undefined ? { lmPath: options.lmPath } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    ...(options.precision !== undefined ? { loadOptions: { precision: options.precision } } : {}),
  });
  const { config } = resolved;
  const load = { ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }), ...(options.precision === undefined ? {} : { precision: options.precision }) };
  try {
    payloadModelKindOf(config);
  } catch (error) {
    await resolved.release();
    throw new CliError("unsupported", `${resolved.source.dir}: ${(error as Error).message}`, { cause: error });
  }
  let streaming: Promise<StreamingCodec> | undefined;
  const streamingCodec = (): Promise<StreamingCodec> => {
    streaming ??= buildStreaming(resolved, load, options.side);
    return streaming;
  };
  // `lm()` of the session codec: null when none is found beside the weights (and no `--lm`);
  // CliError "bad-model" / "lm-unavailable" for a file that cannot be read.
  const codec = createSessionCodec({
    model: resolved.model,
    streaming: streamingCodec,
    lm: () => (resolved.lmPath === null ? Promise.resolve(null) : resolved.loadLm()),
  });
  if (options.workers !== true) {
    return {
      ...codec,
      resolved,
      streaming: streamingCodec,
      release: async () => {
        const codec = await streaming?.catch(() => undefined);
        await Promise.all([codec?.release(), resolved.release()]);
      },
    };
  }
  // The same codec with every model call in a worker thread (see `CodecSessionOptions.workers`).
  let streamingWorker: Promise<WorkerStreamingCodec> | undefined;
  let chunkWorker: Promise<WorkerChunkCoder> | undefined;
  const streamingInWorker = (): Promise<WorkerStreamingCodec> => {
    streamingWorker ??= startStreamingWorker(resolved, load, options.side);
    return streamingWorker;
  };
  const chunksInWorker = (): Promise<WorkerChunkCoder> => {
    chunkWorker ??= startChunkWorker(resolved, load);
    return chunkWorker;
  };
  return {
    ...codec,
    encodeChunk: async (audio, o) => (await chunksInWorker()).encodeChunk(audio, { bandwidthKbps: o.bandwidthKbps }),
    decodeChunk: async (chunk) => (await chunksInWorker()).decodeChunk(chunk),
    createStreamEncoder: async (o) => (await streamingInWorker()).createStreamEncoder({ bandwidthKbps: o.bandwidthKbps }),
    createStreamDecoder: async () => (await streamingInWorker()).createStreamDecoder(),
    resolved,
    streaming: streamingCodec,
    release: async () => {
      const [main, inWorker, chunks] = await Promise.all([
        streaming?.catch(() => undefined),
        streamingWorker?.catch(() => undefined),
        chunkWorker?.catch(() => undefined),
      ]);
      await Promise.all([main?.release(), inWorker?.release(), chunks?.close(), resolved.release()]);
    },
  };
}

/**
 * The streaming codec's options for a command's side: only that side's session (one, which runs
 * a stream's startup and its later frames over one copy of the weights).
 */
function sideOptions(side: "encoder" | "decoder" | undefined): { sides?: ["encoder" | "decoder"] } {
  if (side === undefined) return {};
  return { sides: [side] };
}

function checkCausal(resolved: ResolvedModel): void {
  if (!resolved.config.useCausalConv) {
    throw new CliError(
      "usage",
      `--stream needs a causal model (the 24 kHz one); ${resolved.config.sampleRateHz / 1000} kHz models stream in chunks: leave out --stream`,
    );
  }
}

/** What the codecs are loaded with: `--cache-dir` (graphs from the cache under it) and `--precision`. */
type LoadOptions = Pick<LoadEncodecOptions, "cacheDir" | "precision">;

/** The streaming codec in a worker thread, loading the model folder itself. */
async function startStreamingWorker(resolved: ResolvedModel, load: LoadOptions, side: "encoder" | "decoder" | undefined): Promise<WorkerStreamingCodec> {
  checkCausal(resolved);
  try {
    const codec = await WorkerStreamingCodec.create(resolved.source.dir, { ...load, ...sideOptions(side) });
    keepYoungGenerationBound();
    return codec;
  } catch (error) {
    throw new CliError("bad-model", `${resolved.source.dir}: cannot start the streaming codec's worker (${(error as Error).message})`, { cause: error });
  }
}

/** The offline model (chunks) in a worker thread. */
async function startChunkWorker(resolved: ResolvedModel, load: LoadOptions): Promise<WorkerChunkCoder> {
  try {
    const coder = await createWorkerChunkCoder(resolved.source.dir, load);
    keepYoungGenerationBound();
    return coder;
  } catch (error) {
    throw new CliError("bad-model", `${resolved.source.dir}: cannot start the codec's worker (${(error as Error).message})`, { cause: error });
  }
}

async function buildStreaming(resolved: ResolvedModel, load: LoadOptions, side: "encoder" | "decoder" | undefined): Promise<StreamingCodec> {
  checkCausal(resolved);
  try {
    // By path, as the worker loads it: the weights are read only when a graph is not cached.
    return await loadStreamingCodec(resolved.source.dir, { ...load, ...sideOptions(side) });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError("bad-model", `${resolved.source.dir}: cannot build the streaming codec (${(error as Error).message})`, { cause: error });
  }
}

/**
 * The frame-exact streaming codec of a model, as `loadStreamingCodec` of `@encstream/codec/node`
 * builds it: single-threaded, non-spinning sessions and the on-disk graph cache under `cacheDir`.
 */
export function createNodeStreamingCodec(config: EncodecConfig, tensors: TensorMap, cacheDir: string | undefined): Promise<StreamingCodec> {
  return loadStreamingCodec({ config, tensors }, cacheDir === undefined ? {} : { cacheDir });
}
