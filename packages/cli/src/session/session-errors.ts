import { isSessionError, type SessionCodec } from "@encstream/session";
import { CliError } from "../errors.js";

/**
 * The command's error for what a session of `@encstream/session` threw: a `SessionError` becomes
 * the `CliError` of the same code, its message completed with the flag that fixes it; anything
 * else is returned as it is.
 */
export function asCliError(error: unknown, codec: Pick<SessionCodec, "modelKind">): unknown {
  if (!isSessionError(error)) return error;
  switch (error.code) {
    case "model-mismatch":
      return new CliError("model-mismatch", `${error.message}; receive with --model ${codec.modelKind === "24k" ? "48khz" : "24khz"}`, { cause: error });
    case "lm-unavailable":
      return new CliError(
        "lm-unavailable",
        "the stream is LM-coded, and no language model was found beside the model; give one with --lm PATH, or send with --no-lm",
        { cause: error },
      );
    default:
      return new CliError(error.code, error.message, { cause: error });
  }
}
