import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { CodecError } from "../errors.js";
import { numQuantizers, parseEncodecConfig, type EncodecConfig } from "../config.js";
import { deriveHfConfig, type DeriveConfigHints, type EncodecHfConfigJson } from "../weights/derive-config.js";
import { hasOriginalNames, mapOriginalToHfNames } from "../weights/name-map.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { readSafetensors } from "../weights/safetensors.js";
import { readTorchCheckpoint } from "../weights/torch-checkpoint.js";

/** What {@link loadModelFiles} found and read. */
export interface ModelFiles {
  /** The parsed `config.json` as found (not validated beyond matching the weights), or a derived one. */
  hfConfig: unknown;
  /** The weights under Hugging Face names (`encoder.layers.0.conv.weight_g`, …). */
  tensors: TensorMap;
  /** Path of the weights file that was read. */
  source: string;
  /** Path of the `config.json` used, or `null` when the config was derived from the weights. */
  configSource: string | null;
}

/** Options for {@link loadModelFiles}. */
export interface LoadModelFilesOptions {
  /**
   * Settings for a derived config (used only when no `config.json` is found): sampling rate,
   * causality, normalisation, chunking.
   * @default {} (the published model with the same channel count)
   */
  hints?: DeriveConfigHints;
  /**
   * Largest weights file accepted, in bytes.
   * @default 2147483648 (2 GiB)
   */
  maxBytes?: number;
}

const DEFAULT_MAX_WEIGHTS_BYTES = 2 * 1024 ** 3;
const CONFIG_FILE = "config.json";
const SAFETENSORS_FILE = "model.safetensors";
const CHECKPOINT_FILE = "model.th";
/** Most bytes a `config.json` may have. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** Names of language-model checkpoints, skipped when looking for the codec's `.th` in a folder. */
const LM_CHECKPOINT = /(^|[_-])lm([_.-]|$)/i;

/** Architecture fields that must agree between a `config.json` and the weights beside it (parsed name, Hub name). */
const ARCHITECTURE_FIELDS = [
  ["audioChannels", "audio_channels"],
  ["numFilters", "num_filters"],
  ["hiddenSize", "hidden_size"],
  ["codebookSize", "codebook_size"],
  ["codebookDim", "codebook_dim"],
  ["upsamplingRatios", "upsampling_ratios"],
  ["kernelSize", "kernel_size"],
  ["lastKernelSize", "last_kernel_size"],
  ["residualKernelSize", "residual_kernel_size"],
  ["numResidualLayers", "num_residual_layers"],
  ["numLstmLayers", "num_lstm_layers"],
  ["compress", "compress"],
  ["useConvShortcut", "use_conv_shortcut"],
  ["normType", "norm_type"],
] as const satisfies ReadonlyArray<readonly [keyof EncodecConfig, keyof EncodecHfConfigJson]>;

/**
 * Find and read an EnCodec model's files (Node only).
 *
 * `pathOrDir` may be:
 * - a folder in the Hugging Face layout: `config.json` + `model.safetensors`;
 * - a folder holding an original checkpoint: `model.th`, or the one `*.th` that is not a language
 *   model (`encodec_24khz-d7cc33bc.th` beside `encodec_lm_24khz-1608e3c0.th`);
 * - a `.safetensors`, `.th` or `.bin` (torch zip) file.
 *
 * Original names are mapped to the Hugging Face names. A `config.json` beside the weights is used
 * and checked against them (every architecture field); without one the config is derived from the
 * weights with `deriveHfConfig` (published settings by channel count, overridable by `hints`).
 *
 * @throws CodecError naming the file: `bad-file` (missing, unreadable, several candidates, too
 *   large), `bad-config` (config.json not JSON or invalid, see `parseEncodecConfig`),
 *   `shape-mismatch` (config.json does not match the weights), and the readers' own codes for
 *   corrupt weights
 */
export async function loadModelFiles(pathOrDir: string, options: LoadModelFilesOptions = {}): Promise<ModelFiles> {
  if (typeof pathOrDir !== "string" || pathOrDir === "") throw new TypeError("pathOrDir must be a non-empty string");
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_WEIGHTS_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);

  const { weightsPath, configPath } = await resolveModelFiles(pathOrDir);

  const bytes = await readBounded(weightsPath, maxBytes);
  const read = isZip(bytes) ? readTorchCheckpoint(bytes, weightsPath, { maxBytes }) : readSafetensors(bytes, weightsPath);
  const tensors = hasOriginalNames(read) ? mapOriginalToHfNames(read, weightsPath) : read;

  if (configPath === null) {
    return { hfConfig: deriveHfConfig(tensors, options.hints ?? {}, weightsPath), tensors, source: weightsPath, configSource: null };
  }
  const hfConfig = await readConfig(configPath);
  checkConfigMatches(hfConfig, tensors, configPath, weightsPath);
  return { hfConfig, tensors, source: weightsPath, configSource: configPath };
}

/**
 * Which files {@link loadModelFiles} reads for `pathOrDir`, without reading them: the weights
 * file and the `config.json` beside it (null when there is none). Paths are absolute.
 *
 * @throws CodecError `bad-file` for a missing path, or a folder without exactly one candidate
 */
export async function resolveModelFiles(pathOrDir: string): Promise<{ weightsPath: string; configPath: string | null }> {
  const target = path.resolve(pathOrDir);
  const info = await statOrNull(target);
  if (!info) throw new CodecError("bad-file", `${target}: no such file or directory`);
  const weightsPath = info.isDirectory() ? await findWeights(target) : target;
  const configPath = path.join(path.dirname(weightsPath), CONFIG_FILE);
  return { weightsPath, configPath: (await statOrNull(configPath))?.isFile() ? configPath : null };
}

/** Read and parse a `config.json` (at most 1 MiB). Internal. @throws CodecError `bad-file` / `bad-config` naming the file */
export async function readConfigFile(configPath: string): Promise<unknown> {
  return readConfig(configPath);
}

async function findWeights(dir: string): Promise<string> {
  const names = await readdir(dir).catch((cause: unknown) => {
    throw new CodecError("bad-file", `${dir}: cannot list the folder`, { cause });
  });
  if (names.includes(SAFETENSORS_FILE)) return path.join(dir, SAFETENSORS_FILE);
  if (names.includes(CHECKPOINT_FILE)) return path.join(dir, CHECKPOINT_FILE);
  const checkpoints = names.filter((n) => n.endsWith(".th") && !LM_CHECKPOINT.test(n)).sort();
  if (checkpoints.length === 1) return path.join(dir, checkpoints[0]!);
  if (checkpoints.length === 0) throw new CodecError("bad-file", `${dir}: no ${SAFETENSORS_FILE}, ${CHECKPOINT_FILE} or other EnCodec .th checkpoint in the folder`);
  throw new CodecError("bad-file", `${dir}: several checkpoints (${checkpoints.join(", ")}); name the file to use`);
}

async function readBounded(file: string, maxBytes: number): Promise<Uint8Array> {
  const info = await statOrNull(file);
  if (!info?.isFile()) throw new CodecError("bad-file", `${file}: no such file`);
  if (info.size > maxBytes) throw new CodecError("bad-file", `${file}: ${info.size} bytes is over the ${maxBytes}-byte limit`);
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (cause) {
    throw new CodecError("bad-file", `${file}: cannot be read`, { cause });
  }
}

async function readConfig(configPath: string): Promise<unknown> {
  const bytes = await readBounded(configPath, MAX_CONFIG_BYTES);
  try {
    const json: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error("not a JSON object");
    return json;
  } catch (cause) {
    throw new CodecError("bad-config", `${configPath}: not a JSON object (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

/**
 * Every architecture field of `config` (transformers' defaults filling absent fields) must equal
 * what the weights show, and the weights must hold the codebooks its largest bandwidth needs.
 */
function checkConfigMatches(config: unknown, tensors: TensorMap, configPath: string, weightsPath: string): void {
  const given = parseEncodecConfig(config, configPath);
  const derived = parseEncodecConfig(deriveHfConfig(tensors, {}, weightsPath), weightsPath);
  const mismatch = (what: string): CodecError => new CodecError("shape-mismatch", `${configPath} does not match ${weightsPath}: ${what}`);
  for (const [field, hubName] of ARCHITECTURE_FIELDS) {
    const want = JSON.stringify(given[field]);
    const got = JSON.stringify(derived[field]);
    if (want !== got) throw mismatch(`${hubName} is ${want} in config.json, ${got} in the weights`);
  }
  if (numQuantizers(given) > numQuantizers(derived)) {
    throw mismatch(`target_bandwidths need ${numQuantizers(given)} codebooks, the weights have ${numQuantizers(derived)}`);
  }
}

function isZip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

async function statOrNull(p: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}
