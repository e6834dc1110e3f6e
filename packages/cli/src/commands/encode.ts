import { MAX_SEGMENT_SAMPLES, writeEcdc, writeEcdcWithLm, type EcdcSegment, type EncodedAudio } from "@encstream/codec";
import type { EncodeOptions } from "../command-options.js";
import { CliError } from "../errors.js";
import { WavInput } from "../audio/wav-input.js";
import { writeFileAtomically } from "../internal/atomic-file.js";
import { processIo, secondsSince, type CommandIo } from "../internal/command-io.js";
import { resolveModel, type ResolvedModel } from "../model-loader.js";

/** What {@link runEncode} did. */
export interface EncodeResult {
  /** The `.ecdc` file written (as given). */
  readonly output: string;
  /** Its size, bytes. */
  readonly bytes: number;
  /** Audio encoded, samples per channel at the model's rate. */
  readonly audioLength: number;
  /** Model rate, Hz. */
  readonly sampleRateHz: number;
  /** Codebooks per frame (set by the bandwidth). */
  readonly numCodebooks: number;
  /** True when the codes were arithmetic-coded with the language model. */
  readonly useLm: boolean;
}

/**
 * `encstream encode IN.wav OUT.ecdc`: reads a WAV of any rate, bit depth and channel count,
 * resamples and mixes it to the model's format, encodes it offline exactly as the reference
 * `encodec.compress` does, and writes the reference `.ecdc` file (LM-coded unless `--no-lm`).
 * The file is written to a temporary name beside `OUT` and renamed at the end, so `OUT` is never
 * left half-written. Progress goes to `io.stderr`, a summary line to `io.stdout`.
 *
 * @throws CliError naming the file: the input's (`"io"`, `"not-wav"`, `"corrupt"`,
 *   `"truncated"`, `"unsupported"`, `"too-large"`), the model's (`"model-not-found"`,
 *   `"bad-model"`, `"lm-unavailable"` when the LM is asked for and none is found), `"usage"` for
 *   a bandwidth the model lacks, `"io"` when `OUT` cannot be written.
 */
export async function runEncode(options: EncodeOptions, io: CommandIo = processIo()): Promise<EncodeResult> {
  const log = (line: string): void => void io.stderr.write(`encode: ${line}\n`);
  const started = performance.now();
  const resolved = await resolveModel(options.model, {
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.lmPath !== undefined ? { lmPath: options.lmPath } : {}),
    requireLm: options.useLm,
    onProgress: (p) => log(p.message),
  });
  try {
    const { model } = resolved;
    if (!model.bandwidthsKbps.includes(options.bandwidthKbps)) {
      throw new CliError(
        "usage",
        `--bandwidth ${options.bandwidthKbps}: this model supports ${model.bandwidthsKbps.join(", ")} kbps`,
      );
    }
    const lm = options.useLm ? await resolved.loadLm() : null;
    io.signal?.throwIfAborted();
    const audio = await readModelAudio(options.input, resolved, log);
    io.signal?.throwIfAborted();

    log(`encoding ${(audio[0]!.length / model.sampleRateHz).toFixed(1)} s at ${options.bandwidthKbps} kbps`);
    const encodeStarted = performance.now();
    const encoded = await model.encode(audio, { bandwidthKbps: options.bandwidthKbps });
    log(`encoded in ${secondsSince(encodeStarted)}${lm ? "; entropy coding with the language model" : ""}`);
    io.signal?.throwIfAborted();
    const bytes = toEcdcBytes(encoded, resolved, lm);
    await writeFileAtomically(options.output, bytes);
    const numCodebooks = encoded.frames[0]?.numCodebooks ?? 0;
    io.stdout.write(
      `wrote ${options.output}: ${bytes.byteLength} bytes, ${(encoded.lengthSamples / model.sampleRateHz).toFixed(2)} s, ` +
        `${options.bandwidthKbps} kbps, ${lm ? "LM-coded" : "no LM"} (${secondsSince(started)})\n`,
    );
    return {
      output: options.output,
      bytes: bytes.byteLength,
      audioLength: encoded.lengthSamples,
      sampleRateHz: model.sampleRateHz,
      numCodebooks,
      useLm: lm !== null,
    };
  } finally {
    await resolved.release();
  }
}

/** Reads `path` at the model's rate and channel count, refusing empty or over-long audio. */
async function readModelAudio(path: string, resolved: ResolvedModel, log: (line: string) => void): Promise<Float32Array[]> {
  const { model } = resolved;
  const input = await WavInput.open(path, { sampleRateHz: model.sampleRateHz, channels: model.channels });
  try {
    if (input.frameCount === 0) throw new CliError("unsupported", `${path}: the WAV file holds no audio`);
    if (input.frameCount > MAX_SEGMENT_SAMPLES) {
      const minutes = (MAX_SEGMENT_SAMPLES / model.sampleRateHz / 60).toFixed(1);
      throw new CliError(
        "too-large",
        `${path}: ${input.durationS.toFixed(0)} s is longer than encode handles at once (${minutes} min at ${model.sampleRateHz} Hz); cut it, or stream it with send`,
      );
    }
    const conversion =
      input.sourceRateHz !== input.sampleRateHz || input.sourceChannels !== input.channels
        ? `, converted from ${input.sourceRateHz} Hz ${input.sourceChannels} ch to ${input.sampleRateHz} Hz ${input.channels} ch`
        : "";
    log(`reading ${path} (${input.sourceFormat}${conversion})`);
    const audio = Array.from({ length: input.channels }, () => new Float32Array(input.frameCount));
    let at = 0;
    for (let piece = await input.read(); piece !== null; piece = await input.read()) {
      const frames = Math.min(piece[0]!.length, input.frameCount - at);
      piece.forEach((channel, c) => audio[c]!.set(channel.subarray(0, frames), at));
      at += frames;
    }
    return at === input.frameCount ? audio : audio.map((channel) => channel.slice(0, at));
  } finally {
    await input.close();
  }
}

/** The reference `.ecdc` bytes for `encoded` (one segment per encoded frame). */
function toEcdcBytes(encoded: EncodedAudio, resolved: ResolvedModel, lm: Awaited<ReturnType<ResolvedModel["loadLm"]>> | null): Uint8Array {
  const segments: EcdcSegment[] = encoded.frames.map((frame) => ({ codes: frame.codes, scale: frame.scale }));
  const file = {
    modelName: resolved.ecdcModelName,
    audioLength: encoded.lengthSamples,
    numCodebooks: encoded.frames[0]?.numCodebooks ?? 0,
    segments,
  };
  const layout = { layout: resolved.ecdcLayout };
  return lm === null ? writeEcdc({ ...file, useLm: false }, layout) : writeEcdcWithLm(file, lm, layout);
}
