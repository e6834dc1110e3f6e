/** CRC-16/CCITT-FALSE table (polynomial 0x1021, MSB first). */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** Initial value of CRC-16/CCITT-FALSE. */
export const CRC16_INIT = 0xffff;

/** Feed one byte. */
export function crc16Byte(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ byte) & 0xff]!;
}

/** CRC-16/CCITT-FALSE of `bytes` (check value of "123456789" is 0x29b1). */
export function crc16(bytes: Uint8Array, crc = CRC16_INIT): number {
  for (let i = 0; i < bytes.length; i++) crc = crc16Byte(crc, bytes[i]!);
  return crc;
}

/** CRC of a flags byte followed by 16-bit codes, each big-endian. */
export function crc16OfCodes(flags: number, codes: ArrayLike<number>): number {
  let crc = crc16Byte(CRC16_INIT, flags);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    crc = crc16Byte(crc, (c >>> 8) & 0xff);
    crc = crc16Byte(crc, c & 0xff);
  }
  return crc;
}
