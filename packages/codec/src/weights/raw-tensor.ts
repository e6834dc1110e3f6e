/** Element types the weight readers understand. Everything is widened to float32 on read. */
export type TensorDtype = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32";

/**
 * One named tensor as read from a weights file, row-major, values widened to float32
 * (integer buffers such as `inited`/`cluster_size` are converted too; nothing at inference uses them).
 */
export interface RawTensor {
  /** Shape, outermost first. A scalar has `[]`. */
  readonly dims: readonly number[];
  /** Row-major values; `data.length` equals the product of `dims`. Owned by the map that holds it. */
  readonly data: Float32Array;
  /** Element type in the file it came from. */
  readonly sourceDtype: TensorDtype;
}

/** Tensors by name, in file order. */
export type TensorMap = Map<string, RawTensor>;

/** Number of elements of a shape; throws on a negative or non-integer dimension. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`dims must be non-negative integers, got [${dims.join(", ")}]`);
    n *= d;
  }
  return n;
}
