import {
  MAX_CHANNELS,
  MAX_CHUNK_SAMPLES,
  MAX_OVERLAP_RATIO,
  MIN_CHUNK_SAMPLES,
  MIN_OVERLAP_RATIO,
} from "../constants.js";
import { OlaError } from "../errors.js";

/**
 * Checks an overlap ratio.
 *
 * @throws RangeError naming `overlapRatio` when it is not a number in [0.01, 0.5].
 */
export function assertOverlapRatio(overlapRatio: number): void {
  if (
    typeof overlapRatio !== "number" ||
    !(overlapRatio >= MIN_OVERLAP_RATIO && overlapRatio <= MAX_OVERLAP_RATIO)
  ) {
    throw new RangeError(
      `overlapRatio must be in [${MIN_OVERLAP_RATIO}, ${MAX_OVERLAP_RATIO}], got ${String(overlapRatio)}`,
    );
  }
}

/**
 * Checks a chunk length.
 *
 * @throws RangeError naming `chunkSamples` when it is not an integer in [2, 2^24].
 */
export function assertChunkSamples(chunkSamples: number): void {
  if (
    !Number.isSafeInteger(chunkSamples) ||
    chunkSamples < MIN_CHUNK_SAMPLES ||
    chunkSamples > MAX_CHUNK_SAMPLES
  ) {
    throw new RangeError(
      `chunkSamples must be an integer in [${MIN_CHUNK_SAMPLES}, ${MAX_CHUNK_SAMPLES}], got ${String(chunkSamples)}`,
    );
  }
}

/**
 * Checks a channel count.
 *
 * @throws RangeError naming `channels` when it is not an integer in [1, 32].
 */
export function assertChannels(channels: number): void {
  if (!Number.isSafeInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new RangeError(`channels must be an integer in [1, ${MAX_CHANNELS}], got ${String(channels)}`);
  }
}

/**
 * Checks planar audio and returns its length in samples per channel.
 *
 * @param audio The value to check.
 * @param name The parameter's name, for messages.
 * @param channels The stream's channel count, or undefined when any count in [1, 32] will do.
 * @throws TypeError when `audio` is not a non-empty array of `Float32Array`.
 * @throws RangeError when it has more than 32 channels.
 * @throws OlaError `"channel-mismatch"` when its channel count differs from `channels`,
 *   `"ragged-channels"` when its channels differ in length.
 */
export function checkAudio(audio: readonly Float32Array[], name: string, channels?: number): number {
  if (!Array.isArray(audio) || audio.length === 0) {
    throw new TypeError(`${name} must be a non-empty array of Float32Array (one per channel)`);
  }
  if (audio.length > MAX_CHANNELS) {
    throw new RangeError(`${name} must have at most ${MAX_CHANNELS} channels, got ${audio.length}`);
  }
  for (let c = 0; c < audio.length; c++) {
    if (!(audio[c] instanceof Float32Array)) {
      throw new TypeError(`${name}[${c}] must be a Float32Array`);
    }
  }
  if (channels !== undefined && audio.length !== channels) {
    throw new OlaError(
      "channel-mismatch",
      `${name} has ${audio.length} channel(s), the stream has ${channels}`,
    );
  }
  const length = (audio[0] as Float32Array).length;
  for (let c = 1; c < audio.length; c++) {
    const other = (audio[c] as Float32Array).length;
    if (other !== length) {
      throw new OlaError(
        "ragged-channels",
        `${name} channels differ in length: channel 0 has ${length} samples, channel ${c} has ${other}`,
      );
    }
  }
  return length;
}
