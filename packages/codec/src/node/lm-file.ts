import { open, readFile } from "node:fs/promises";
import { CodecError } from "../errors.js";
import { bytesToFloat32 } from "../internal/dtype.js";
import { LmArenaBuilder, roundUp4, scratchFloatsFor } from "../lm/internal/lm-arena.js";
import { loadLmWeights, type LmWeights, type LoadLmWeightsOptions } from "../lm/lm-weights.js";
import type { TensorMap } from "../weights/raw-tensor.js";
import { dtypeBytes, parseSafetensorsHeader, safetensorsHeaderLength } from "../weights/safetensors.js";
import { readTorchCheckpoint } from "../weights/torch-checkpoint.js";

/** Options of {@link readLmWeightsFile}. */
export interface ReadLmWeightsFileOptions extends LoadLmWeightsOptions {
  /**
   * Largest file accepted, in bytes; a larger one is refused before anything is read.
   * @default 536870912 (512 MiB; the published language models are about 70 MB)
   */
  maxBytes?: number;
}

const DEFAULT_MAX_LM_FILE_BYTES = 512 * 1024 * 1024;
/** Bytes read at a time for tensors that are widened (not float32) or on a big-endian host. */
const CHUNK_BYTES = 1 << 20;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Read a language model file (`lm.safetensors`, or an original `encodec_lm_*.th` checkpoint) and
 * {@link loadLmWeights} it, holding its weights once. A safetensors file is read tensor by tensor
 * straight into the block of memory the model's kernels run on: no buffer of the whole file is
 * made, so loading needs about the weights' size and no more. A `.th` checkpoint (a zip archive)
 * is read whole, then its tensors are copied into that block and the file's bytes let go.
 *
 * @param path the file
 * @param options the model's hyper-parameters (see {@link LoadLmWeightsOptions}) and the size limit;
 *   `source` (for messages) defaults to `path`
 * @throws CodecError `bad-file` (too large, bad header) / `truncated` / `corrupt` / `unsupported`,
 *   and the errors of `loadLmWeights`, each naming the file
 * @throws the file system's error when the file cannot be opened or read
 */
export async function readLmWeightsFile(path: string, options: ReadLmWeightsFileOptions = {}): Promise<LmWeights> {
  const source = options.source ?? path;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LM_FILE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`options.maxBytes must be a positive integer, got ${maxBytes}`);
  const loadOptions: LoadLmWeightsOptions = { ...options, source };
  delete (loadOptions as ReadLmWeightsFileOptions).maxBytes;
  let tensors: TensorMap;
  const file = await open(path, "r");
  try {
    const size = (await file.stat()).size;
    if (size > maxBytes) throw new CodecError("bad-file", `${source}: ${size} bytes is over the ${maxBytes}-byte limit for a language model`);
    const first8 = new Uint8Array(8);
    const got = size >= 8 ? (await file.read(first8, 0, 8, 0)).bytesRead : 0;
    if (got >= 4 && first8[0] === 0x50 && first8[1] === 0x4b && first8[2] === 0x03 && first8[3] === 0x04) {
      await file.close().catch(() => undefined);
      const buffer = await readFile(path);
      tensors = readTorchCheckpoint(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), source, { maxBytes });
      return loadLmWeights(tensors, loadOptions);
    }
    const read = await readSafetensorsIntoArena(file, size, got === 8 ? first8 : first8.subarray(0, got), source, options.numCodebooks);
    tensors = read.tensors;
    if (read.skipped && loadOptions.frameRateHz === undefined && loadOptions.pastContext === undefined) {
      // The default past context follows the model's codebook count, which the skipped tensors told.
      const rate = read.modelCodebooks === 32 ? 75 : read.modelCodebooks === 16 ? 150 : undefined;
      if (rate !== undefined) loadOptions.frameRateHz = rate;
    }
  } finally {
    await file.close().catch(() => undefined);
  }
  return loadLmWeights(tensors, loadOptions);
}

type FileHandle = Awaited<ReturnType<typeof open>>;

/** Read exactly `length` bytes at `position` into `into[offset..]`, or throw `truncated`. */
async function readExactly(file: FileHandle, into: Uint8Array, offset: number, length: number, position: number, source: string): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(into, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new CodecError("truncated", `${source}: the file ended at byte ${position + done}, ${length - done} bytes short`);
    done += bytesRead;
  }
}

/**
 * The tensors of a safetensors file as views into one new LM arena: the header is read and
 * checked first (every range against the file's size), the arena sized from it, then each tensor
 * read into its place (float32 on a little-endian host directly, other types widened from chunks).
 */
async function readSafetensorsIntoArena(
  file: FileHandle,
  size: number,
  first8: Uint8Array,
  source: string,
  numCodebooks: number | undefined,
): Promise<{ tensors: TensorMap; modelCodebooks: number; skipped: boolean }> {
  const headerLen = safetensorsHeaderLength(first8, size, source);
  const headerBytes = new Uint8Array(headerLen);
  await readExactly(file, headerBytes, 0, headerLen, 8, source);
  const dataStart = 8 + headerLen;
  const all = parseSafetensorsHeader(headerBytes, size - dataStart, source);
  // Codebooks past `numCodebooks` are not read (loadLmWeights checks the option's range).
  let modelCodebooks = 0;
  const codebookOf = (name: string): number => {
    const m = /^(?:emb|linears)\.(\d+)\./.exec(name);
    return m ? Number(m[1]) : -1;
  };
  for (const e of all) if (/^emb\.\d+\.weight$/.test(e.name)) modelCodebooks = Math.max(modelCodebooks, codebookOf(e.name) + 1);
  const keepBelow = numCodebooks !== undefined && Number.isInteger(numCodebooks) && numCodebooks >= 1 && numCodebooks <= modelCodebooks ? numCodebooks : Infinity;
  const entries = all.filter((e) => codebookOf(e.name) < keepBelow);
  let floats = 0;
  let maxDim = 4;
  for (const e of entries) {
    floats += roundUp4(e.count);
    for (const d of e.dims) if (d > maxDim) maxDim = d;
  }
  const builder = new LmArenaBuilder(floats, scratchFloatsFor(maxDim));
  const tensors: TensorMap = new Map();
  let chunk: Uint8Array | null = null;
  for (const e of entries) {
    const data = builder.take(e.count);
    if (e.dtype === "F32" && LITTLE_ENDIAN) {
      await readExactly(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, e.end - e.begin, dataStart + e.begin, source);
    } else {
      const width = dtypeBytes(e.dtype);
      const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / width));
      chunk ??= new Uint8Array(CHUNK_BYTES);
      for (let i = 0; i < e.count; i += perChunk) {
        const n = Math.min(perChunk, e.count - i);
        await readExactly(file, chunk, 0, n * width, dataStart + e.begin + i * width, source);
        data.set(bytesToFloat32(chunk.subarray(0, n * width), e.dtype, n), i);
      }
    }
    tensors.set(e.name, { dims: e.dims, data, sourceDtype: e.dtype });
  }
  return { tensors, modelCodebooks, skipped: entries.length < all.length };
}
