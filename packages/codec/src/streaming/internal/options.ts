import { DEFAULT_MAX_FRAMES_PER_CALL, MAX_FRAMES_PER_CALL } from "../constants.js";
import type { StreamStart } from "../stream-types.js";

export function checkMaxFramesPerCall(value: number | undefined): number {
  const v = value ?? DEFAULT_MAX_FRAMES_PER_CALL;
  if (!Number.isInteger(v) || v < 1 || v > MAX_FRAMES_PER_CALL) throw new RangeError(`maxFramesPerCall must be an integer in [1, ${MAX_FRAMES_PER_CALL}], got ${v}`);
  return v;
}

export function checkStart(value: StreamStart | undefined): StreamStart {
  const v = value ?? "exact";
  if (v !== "exact" && v !== "zero-state") throw new RangeError(`start must be "exact" or "zero-state", got ${JSON.stringify(v)}`);
  return v;
}
