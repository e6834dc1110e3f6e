import { readFile, stat } from "node:fs/promises";
import {
  isCodecError,
  MAX_SEGMENT_SAMPLES,
  parseEcdcHeader,
  readEcdcWithLm,
  type EcdcMetadata,
  type EncodedAudio,
} from "@encstream/codec";
import { WavFileWriter } from "../audio/wav-writer.js";
import type { DecodeOptions } from "../command-options.js";
import { CliError } from "../errors.js";
import { writeAtomically } from "../internal/atomic-file.js";
import { processIo, secondsSince, type CommandIo } from "../internal/command-io.js";
import { describeIoError } from "../internal/io-error.js";
import { resolveModel } from "../model-loader.js";
import { MODEL_PRESETS, type ModelRef } from "../model-ref.js";

/**
 * Largest `.ecdc` file `decode` reads, bytes. 24 kbps for the longest audio decode accepts
 * (`MAX_SEGMENT_SAMPLES` at 24 kHz, about 21 min) is under 4 MB; this leaves ample room.
 */
export const MAX_ECDC_FILE_BYTES = 64 * 1024 * 1024;

/** What {@link runDecode} did. */
export interface DecodeResult {
  /** The WAV file written (as given). */
  readonly output: string;
  /** The model name in the file (`m`). */
  readonly modelName: string;
  /** Samples per channel written. */
  readonly audioLength: number;
  /** Rate of the WAV, Hz. */
  readonly sampleRateHz: number;
  /** Channels of the WAV. */
  readonly channels: number;
  /** True when the file was LM-coded. */
  readonly useLm: boolean;
}

/**
 * `encstream decode IN.ecdc OUT.wav`: reads a reference `.ecdc` file (LM-coded or not), decodes
 * it offline as the reference `decompress` does and writes a WAV at the model's rate. Without
 * `--model` the model the file names (`encodec_24khz`/`encodec_48khz`) is taken from the cache;
 * with one, its name must match the file's. The WAV is written under a temporary name beside
 * `OUT` and renamed at the end.
 *
 * @throws CliError `"io"` / `"too-large"` / `"bad-ecdc"` naming the input for a missing,
 *   oversized, corrupt or truncated file (or LM codes that desync); `"model-mismatch"` when the
 *   file was made by another model; `"lm-unavailable"` for an LM-coded file without an LM;
 *   the model errors of `resolveModel`; `"io"` when `OUT` cannot be written.
 */
export async function runDecode(options: DecodeOptions, io: CommandIo = processIo()): Promise<DecodeResult> {
  const log = (line: string): void => void io.stderr.write(`decode: ${line}\n`);
  const started = performance.now();
  const bytes = await readEcdcBytes(options.input);
  const metadata = parseHeader(bytes, options.input);
  if (metadata.audioLength > MAX_SEGMENT_SAMPLES) {
    throw new CliError("too-large", `${options.input}: ${metadata.audioLength} samples is more than decode handles at once (${MAX_SEGMENT_SAMPLES})`);
  }
  if (options.model?.kind === "preset" && `encodec_${options.model.preset.name}` !== metadata.modelName) {
    // Known without loading anything.
    throw new CliError(
      "model-mismatch",
      `${options.input} was encoded with ${metadata.modelName}, but --model is ${options.model.preset.repoId}; pass the matching --model or leave it out`,
    );
  }
  const ref = options.model ?? modelForName(metadata.modelName, options.input);
  const resolved = await resolveModel(ref, {
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.lmPath !== undefined ? { lmPath: options.lmPath } : {}),
    onProgress: (p) => log(p.message),
  });
  try {
    const { model } = resolved;
    if (resolved.ecdcModelName !== metadata.modelName) {
      throw new CliError(
        "model-mismatch",
        `${options.input} was encoded with ${metadata.modelName}, but the model loaded is ${resolved.ecdcModelName} (${resolved.source.dir}); pass the matching --model`,
      );
    }
    if (metadata.numCodebooks > model.numQuantizers) {
      throw new CliError("bad-ecdc", `${options.input}: ${metadata.numCodebooks} codebooks, the model has ${model.numQuantizers}`);
    }
    const lm = metadata.useLm ? await resolved.loadLm() : null;
    io.signal?.throwIfAborted();
    log(`reading ${metadata.useLm ? "LM-coded " : ""}codes (${metadata.numCodebooks} codebooks, ${(metadata.audioLength / model.sampleRateHz).toFixed(2)} s)`);
    let file;
    try {
      file = readEcdcWithLm(bytes, lm, options.input, { layout: resolved.ecdcLayout });
    } catch (error) {
      throw asEcdcError(error, options.input);
    }
    const encoded: EncodedAudio = {
      frames: file.segments.map((segment) => ({
        codes: segment.codes as Uint16Array,
        numCodebooks: file.numCodebooks,
        numFrames: file.numCodebooks === 0 ? 0 : segment.codes.length / file.numCodebooks,
        scale: segment.scale,
      })),
      lengthSamples: file.audioLength,
      bandwidthKbps: (file.numCodebooks * resolved.ecdcLayout.bitsPerCodebook * model.frameRateHz) / 1000,
      sampleRateHz: model.sampleRateHz,
      channels: model.channels,
    };
    io.signal?.throwIfAborted();
    const decodeStarted = performance.now();
    let audio: Float32Array[];
    try {
      audio = await model.decode(encoded);
    } catch (error) {
      throw asEcdcError(error, options.input);
    }
    log(`decoded in ${secondsSince(decodeStarted)}`);
    await writeAtomically(options.output, async (temp) => {
      const writer = await WavFileWriter.create(temp, {
        sampleRateHz: model.sampleRateHz,
        channels: model.channels,
        sampleFormat: options.sampleFormat,
      });
      try {
        await writer.write(audio);
      } finally {
        await writer.close();
      }
    });
    io.stdout.write(
      `wrote ${options.output}: ${(file.audioLength / model.sampleRateHz).toFixed(2)} s, ${model.sampleRateHz} Hz, ` +
        `${model.channels} ch, ${options.sampleFormat} (${secondsSince(started)})\n`,
    );
    return {
      output: options.output,
      modelName: metadata.modelName,
      audioLength: file.audioLength,
      sampleRateHz: model.sampleRateHz,
      channels: model.channels,
      useLm: metadata.useLm,
    };
  } finally {
    await resolved.release();
  }
}

/** The published model an `.ecdc` file's `m` names; any other needs `--model`. */
function modelForName(name: string, input: string): ModelRef {
  const preset = Object.values(MODEL_PRESETS).find((p) => `encodec_${p.name}` === name);
  if (preset === undefined) {
    throw new CliError("usage", `${input} was encoded with model ${JSON.stringify(name)}; name its folder with --model`);
  }
  return { kind: "preset", preset };
}

async function readEcdcBytes(path: string): Promise<Uint8Array> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error("not a file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
    size = info.size;
  } catch (error) {
    throw new CliError("io", describeIoError(path, "cannot open", error), { cause: error });
  }
  if (size > MAX_ECDC_FILE_BYTES) {
    throw new CliError("too-large", `${path}: ${size} bytes is over the ${MAX_ECDC_FILE_BYTES}-byte limit for .ecdc files`);
  }
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw new CliError("io", describeIoError(path, "cannot read", error), { cause: error });
  }
}

function parseHeader(bytes: Uint8Array, path: string): EcdcMetadata {
  try {
    return parseEcdcHeader(bytes, path).metadata;
  } catch (error) {
    throw asEcdcError(error, path);
  }
}

/** A codec error about the file becomes `"bad-ecdc"` (`"lm-unavailable"` stays itself). */
function asEcdcError(error: unknown, path: string): unknown {
  if (!isCodecError(error)) return error;
  if (error.code === "lm-unavailable") return new CliError("lm-unavailable", error.message, { cause: error });
  const message = error.message.includes(path) ? error.message : `${path}: ${error.message}`;
  return new CliError("bad-ecdc", message, { cause: error });
}
