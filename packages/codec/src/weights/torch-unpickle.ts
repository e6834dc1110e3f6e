import { NameRegistry, Parser } from "pickleparser";
import { CodecError } from "../errors.js";
import { bytesToFloat32 } from "../internal/dtype.js";
import type { RawTensor, TensorDtype } from "./raw-tensor.js";
import { MAX_WEIGHT_ELEMENTS, MAX_WEIGHT_TENSORS } from "./limits.js";

/** Bytes per element of each storage dtype. */
const ITEM_BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

/** The `torch.<Name>Storage` classes a checkpoint may name, and the dtype each stands for. */
const STORAGE_CLASSES: Record<string, TensorDtype> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
};

/** Most elements one tensor may have (1 GiB of float32): bounds what a stride trick can allocate. */
const MAX_TENSOR_ELEMENTS = 2 ** 28;
/** Most dimensions one tensor may have. */
const MAX_TENSOR_RANK = 16;

/** A tensor rebuilt from the pickle (`torch._utils._rebuild_tensor_v2`); frozen so a later BUILD opcode cannot alter it. */
export class TorchTensor implements RawTensor {
  constructor(
    readonly dims: readonly number[],
    readonly data: Float32Array,
    readonly sourceDtype: TensorDtype,
  ) {
    Object.freeze(this);
  }
}

/** `collections.OrderedDict` (also the state dict itself); its pickled attributes (`_metadata`) are dropped. */
export class PickledDict extends Map<unknown, unknown> {
  __setstate__(_state: unknown): void {
    // torch state dicts carry a `_metadata` attribute (module versions); nothing here needs it.
  }
}

/** Marker for a `torch.<X>Storage` class named by the pickle. */
class StorageType {
  constructor(
    readonly className: string,
    readonly dtype: TensorDtype,
  ) {}
}

/** A storage resolved from a persistent id: its bytes, already checked against `numel`. */
class StorageRef {
  private decoded: Float32Array | undefined;
  constructor(
    readonly key: string,
    readonly dtype: TensorDtype,
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {}

  /** Elements `[begin, begin + count)` widened to float32 (a fresh array). */
  slice(begin: number, count: number): Float32Array {
    const w = ITEM_BYTES[this.dtype];
    return bytesToFloat32(this.bytes.subarray(begin * w, (begin + count) * w), this.dtype, count);
  }

  /** The whole storage widened to float32, decoded once and shared by strided views. */
  all(): Float32Array {
    this.decoded ??= this.slice(0, this.numel);
    return this.decoded;
  }
}

type AnyFn = (...args: never[]) => unknown;

/**
 * Unpickle `data.pkl` of a torch checkpoint, allowing only what a state dict needs: ordered dicts,
 * tensors (`torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`), typed storages by persistent
 * id, and plain pickle values (dicts, lists, tuples, strings, numbers). Any other class is refused.
 *
 * @param storages storage bytes by key, from the archive
 * @returns the unpickled top-level object (tensors as {@link TorchTensor}, dicts as `Map`)
 * @throws CodecError `unsupported` naming a refused class, `corrupt` for a malformed pickle or a
 *   tensor that does not fit its storage
 */
export function unpickleTorch(pickle: Uint8Array, storages: ReadonlyMap<string, Uint8Array>, source: string): unknown {
  const where = `${source}: data.pkl`;
  const refs = new Map<string, StorageRef>();
  // Tensors rebuilt so far: strided views can make many large tensors of one small storage.
  const budget = { tensors: 0, elements: 0 };

  const registry = new (class extends NameRegistry {
    override onMissingName(module: string, name: string): never {
      throw new CodecError(
        "unsupported",
        `${where}: refuses pickled class ${module}.${name}; only tensors, storages and ordered dicts are allowed in a checkpoint`,
      );
    }
  })();
  registry.register("collections", "OrderedDict", function OrderedDict() {
    return new PickledDict();
  });
  registry.register("torch._utils", "_rebuild_tensor_v2", (...args: unknown[]) => rebuildTensor(args, where, budget));
  registry.register("torch._utils", "_rebuild_parameter", (data: unknown) => {
    if (!(data instanceof TorchTensor)) throw new CodecError("corrupt", `${where}: _rebuild_parameter without a tensor`);
    return data;
  });
  for (const [className, dtype] of Object.entries(STORAGE_CLASSES)) {
    registry.register("torch", className, new StorageType(className, dtype) as unknown as AnyFn);
  }

  const persistentResolver = {
    resolve(pid: unknown): StorageRef {
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== "storage") {
        throw new CodecError("unsupported", `${where}: unsupported persistent id ${describe(pid)} (expected ('storage', type, key, location, numel))`);
      }
      const [, type, key, , numel] = pid as [unknown, unknown, unknown, unknown, unknown];
      if (!(type instanceof StorageType)) throw new CodecError("unsupported", `${where}: storage of unsupported type ${describe(type)}`);
      if (typeof key !== "string") throw new CodecError("corrupt", `${where}: storage key ${describe(key)} is not a string`);
      if (!isCount(numel)) throw new CodecError("corrupt", `${where}: storage ${key} has invalid numel ${describe(numel)}`);
      const cacheKey = `${type.dtype}:${key}`;
      const known = refs.get(cacheKey);
      if (known) {
        if (known.numel !== numel) throw new CodecError("corrupt", `${where}: storage ${key} is declared with numel ${known.numel} and ${numel}`);
        return known;
      }
      const bytes = storages.get(key);
      if (!bytes) throw new CodecError("corrupt", `${where}: storage ${key} has no data/${key} entry in the archive`);
      const need = numel * ITEM_BYTES[type.dtype];
      if (bytes.byteLength !== need) {
        throw new CodecError("corrupt", `${where}: storage ${key} (${type.className}, numel ${numel}) needs ${need} bytes, its entry has ${bytes.byteLength}`);
      }
      const ref = new StorageRef(key, type.dtype, numel, bytes);
      refs.set(cacheKey, ref);
      return ref;
    },
  };

  const parser = new Parser({
    nameResolver: registry,
    persistentResolver,
    extensionResolver: {
      resolve: (code: number) => {
        throw new CodecError("unsupported", `${where}: refuses pickle extension code ${code}`);
      },
    },
    unpicklingTypeOfDictionary: "Map",
    unpicklingTypeOfSet: "array",
  });
  try {
    return parser.parse(pickle);
  } catch (cause) {
    if (cause instanceof CodecError) throw cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new CodecError("corrupt", `${where}: malformed pickle (${detail})`, { cause });
  }
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(args: unknown[], where: string, budget: { tensors: number; elements: number }): TorchTensor {
  if (args.length < 6 || args.length > 7) throw new CodecError("corrupt", `${where}: _rebuild_tensor_v2 called with ${args.length} arguments`);
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new CodecError("corrupt", `${where}: _rebuild_tensor_v2 without a storage`);
  const name = `tensor on storage ${storage.key}`;
  if (!isCount(offset)) throw new CodecError("corrupt", `${where}: ${name} has invalid storage offset ${describe(offset)}`);
  if (!Array.isArray(size) || size.length > MAX_TENSOR_RANK || !size.every(isCount)) {
    throw new CodecError("corrupt", `${where}: ${name} has invalid size ${describe(size)}`);
  }
  if (!Array.isArray(stride) || stride.length !== size.length || !stride.every(isCount)) {
    throw new CodecError("corrupt", `${where}: ${name} has invalid stride ${describe(stride)} for size ${describe(size)}`);
  }
  // Copies: the pickle's tuples stay reachable through its memo and must not alias the result.
  const dims = Object.freeze([...(size as number[])]);
  const strides = [...(stride as number[])];
  let count = 1;
  let lastIndex = offset;
  for (let i = 0; i < dims.length; i++) {
    count *= dims[i]!;
    if (count > MAX_TENSOR_ELEMENTS) throw new CodecError("corrupt", `${where}: ${name} [${dims.join(", ")}] has more than ${MAX_TENSOR_ELEMENTS} elements`);
    lastIndex += (dims[i]! - 1) * strides[i]!;
  }
  budget.tensors++;
  budget.elements += count;
  if (budget.tensors > MAX_WEIGHT_TENSORS) throw new CodecError("bad-file", `${where}: more than ${MAX_WEIGHT_TENSORS} tensors, beyond any EnCodec model`);
  if (budget.elements > MAX_WEIGHT_ELEMENTS) {
    throw new CodecError("bad-file", `${where}: tensors add up to more than ${MAX_WEIGHT_ELEMENTS} elements, beyond any EnCodec model`);
  }
  if (count === 0) return new TorchTensor(dims, new Float32Array(0), storage.dtype);
  if (lastIndex >= storage.numel) {
    throw new CodecError(
      "corrupt",
      `${where}: ${name} [${dims.join(", ")}] stride [${strides.join(", ")}] offset ${offset} reaches element ${lastIndex}, storage has ${storage.numel}`,
    );
  }
  if (isContiguous(dims, strides)) return new TorchTensor(dims, storage.slice(offset, count), storage.dtype);
  return new TorchTensor(dims, gatherStrided(storage.all(), offset, dims, strides, count), storage.dtype);
}

function isContiguous(dims: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    if (dims[i] !== 1 && strides[i] !== expected) return false;
    expected *= dims[i]!;
  }
  return true;
}

/** Copy a strided view into a fresh row-major array (an odometer over the indices, last dim fastest). */
function gatherStrided(src: Float32Array, offset: number, dims: readonly number[], strides: readonly number[], count: number): Float32Array {
  const out = new Float32Array(count);
  const rank = dims.length;
  const index = new Array<number>(rank).fill(0);
  let at = offset;
  for (let n = 0; n < count; n++) {
    out[n] = src[at]!;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      at += strides[d]!;
      if (index[d]! < dims[d]!) break;
      at -= index[d]! * strides[d]!;
      index[d] = 0;
    }
  }
  return out;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function describe(value: unknown): string {
  if (value instanceof StorageType) return `torch.${value.className}`;
  if (typeof value === "function") {
    const proto = (value as { prototype?: { __module__?: unknown; __name__?: unknown } }).prototype;
    if (proto && typeof proto.__name__ === "string") return `${String(proto.__module__)}.${proto.__name__}`;
    return "a function";
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `bytes(${value.byteLength})`;
  if (Array.isArray(value)) return `(${value.slice(0, 8).map(describe).join(", ")}${value.length > 8 ? ", …" : ""})`;
  if (value instanceof Map) return `dict(${value.size} items)`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
