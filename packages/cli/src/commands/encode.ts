import { open } from "node:fs/promises";
import { EcdcStreamWriter, MAX_ECDC_AUDIO_SAMPLES } from "@encstream/codec";
import type { EncodeOptions } from "../command-options.js";
import { CliError } from "../errors.js";
import { WavInput } from "../audio/wav-input.js";
import { checkOutputPath, writeAtomically } from "../internal/atomic-file.js";
import { CodingProgress } from "../internal/coding-progress.js";
import { processIo, secondsSince, type CommandIo } from "../internal/command-io.js";
import { describeIoError } from "../internal/io-error.js";
import { resolveModel } from "../model-loader.js";

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
 * resamples and mixes it to the model's format, encodes it offline exactly as the codec's
 * `EncodecModel.encode` does (the reference `encodec.compress`), and writes the reference `.ecdc`
 * file, packed codes unless `--lm` asks for LM coding. Everything is streamed: the WAV is read
 * piece by piece, the codec works block by block (`createOfflineEncoder`) and the file is written
 * as the codes come, so memory stays flat for any length. `OUT` is checked before any work (not
 * the input, folder writable), written under a temporary name beside it and renamed at the end,
 * so it is never left half-written. A progress bar (plain lines off a terminal) goes to
 * `io.stderr`, a summary line to `io.stdout`.
 *
 * @throws CliError naming the file: the input's (`"io"`, `"not-wav"`, `"corrupt"`,
 *   `"truncated"`, `"unsupported"`, `"too-large"`), the model's (`"model-not-found"`,
 *   `"bad-model"`, `"lm-unavailable"` when the LM is asked for and none is found), `"usage"` for
 *   a bandwidth the model lacks or an `OUT` that is the input, `"io"` when `OUT` cannot be written.
 */
export async function runEncode(options: EncodeOptions, io: CommandIo = processIo()): Promise<EncodeResult> {
  const log = (line: string): void => void io.stderr.write(`encode: ${line}\n`);
  const started = performance.now();
  await checkOutputPath(options.output, options.input);
  const resolved = await resolveModel(options.model, {
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.lmPath !== undefined ? { lmPath: options.lmPath } : {}),
    requireLm: options.useLm,
    onProgress: (p) => log(p.message),
    // Only the graphs this command runs are opened (a long file never needs the offline ones).
    loadOptions: { openGraphs: "on-first-use", ...(options.precision !== undefined ? { precision: options.precision } : {}) },
  });
  try {
    const { model } = resolved;
    if (!model.bandwidthsKbps.includes(options.bandwidthKbps)) {
      throw new CliError(
        "usage",
        `--bandwidth ${options.bandwidthKbps}: this model supports ${model.bandwidthsKbps.join(", ")} kbps`,
      );
    }
    // Only the codebooks this bandwidth codes: most of the LM's memory is the other codebooks'.
    const lm = options.useLm ? await resolved.loadLm(model.numQuantizersForBandwidth(options.bandwidthKbps)) : null;
    io.signal?.throwIfAborted();
    const input = await WavInput.open(options.input, { sampleRateHz: model.sampleRateHz, channels: model.channels });
    let bytes = 0;
    let numCodebooks = 0;
    try {
      const total = input.frameCount;
      if (total === 0) throw new CliError("unsupported", `${options.input}: the WAV file holds no audio`);
      if (total > MAX_ECDC_AUDIO_SAMPLES) {
        throw new CliError("too-large", `${options.input}: ${input.durationS.toFixed(0)} s is more than an .ecdc file can hold (${MAX_ECDC_AUDIO_SAMPLES} samples)`);
      }
      const conversion =
        input.sourceRateHz !== input.sampleRateHz || input.sourceChannels !== input.channels
          ? `, converted from ${input.sourceRateHz} Hz ${input.sourceChannels} ch to ${input.sampleRateHz} Hz ${input.channels} ch`
          : "";
      log(`reading ${options.input} (${input.sourceFormat}${conversion})`);
      log(`encoding ${(total / model.sampleRateHz).toFixed(1)} s at ${options.bandwidthKbps} kbps${lm ? ", entropy coding with the language model" : ""}`);
      const encoder = model.createOfflineEncoder({ bandwidthKbps: options.bandwidthKbps, lengthSamples: total });
      numCodebooks = encoder.numCodebooks;
      const writer = new EcdcStreamWriter({ modelName: resolved.ecdcModelName, audioLength: total, numCodebooks }, { layout: resolved.ecdcLayout, lm });
      const progress = new CodingProgress(io.stderr, lm ? "encode (LM)" : "encode", total / model.sampleRateHz);
      try {
        bytes = await writeAtomically(options.output, async (temp) => {
          const file = await open(temp, "wx").catch((error: unknown) => {
            throw new CliError("io", describeIoError(options.output, "cannot write", error), { cause: error });
          });
          let written = 0;
          const put = async (chunk: Uint8Array): Promise<void> => {
            if (chunk.byteLength === 0) return;
            try {
              await file.write(chunk);
            } catch (error) {
              throw new CliError("io", describeIoError(options.output, "cannot write", error), { cause: error });
            }
            written += chunk.byteLength;
          };
          try {
            await put(writer.header());
            let pushed = 0;
            for (let piece = await input.read(); piece !== null; piece = await input.read()) {
              io.signal?.throwIfAborted();
              const take = Math.min(piece[0]!.length, total - pushed);
              if (take <= 0) continue;
              for (const block of await encoder.push(take === piece[0]!.length ? piece : piece.map((c) => c.subarray(0, take)))) await put(writer.write(block));
              pushed += take;
              progress.update(pushed / model.sampleRateHz);
            }
            // The resampler's output may fall short of frameCount by a sample: pad with silence.
            if (pushed < total) for (const block of await encoder.push(Array.from({ length: model.channels }, () => new Float32Array(total - pushed)))) await put(writer.write(block));
            for (const block of await encoder.end()) await put(writer.write(block));
            await put(writer.finish());
            progress.update(total / model.sampleRateHz);
          } finally {
            await file.close();
          }
          return written;
        });
      } finally {
        progress.stop();
      }
    } finally {
      await input.close();
    }
    io.stdout.write(
      `wrote ${options.output}: ${bytes} bytes, ${(input.frameCount / model.sampleRateHz).toFixed(2)} s, ` +
        `${options.bandwidthKbps} kbps, ${lm ? "LM-coded" : "no LM"} (${secondsSince(started)})\n`,
    );
    return {
      output: options.output,
      bytes,
      audioLength: input.frameCount,
      sampleRateHz: model.sampleRateHz,
      numCodebooks,
      useLm: lm !== null,
    };
  } finally {
    await resolved.release();
  }
}
