import {
  parseEncodecConfig,
  payloadModelKindOf,
  type EncodecConfig,
  type StreamingCodec,
  type TensorMap,
} from "@encstream/codec";
import { loadModelFiles, loadStreamingCodec } from "@encstream/codec/node";
import { createSessionCodec, type SessionCodec } from "@encstream/session";
import { CliError } from "../errors.js";
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
  });
  const { config } = resolved;
  try {
    payloadModelKindOf(config);
  } catch (error) {
    await resolved.release();
    throw new CliError("unsupported", `${resolved.source.dir}: ${(error as Error).message}`, { cause: error });
  }
  let streaming: Promise<StreamingCodec> | undefined;
  const streamingCodec = (): Promise<StreamingCodec> => {
    streaming ??= buildStreaming(resolved, options.cacheDir);
    return streaming;
  };
  // `lm()` of the session codec: null when none is found beside the weights (and no `--lm`);
  // CliError "bad-model" / "lm-unavailable" for a file that cannot be read.
  const codec = createSessionCodec({
    model: resolved.model,
    streaming: streamingCodec,
    lm: () => (resolved.lmPath === null ? Promise.resolve(null) : resolved.loadLm()),
  });
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

async function buildStreaming(resolved: ResolvedModel, cacheDir: string | undefined): Promise<StreamingCodec> {
  if (!resolved.config.useCausalConv) {
    throw new CliError(
      "usage",
      `--stream needs a causal model (the 24 kHz one); ${resolved.config.sampleRateHz / 1000} kHz models stream in chunks: leave out --stream`,
    );
  }
  try {
    const files = await loadModelFiles(resolved.source.dir);
    const config = parseEncodecConfig(files.hfConfig, files.configSource ?? files.source);
    return await createNodeStreamingCodec(config, files.tensors, cacheDir);
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
