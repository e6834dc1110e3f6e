// Big-endian (network order) uint32 access on a Uint8Array, written out byte by byte: explicit
// about endianness, no DataView to allocate per call, and safe on any byteOffset.

/** Reads the big-endian uint32 at `bytes[offset..offset+4)`; the caller has checked the bounds. */
export function readU32BE(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  );
}

/** Writes `value` (a uint32) big-endian at `bytes[offset..offset+4)`; bounds checked by the caller. */
export function writeU32BE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
