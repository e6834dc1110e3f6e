import type { PreparedWeights } from "../model/prepare-weights.js";
import { GraphBuilder } from "./graph-builder.js";
import { OnnxDataType } from "./onnx-proto.js";
import { addRvqDecode, addRvqEncode } from "./quantizer-graph.js";
import { checkPrecision, precisionSuffix, type CodecPrecision } from "./int8-graph.js";
import { addSeanet, type SeanetContext } from "./seanet-graph.js";

/**
 * Version of the graph builders. It is part of every cache key: bump it whenever a builder's
 * output changes, so that graphs cached by an older version are rebuilt.
 */
export const GRAPH_BUILDER_VERSION = "3";

/** The graphs an EnCodec model is made of. `quantizer-encode` takes the number of codebooks. */
export type EncodecGraphKind = "encoder" | "quantizer-encode" | "quantizer-decode" | "decoder" | "decode";

/** Input and output names of the built graphs. */
export const GRAPH_IO = {
  /** `[batch, channels, samples]` float32 audio. */
  audio: "audio",
  /** `[batch, hidden, frames]` float32 latent vectors. */
  embeddings: "embeddings",
  /** `[batch, codebooks, frames]` int64 codes. */
  codes: "codes",
} as const;

function context(name: string, prepared: PreparedWeights, precision: CodecPrecision = "float32"): SeanetContext {
  return { g: new GraphBuilder(name), config: prepared.architecture.config, weights: prepared.tensors, precision: checkPrecision(precision) };
}

function finish(ctx: SeanetContext, kind: string): Uint8Array {
  return ctx.g.toModelBytes({ producerVersion: GRAPH_BUILDER_VERSION, docString: `EnCodec ${kind}`, metadata: { "encstream.graph": kind } });
}

/** SEANet encoder: audio `[B, C, T]` → embeddings `[B, D, ceil(T / hop)]`. `precision` `"int8"` builds the approximate int8 graph (see int8-graph.ts). */
export function buildEncoderGraph(prepared: PreparedWeights, precision: CodecPrecision = "float32"): Uint8Array {
  const ctx = context("encodec_encoder", prepared, precision);
  const c = ctx.config;
  const x = ctx.g.input(GRAPH_IO.audio, OnnxDataType.FLOAT, ["batch", c.audioChannels, "samples"]);
  const y = addSeanet(ctx, x, prepared.architecture.encoder);
  ctx.g.output(y, GRAPH_IO.embeddings, OnnxDataType.FLOAT, ["batch", c.hiddenSize, "frames"]);
  return finish(ctx, `encoder${precisionSuffix(precision)}`);
}

/** RVQ encode with the first `numQuantizers` codebooks: embeddings `[B, D, F]` → codes `[B, numQuantizers, F]` int64. */
export function buildQuantizerEncodeGraph(prepared: PreparedWeights, numQuantizers: number): Uint8Array {
  const max = prepared.architecture.numQuantizers;
  if (!Number.isInteger(numQuantizers) || numQuantizers < 1 || numQuantizers > max) {
    throw new RangeError(`numQuantizers must be an integer in [1, ${max}], got ${numQuantizers}`);
  }
  const ctx = context(`encodec_quantizer_encode_${numQuantizers}`, prepared);
  const x = ctx.g.input(GRAPH_IO.embeddings, OnnxDataType.FLOAT, ["batch", ctx.config.hiddenSize, "frames"]);
  const codes = addRvqEncode(ctx.g, x, prepared.tensors, numQuantizers);
  ctx.g.output(codes, GRAPH_IO.codes, OnnxDataType.INT64, ["batch", numQuantizers, "frames"]);
  return finish(ctx, `quantizer-encode-${numQuantizers}`);
}

/** RVQ decode: codes `[B, K, F]` int64 (any K up to the model's) → embeddings `[B, D, F]`. */
export function buildQuantizerDecodeGraph(prepared: PreparedWeights): Uint8Array {
  const ctx = context("encodec_quantizer_decode", prepared);
  const codes = ctx.g.input(GRAPH_IO.codes, OnnxDataType.INT64, ["batch", "codebooks", "frames"]);
  const emb = addRvqDecode(ctx.g, codes, prepared.tensors, prepared.architecture.numQuantizers);
  ctx.g.output(emb, GRAPH_IO.embeddings, OnnxDataType.FLOAT, ["batch", ctx.config.hiddenSize, "frames"]);
  return finish(ctx, "quantizer-decode");
}

/** SEANet decoder: embeddings `[B, D, F]` → audio `[B, C, F · hop]` (untrimmed). `precision` `"int8"` builds the approximate int8 graph (see int8-graph.ts). */
export function buildDecoderGraph(prepared: PreparedWeights, precision: CodecPrecision = "float32"): Uint8Array {
  const ctx = context("encodec_decoder", prepared, precision);
  const c = ctx.config;
  const x = ctx.g.input(GRAPH_IO.embeddings, OnnxDataType.FLOAT, ["batch", c.hiddenSize, "frames"]);
  const y = addSeanet(ctx, x, prepared.architecture.decoder);
  ctx.g.output(y, GRAPH_IO.audio, OnnxDataType.FLOAT, ["batch", c.audioChannels, "samples"]);
  return finish(ctx, `decoder${precisionSuffix(precision)}`);
}

/** RVQ decode and SEANet decoder in one graph: codes `[B, K, F]` int64 → audio `[B, C, F · hop]`. `precision` `"int8"` builds the approximate int8 graph (see int8-graph.ts). */
export function buildDecodeGraph(prepared: PreparedWeights, precision: CodecPrecision = "float32"): Uint8Array {
  const ctx = context("encodec_decode", prepared, precision);
  const c = ctx.config;
  const codes = ctx.g.input(GRAPH_IO.codes, OnnxDataType.INT64, ["batch", "codebooks", "frames"]);
  const emb = addRvqDecode(ctx.g, codes, prepared.tensors, prepared.architecture.numQuantizers);
  const y = addSeanet(ctx, emb, prepared.architecture.decoder);
  ctx.g.output(y, GRAPH_IO.audio, OnnxDataType.FLOAT, ["batch", c.audioChannels, "samples"]);
  return finish(ctx, `decode${precisionSuffix(precision)}`);
}
