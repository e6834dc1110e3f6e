import { SessionError } from "@encstream/session";
import { describe, expect, test } from "vitest";
import { isCliError } from "../errors.js";
import { asCliError } from "./session-errors.js";

describe("asCliError: a session's error as the command's", () => {
  test.each([
    // code, the codec's model kind, the CliError message
    ["model-mismatch", "24k", "the stream carries 48 kHz stereo EnCodec codes, but the loaded model is 24 kHz with 1 channel(s); receive with --model 48khz"],
    ["model-mismatch", "48k", "the stream carries 48 kHz stereo EnCodec codes, but the loaded model is 24 kHz with 1 channel(s); receive with --model 24khz"],
    ["lm-unavailable", "24k", "the stream is LM-coded, and no language model was found beside the model; give one with --lm PATH, or send with --no-lm"],
    ["unsupported", "24k", "the stream carries 48 kHz stereo EnCodec codes, but the loaded model is 24 kHz with 1 channel(s)"],
  ] as const)("%s (%s model)", (code, modelKind, message) => {
    const cause = new SessionError(code, "the stream carries 48 kHz stereo EnCodec codes, but the loaded model is 24 kHz with 1 channel(s)");
    const mapped = asCliError(cause, { modelKind });
    expect(isCliError(mapped) && [mapped.code, mapped.message, mapped.cause]).toEqual([code, message, cause]);
  });

  test("anything else passes through unchanged", () => {
    const error = new RangeError("x");
    expect(asCliError(error, { modelKind: "24k" })).toBe(error);
  });
});
