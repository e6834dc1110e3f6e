import { CodecError } from "../errors.js";
import type { TensorMap } from "./raw-tensor.js";

/** A parameter of a (weight-normed) convolution or a group norm. */
const PARAM = String.raw`(weight|bias|weight_g|weight_v)`;
/** A parameter of a (multi-layer) LSTM. */
const LSTM_PARAM = String.raw`((?:weight|bias)_(?:ih|hh)_l\d+)`;
/** A parameter of a residual-VQ codebook (only `embed` is used at inference). */
const CODEBOOK_PARAM = String.raw`(embed|inited|cluster_size|embed_avg)`;

/**
 * Renaming rules, original EnCodec (`facebookresearch/encodec`) → Hugging Face transformers, in the
 * same correspondence as transformers' `convert_encodec_checkpoint_to_pytorch.py`:
 *
 * | original | Hugging Face |
 * |---|---|
 * | `encoder.model.N.conv.conv.P` | `encoder.layers.N.conv.P` |
 * | `encoder.model.N.conv.norm.P` | `encoder.layers.N.norm.P` (48 kHz group norm) |
 * | `encoder.model.N.block.J.conv.{conv,norm}.P` | `encoder.layers.N.block.J.{conv,norm}.P` |
 * | `encoder.model.N.shortcut.conv.{conv,norm}.P` | `encoder.layers.N.shortcut.{conv,norm}.P` |
 * | `encoder.model.N.lstm.P` | `encoder.layers.N.lstm.P` |
 * | `decoder.model.N.convtr.convtr.P` | `decoder.layers.N.conv.P` |
 * | `decoder.model.N.convtr.norm.P` | `decoder.layers.N.norm.P` |
 * | `quantizer.vq.layers.K._codebook.P` | `quantizer.layers.K.codebook.P` |
 *
 * (`decoder.model.N.…` follows the encoder rows for its plain convolutions, blocks and LSTM.)
 */
const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(String.raw`^(encoder|decoder)\.model\.(\d+)\.conv\.(conv|norm)\.${PARAM}$`), "$1.layers.$2.$3.$4"],
  [new RegExp(String.raw`^decoder\.model\.(\d+)\.convtr\.convtr\.${PARAM}$`), "decoder.layers.$1.conv.$2"],
  [new RegExp(String.raw`^decoder\.model\.(\d+)\.convtr\.norm\.${PARAM}$`), "decoder.layers.$1.norm.$2"],
  [new RegExp(String.raw`^(encoder|decoder)\.model\.(\d+)\.block\.(\d+)\.conv\.(conv|norm)\.${PARAM}$`), "$1.layers.$2.block.$3.$4.$5"],
  [new RegExp(String.raw`^(encoder|decoder)\.model\.(\d+)\.shortcut\.conv\.(conv|norm)\.${PARAM}$`), "$1.layers.$2.shortcut.$3.$4"],
  [new RegExp(String.raw`^(encoder|decoder)\.model\.(\d+)\.lstm\.${LSTM_PARAM}$`), "$1.layers.$2.lstm.$3"],
  [new RegExp(String.raw`^quantizer\.vq\.layers\.(\d+)\._codebook\.${CODEBOOK_PARAM}$`), "quantizer.layers.$1.codebook.$2"],
];

/**
 * The Hugging Face name of one original EnCodec parameter name, or `undefined` when no rule matches.
 * @example mapOriginalName("quantizer.vq.layers.7._codebook.embed") // "quantizer.layers.7.codebook.embed"
 */
export function mapOriginalName(name: string): string | undefined {
  for (const [pattern, replacement] of RULES) {
    if (pattern.test(name)) return name.replace(pattern, replacement);
  }
  return undefined;
}

/**
 * Rename the tensors of an original EnCodec checkpoint (`encoder.model.0.conv.conv.weight_g`, …) to
 * the names the Hugging Face `model.safetensors` uses (`encoder.layers.0.conv.weight_g`, …). Tensor
 * objects are shared with the input map, not copied; order is kept.
 *
 * @param tensors tensors under original names, e.g. from `readTorchCheckpoint`
 * @param source name of the file, for error messages
 * @throws CodecError `unexpected-tensor` for a name no rule knows, `corrupt` when two names map to one
 */
export function mapOriginalToHfNames(tensors: TensorMap, source = "checkpoint"): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, tensor] of tensors) {
    const mapped = mapOriginalName(name);
    if (mapped === undefined) {
      throw new CodecError("unexpected-tensor", `${source}: tensor ${name} is not an original EnCodec parameter name`);
    }
    if (out.has(mapped)) throw new CodecError("corrupt", `${source}: two tensors map to ${mapped}`);
    out.set(mapped, tensor);
  }
  return out;
}

/** True when the map looks like an original EnCodec state dict (its names start `encoder.model.`). */
export function hasOriginalNames(tensors: TensorMap): boolean {
  for (const name of tensors.keys()) {
    if (name.startsWith("encoder.model.") || name.startsWith("decoder.model.") || name.startsWith("quantizer.vq.")) return true;
  }
  return false;
}
