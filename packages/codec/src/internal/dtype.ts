import type { TensorDtype } from "../weights/raw-tensor.js";

/** Convert one half-precision value (as uint16 bits) to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Widen little-endian raw tensor bytes to a fresh Float32Array of `count` elements.
 * The caller has checked that `raw.byteLength` matches `count` and the dtype's width.
 */
export function bytesToFloat32(raw: Uint8Array, dtype: TensorDtype, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case "F32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case "F64":
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case "F16":
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case "BF16": {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = tmp.getFloat32(0);
      }
      break;
    }
    case "I64":
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case "I32":
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
  }
  return out;
}
