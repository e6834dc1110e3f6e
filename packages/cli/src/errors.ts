/**
 * Why the `encstream` command (or one of its audio helpers) gave up.
 *
 * - `"usage"`: a bad command line (unknown flag, bad value, missing argument).
 * - `"not-wav"`: the input is not a RIFF/WAVE file.
 * - `"corrupt"`: a WAV file whose structure is inconsistent (bad chunk sizes, bad `fmt ` fields).
 * - `"truncated"`: a WAV file that ends before its header or declared data does.
 * - `"unsupported"`: a well-formed WAV in an encoding this package does not read (A-law, ADPCM,
 *   12-bit PCM, RF64...).
 * - `"too-large"`: audio that does not fit a WAV file (over 4 GiB of data), or an input file over
 *   the size this package reads (`MAX_WAV_FILE_BYTES`; for `.ecdc` files, more bytes than their codes can take).
 * - `"io"`: the operating system refused a file operation (missing file, permissions, disk full).
 * - `"playback-unavailable"`: the optional audio backend (naudiodon2/PortAudio) cannot be loaded.
 * - `"playback-failed"`: the audio device refused to open or to play.
 * - `"model-not-found"`: the model is not in the cache (the message says how to `encstream pull` it)
 *   or the model directory does not exist.
 * - `"bad-model"`: model or language-model files that cannot be read or do not fit together.
 * - `"lm-unavailable"`: language-model coding was asked for (or a file needs it) and no LM is found.
 * - `"bad-ecdc"`: an `.ecdc` file that is not one, is truncated or corrupt, or whose LM coding desynced.
 * - `"model-mismatch"`: an `.ecdc` file made by another model than the one loaded.
 * - `"download-failed"`: `pull` could not download or verify a file.
 * - `"bad-key"`: a key file or `ENCSTREAM_KEY` value that is not in the key format.
 * - `"no-stream"`: `receive --timeout` passed without any stream arriving.
 */
export type CliErrorCode =
  | "usage"
  | "not-wav"
  | "corrupt"
  | "truncated"
  | "unsupported"
  | "too-large"
  | "io"
  | "playback-unavailable"
  | "playback-failed"
  | "model-not-found"
  | "bad-model"
  | "lm-unavailable"
  | "bad-ecdc"
  | "model-mismatch"
  | "download-failed"
  | "bad-key"
  | "no-stream";

/**
 * The one error class for failures caused by the outside world in `@encstream/cli`: bad command
 * lines, bad input files, file-system and audio-device errors. The message names the file or
 * flag and the problem, ready to print. Misuse of the API throws `TypeError`/`RangeError`.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  /** Machine-readable reason. */
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link CliError} (also across bundle copies of this package). */
export function isCliError(value: unknown): value is CliError {
  return (
    value instanceof CliError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "CliError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}
