/** The 4 bytes every `.ecdc` file starts with: ASCII `ECDC`. */
export const ECDC_MAGIC = Uint8Array.of(0x45, 0x43, 0x44, 0x43);

/** The only `.ecdc` format version there is. */
export const ECDC_VERSION = 0;

/** Bytes before the JSON metadata: magic (4), version (1), big-endian uint32 JSON length (4). */
export const ECDC_HEADER_BYTES = 9;

/** Largest JSON metadata accepted, in bytes (the reference writes about 60). */
export const MAX_ECDC_METADATA_BYTES = 64 * 1024;

/** Largest audio length accepted in a file, in samples (about 24 h at 48 kHz). */
export const MAX_ECDC_AUDIO_SAMPLES = 2 ** 32 - 1;

/** Most codebooks a file may declare (the published models use at most 32). */
export const MAX_ECDC_CODEBOOKS = 256;

/** Bytes of the big-endian float32 scale written before each segment of a normalising model. */
export const ECDC_SCALE_BYTES = 4;
