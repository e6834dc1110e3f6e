import { open, type FileHandle } from "node:fs/promises";
import {
  ECDC_HEADER_BYTES,
  EcdcStreamReader,
  isCodecError,
  MAX_ECDC_METADATA_BYTES,
  parseEcdcHeader,
  type EcdcMetadata,
  type EcdcStreamBlock,
} from "@encstream/codec";
import { WavFileWriter } from "../audio/wav-writer.js";
import type { DecodeOptions } from "../command-options.js";
import { CliError } from "../errors.js";
import { checkOutputPath, writeAtomically } from "../internal/atomic-file.js";
import { CodingProgress } from "../internal/coding-progress.js";
import { processIo, secondsSince, type CommandIo } from "../internal/command-io.js";
import { describeIoError } from "../internal/io-error.js";
import { resolveModel } from "../model-loader.js";
import { MODEL_PRESETS, type ModelRef } from "../model-ref.js";


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
 * it offline as the codec's `EncodecModel.decode` does (the reference `decompress`) and writes a
 * WAV at the model's rate. Everything is streamed: the file is read piece by piece
 * (`EcdcStreamReader`), decoded block by block (`createOfflineDecoder`) and the WAV written as the
 * audio comes, so memory stays flat for any length. Without `--model` the model the file names
 * (`encodec_24khz`/`encodec_48khz`) is taken from the cache; with one, its name must match the
 * file's. `OUT` is checked before any work and written under a temporary name beside it, renamed
 * at the end. A progress bar (plain lines off a terminal) goes to `io.stderr`.
 *
 * @throws CliError `"io"` / `"too-large"` / `"bad-ecdc"` naming the input for a missing,
 *   oversized, corrupt or truncated file (or LM codes that desync: the message says that files
 *   LM-coded by the reference Python implementation cannot be decoded exactly); `"model-mismatch"`
 *   when the file was made by another model; `"lm-unavailable"` for an LM-coded file without an
 *   LM; the model errors of `resolveModel`; `"usage"` / `"io"` when `OUT` is the input or cannot be written.
 */
export async function runDecode(options: DecodeOptions, io: CommandIo = processIo()): Promise<DecodeResult> {
  const log = (line: string): void => void io.stderr.write(`decode: ${line}\n`);
  const started = performance.now();
  await checkOutputPath(options.output, options.input);
  const file = await openEcdc(options.input);
  try {
    const { metadata, bodyOffset, size } = file;
    if (options.model?.kind === "preset" && `encodec_${options.model.preset.name}` !== metadata.modelName) {
      // Known without loading anything.
      throw new CliError(
        "model-mismatch",
        `${options.input} was encoded with ${metadata.modelName}, but --model is ${options.model.preset.repoId}; pass the matching --model or leave it out`,
      );
    }
    if (metadata.audioLength === 0) throw new CliError("bad-ecdc", `${options.input}: the file holds no audio (al is 0)`);
    const ref = options.model ?? modelForName(metadata.modelName, options.input);
    const resolved = await resolveModel(ref, {
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
      ...(options.lmPath !== undefined ? { lmPath: options.lmPath } : {}),
      onProgress: (p) => log(p.message),
      // Only the graphs this command runs are opened (a long file never needs the offline ones).
      loadOptions: { openGraphs: "on-first-use", ...(options.precision !== undefined ? { precision: options.precision } : {}) },
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
      const lm = metadata.useLm ? await resolved.loadLm(metadata.numCodebooks) : null;
      io.signal?.throwIfAborted();
      const seconds = metadata.audioLength / model.sampleRateHz;
      log(`reading ${metadata.useLm ? "LM-coded " : ""}codes (${metadata.numCodebooks} codebooks, ${seconds.toFixed(2)} s)`);
      let reader: EcdcStreamReader;
      try {
        reader = new EcdcStreamReader(metadata, { layout: resolved.ecdcLayout, lm, source: options.input });
      } catch (error) {
        throw asEcdcError(error, options.input);
      }
      const maxBytes = bodyOffset + maxBodyBytes(reader.totalFrames(), metadata.numCodebooks, metadata.audioLength, resolved.ecdcLayout.strideSamples);
      if (size > maxBytes) {
        throw new CliError("too-large", `${options.input}: ${size} bytes is more than ${metadata.audioLength} samples of ${metadata.numCodebooks} codebooks can take (${maxBytes})`);
      }
      const decoder = model.createOfflineDecoder({ numCodebooks: metadata.numCodebooks, lengthSamples: metadata.audioLength });
      const progress = new CodingProgress(io.stderr, metadata.useLm ? "decode (LM)" : "decode", seconds);
      try {
        await writeAtomically(options.output, async (temp) => {
          const writer = await WavFileWriter.create(temp, {
            sampleRateHz: model.sampleRateHz,
            channels: model.channels,
            sampleFormat: options.sampleFormat,
          }).catch((error: unknown) => {
            throw new CliError("io", describeIoError(options.output, "cannot write", error), { cause: error });
          });
          try {
            const decodeBlocks = async (blocks: readonly EcdcStreamBlock[]): Promise<void> => {
              for (const block of blocks) {
                io.signal?.throwIfAborted();
                await writer.write(await decoder.push(block));
                progress.update(writer.framesWritten / model.sampleRateHz);
              }
            };
            const chunk = new Uint8Array(READ_CHUNK_BYTES);
            for (let at = bodyOffset; at < size; ) {
              const { bytesRead } = await file.handle.read(chunk, 0, Math.min(chunk.byteLength, size - at), at).catch((error: unknown) => {
                throw new CliError("io", describeIoError(options.input, "cannot read", error), { cause: error });
              });
              if (bytesRead === 0) break;
              reader.push(chunk.subarray(0, bytesRead));
              at += bytesRead;
              await decodeBlocks(reader.read());
            }
            await decodeBlocks(reader.read(true));
            await writer.write(await decoder.end());
            progress.update(seconds);
          } catch (error) {
            throw asEcdcError(error, options.input);
          } finally {
            await writer.close();
          }
        });
      } finally {
        progress.stop();
      }
      io.stdout.write(
        `wrote ${options.output}: ${seconds.toFixed(2)} s, ${model.sampleRateHz} Hz, ` +
          `${model.channels} ch, ${options.sampleFormat} (${secondsSince(started)})\n`,
      );
      return {
        output: options.output,
        modelName: metadata.modelName,
        audioLength: metadata.audioLength,
        sampleRateHz: model.sampleRateHz,
        channels: model.channels,
        useLm: metadata.useLm,
      };
    } finally {
      await resolved.release();
    }
  } finally {
    await file.handle.close();
  }
}

/** Bytes read from an `.ecdc` file per step. */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * The most body bytes a valid file of this shape can have: packed codes take 10 bits a code; an
 * LM-coded code at most 24 bits (every code keeps at least 2 of the coder's 2^24 range), plus a
 * flush and a scale per segment.
 */
function maxBodyBytes(frames: number, numCodebooks: number, audioLength: number, strideSamples: number | null): number {
  const segments = strideSamples === null ? 1 : Math.ceil(audioLength / strideSamples);
  return frames * numCodebooks * 3 + segments * 8 + 16;
}

/** The published model an `.ecdc` file's `m` names; any other needs `--model`. */
function modelForName(name: string, input: string): ModelRef {
  const preset = Object.values(MODEL_PRESETS).find((p) => `encodec_${p.name}` === name);
  if (preset === undefined) {
    throw new CliError("usage", `${input} was encoded with model ${JSON.stringify(name)}; name its folder with --model`);
  }
  return { kind: "preset", preset };
}

/** An open `.ecdc` file with its parsed header. */
interface OpenEcdc {
  readonly handle: FileHandle;
  readonly size: number;
  readonly metadata: EcdcMetadata;
  readonly bodyOffset: number;
}

/** Opens `path` and parses its header (read from the first bytes only). */
async function openEcdc(path: string): Promise<OpenEcdc> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, "r");
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw Object.assign(new Error("not a file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
    }
    size = info.size;
  } catch (error) {
    throw new CliError("io", describeIoError(path, "cannot open", error), { cause: error });
  }
  try {
    const head = new Uint8Array(Math.min(size, ECDC_HEADER_BYTES + MAX_ECDC_METADATA_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.byteLength, 0).catch((error: unknown) => {
      throw new CliError("io", describeIoError(path, "cannot read", error), { cause: error });
    });
    let header;
    try {
      header = parseEcdcHeader(head.subarray(0, bytesRead), path);
    } catch (error) {
      throw asEcdcError(error, path);
    }
    return { handle, size, metadata: header.metadata, bodyOffset: header.bodyOffset };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * A codec error about the file becomes `"bad-ecdc"` (`"lm-unavailable"` stays itself); LM codes
 * that desync say what most likely happened and what to do.
 */
function asEcdcError(error: unknown, path: string): unknown {
  if (!isCodecError(error)) return error;
  if (error.code === "lm-unavailable") return new CliError("lm-unavailable", error.message, { cause: error });
  if (error.code === "lm-desync") {
    return new CliError(
      "bad-ecdc",
      `${path}: the LM-coded codes cannot be decoded (${error.message.replace(`${path}: `, "").split(";")[0]}). ` +
        "Files LM-coded by the reference Python encodec (its --lm option) cannot be decoded by encstream: their probabilities come from float32 arithmetic no other implementation reproduces bit for bit. " +
        "Encode the audio again without --lm (the reference's default) or with encstream; a file from encstream failing here is corrupt or needs the language model it was made with (--lm PATH)",
      { cause: error },
    );
  }
  const message = error.message.includes(path) ? error.message : `${path}: ${error.message}`;
  return new CliError("bad-ecdc", message, { cause: error });
}
