import { fileURLToPath } from "node:url";

/** The codec package's reference fixtures, used by the command tests as real models and files. */
const FIXTURES = fileURLToPath(new URL("../../codec/test/fixtures/", import.meta.url));

/** Tiny 24 kHz mono model (random weights, real architecture): config.json, model.safetensors, lm.safetensors, .ecdc references. */
export const TINY24_DIR = `${FIXTURES}tiny24`;
/** Tiny 48 kHz stereo model. */
export const TINY48_DIR = `${FIXTURES}tiny48`;
/** 24 kHz mono speech sample (16-bit), about 20 s. */
export const TEST_24K_WAV = `${FIXTURES}audio/test_24k.wav`;
/** 48 kHz stereo music sample (16-bit). */
export const TEST_48K_WAV = `${FIXTURES}audio/test_48k.wav`;
