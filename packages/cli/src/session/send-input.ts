import type { AudioSource } from "@encstream/session";
import { CaptureInput } from "../audio/capture.js";
import { formatRawFormat, type RawFormat } from "../audio/raw-format.js";
import { StreamInput } from "../audio/stream-input.js";
import { WavInput } from "../audio/wav-input.js";
import { CliError } from "../errors.js";

/** `--input` values that are not file names. */
export const STDIN_INPUT = "-";
export const MIC_INPUT = "mic";

/** What `send` reads: a WAV file, stdin (`-`) or the microphone (`mic`). */
export interface SendInput {
  /** The audio, at the model's rate and channel count. */
  readonly source: AudioSource;
  /** Length in seconds when known (a file); undefined for a live input. */
  readonly durationS: number | undefined;
  /** What it is, for the log line. */
  readonly description: string;
  /** Capture overruns so far (a microphone; 0 otherwise). */
  readonly overruns: () => number;
  /** Stops reading (a pending read returns null); safe to call more than once. */
  close(): Promise<void>;
}

/** Where `send` reads from, and how. */
export interface SendInputOptions {
  /** `--input`: a WAV path, `-` or `mic`. */
  readonly input: string;
  /** `--raw-format` for `--input -`. */
  readonly rawFormat?: RawFormat | undefined;
  /** `--input-device` for `--input mic`. */
  readonly inputDevice?: string | undefined;
}

/**
 * Opens `send`'s input at the model's format: a WAV file ({@link WavInput}), stdin as a WAV or
 * raw stream ({@link StreamInput}; `stdin` is the stream, process.stdin by default) or a
 * capture device ({@link CaptureInput}).
 *
 * @throws CliError `"usage"` for `--raw-format` without `--input -` or `--input-device` without
 *   `--input mic`, and the inputs' own errors.
 */
export async function openSendInput(
  options: SendInputOptions,
  format: { sampleRateHz: number; channels: number },
  stdin: NodeJS.ReadableStream & AsyncIterable<Uint8Array | string> = process.stdin,
): Promise<SendInput> {
  const { input } = options;
  if (options.rawFormat !== undefined && input !== STDIN_INPUT) throw new CliError("usage", "--raw-format describes stdin: give it with --input -");
  if (options.inputDevice !== undefined && input !== MIC_INPUT) throw new CliError("usage", "--input-device picks the capture device: give it with --input mic");
  if (input === STDIN_INPUT) {
    const stream = await StreamInput.open(stdin, { ...format, rawFormat: options.rawFormat });
    const what = options.rawFormat !== undefined ? `raw ${formatRawFormat(options.rawFormat)}` : `WAV, ${stream.sourceRateHz} Hz, ${stream.sourceChannels} channel(s)`;
    return {
      source: stream,
      durationS: undefined,
      description: `stdin (${what})`,
      overruns: () => 0,
      close: async () => {
        await stream.close();
        (stdin as { destroy?: () => void }).destroy?.();
      },
    };
  }
  if (input === MIC_INPUT) {
    const capture = await CaptureInput.open({ ...format, device: options.inputDevice });
    return {
      source: capture,
      durationS: undefined,
      description: `input device ${capture.device.id} "${capture.device.name}" (${capture.captureRateHz} Hz, ${capture.captureChannels} channel(s))`,
      overruns: () => capture.overruns,
      close: () => capture.close(),
    };
  }
  const wav = await WavInput.open(input, format);
  if (wav.frameCount === 0) {
    await wav.close();
    throw new CliError("unsupported", `${input}: the WAV file holds no audio`);
  }
  return { source: wav, durationS: wav.durationS, description: `${input} (${wav.durationS.toFixed(2)} s)`, overruns: () => 0, close: () => wav.close() };
}
