import { CodecError } from "../errors.js";
import type { RawTensor, TensorMap } from "./raw-tensor.js";
import { openTorchArchive } from "./torch-zip.js";
import { TorchTensor, unpickleTorch } from "./torch-unpickle.js";

/** Options for {@link readTorchCheckpoint}. */
export interface ReadTorchCheckpointOptions {
  /**
   * Largest summed uncompressed size of the archive entries that are read (pickle + storages), in bytes.
   * @default 2147483648 (2 GiB)
   */
  maxBytes?: number;
}

/** Default bound on the extracted size of a checkpoint: 2 GiB. */
const DEFAULT_MAX_CHECKPOINT_BYTES = 2 * 1024 ** 3;

/**
 * Keys under which training code commonly wraps the state dict, tried in this order when the
 * top-level dict is not itself name → tensor (`{"model": state_dict, "epoch": 3}`).
 */
const WRAPPER_KEYS = ["state_dict", "model", "best_state", "model_state_dict", "state"] as const;
/** How deep wrappers may nest (`{"best_state": {"model": state_dict}}` is two). */
const MAX_WRAPPER_DEPTH = 3;

/**
 * Read a PyTorch `torch.save` checkpoint (the zip format of PyTorch ≥ 1.6) holding a state dict,
 * such as the official EnCodec `encodec_24khz-d7cc33bc.th`. Names are returned as stored (for EnCodec
 * the original names; see `mapOriginalToHfNames`).
 *
 * Only a safe subset of pickle is accepted: (ordered) dicts, tuples, lists, strings, numbers, and
 * tensors on `torch.{Float,Half,BFloat16,Double,Long,Int}Storage` (strided views included). Any other
 * pickled class is refused before anything is called. A top-level dict that wraps the state dict
 * under `state_dict` / `model` / `best_state` / `model_state_dict` / `state` is unwrapped.
 *
 * @param bytes the whole file; not modified or retained (tensors get their own arrays)
 * @param source name of the file, used in error messages
 * @returns tensors by name in file order, values widened to float32
 * @throws CodecError `bad-file` (not a zip checkpoint, over `maxBytes`), `truncated`, `corrupt`
 *   (malformed pickle, a tensor outside its storage), `unsupported` (refused class, legacy format,
 *   big-endian storages, no state dict found)
 */
export function readTorchCheckpoint(bytes: Uint8Array, source = "checkpoint", options: ReadTorchCheckpointOptions = {}): TensorMap {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const archive = openTorchArchive(bytes, source, maxBytes);
  const root = unpickleTorch(archive.pickle, archive.storages, source);
  const stateDict = findStateDict(root, 0);
  if (!stateDict) {
    const keys = root instanceof Map ? [...root.keys()].slice(0, 10).map(String).join(", ") : typeof root;
    throw new CodecError("unsupported", `${source}: no state dict (name → tensor) found; top level holds ${keys}`);
  }
  const out: TensorMap = new Map();
  for (const [name, tensor] of stateDict) {
    const plain: RawTensor = { dims: tensor.dims, data: tensor.data, sourceDtype: tensor.sourceDtype };
    out.set(name, plain);
  }
  return out;
}

/** A Map whose keys are all strings and values all tensors, or the first such Map under a wrapper key. */
function findStateDict(value: unknown, depth: number): Map<string, TorchTensor> | undefined {
  if (!(value instanceof Map)) return undefined;
  if (value.size > 0 && [...value].every(([k, v]) => typeof k === "string" && v instanceof TorchTensor)) {
    return value as Map<string, TorchTensor>;
  }
  if (depth >= MAX_WRAPPER_DEPTH) return undefined;
  for (const key of WRAPPER_KEYS) {
    const found = findStateDict(value.get(key), depth + 1);
    if (found) return found;
  }
  return undefined;
}
