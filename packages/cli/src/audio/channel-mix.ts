import { MAX_WAV_CHANNELS } from "../constants.js";
import { checkIntegerInRange, checkPlanar } from "../internal/checks.js";

/**
 * Maps planar audio onto `channels` channels, the way EnCodec's own `convert_audio` does for
 * mono and stereo:
 *
 * - same count: the input arrays themselves are returned (no copy);
 * - fewer channels (downmix): output channel `j` is the mean of input channels `j`, `j + channels`,
 *   `j + 2 × channels`…; to mono that is the mean of all of them;
 * - more channels (upmix): output channel `j` is a copy of input channel `j mod inputChannels`;
 *   from mono every output channel is the same signal.
 *
 * Returns new arrays except in the same-count case; the input is only read.
 *
 * @throws RangeError if `channels` is not an integer in [1, 64] or `input` is empty or ragged.
 */
export function mixChannels(input: readonly Float32Array[], channels: number): Float32Array[] {
  checkIntegerInRange("channels", channels, 1, MAX_WAV_CHANNELS);
  if (input.length === 0) throw new RangeError("input must have at least one channel, got 0");
  const frames = checkPlanar("input", input, input.length);
  if (input.length === channels) return [...input];
  if (input.length < channels) {
    return Array.from({ length: channels }, (_, j) => (input[j % input.length] as Float32Array).slice());
  }
  return Array.from({ length: channels }, (_, j) => {
    const out = new Float32Array(frames);
    let count = 0;
    for (let c = j; c < input.length; c += channels) {
      const source = input[c] as Float32Array;
      for (let i = 0; i < frames; i++) out[i] = (out[i] as number) + (source[i] as number);
      count++;
    }
    const scale = 1 / count;
    for (let i = 0; i < frames; i++) out[i] = (out[i] as number) * scale;
    return out;
  });
}
