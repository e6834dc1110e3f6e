import { MAX_WAV_CHANNELS } from "../constants.js";
import { checkIntegerInRange, checkPlanar } from "../internal/checks.js";

/** −3 dB: the weight of the centre and surround channels in a stereo downmix (ITU-R BS.775). */
const MINUS_3_DB = Math.SQRT1_2;

/**
 * Left and right weights of each channel of the surround layouts a WAV file of 5, 6 or 8
 * channels holds in the WAVE default order (`WAVE_FORMAT_EXTENSIBLE`'s `KSAUDIO_SPEAKER_*`):
 * 5.0 (FL FR FC BL BR), 5.1 (FL FR FC LFE BL BR), 7.1 (FL FR FC LFE BL BR SL SR). The centre and
 * the surrounds go to both sides at −3 dB, the LFE is left out (BS.775), and each side is scaled
 * by the sum of its weights so that a full-scale signal on every channel stays at full scale.
 */
const SURROUND_WEIGHTS: Readonly<Record<number, readonly (readonly [number, number])[]>> = {
  5: [[1, 0], [0, 1], [MINUS_3_DB, MINUS_3_DB], [MINUS_3_DB, 0], [0, MINUS_3_DB]],
  6: [[1, 0], [0, 1], [MINUS_3_DB, MINUS_3_DB], [0, 0], [MINUS_3_DB, 0], [0, MINUS_3_DB]],
  8: [[1, 0], [0, 1], [MINUS_3_DB, MINUS_3_DB], [0, 0], [MINUS_3_DB, 0], [0, MINUS_3_DB], [MINUS_3_DB, 0], [0, MINUS_3_DB]],
};

/**
 * Maps planar audio onto `channels` channels, the way EnCodec's own `convert_audio` does for
 * mono and stereo, except for surround input:
 *
 * - same count: the input arrays themselves are returned (no copy);
 * - 5.0, 5.1 or 7.1 (5, 6 or 8 channels, WAVE order) to stereo: the ITU-R BS.775 downmix (left
 *   = front left + centre and left surrounds at −3 dB, LFE left out, normalised; right
 *   likewise), and to mono the mean of that left and right;
 * - other downmixes: output channel `j` is the mean of input channels `j`, `j + channels`,
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
  const surround = SURROUND_WEIGHTS[input.length];
  if (surround !== undefined && channels <= 2) return downmixSurround(input, surround, channels, frames);
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

/** The stereo downmix of a surround layout (see {@link SURROUND_WEIGHTS}), or its mono mean. */
function downmixSurround(input: readonly Float32Array[], weights: readonly (readonly [number, number])[], channels: number, frames: number): Float32Array[] {
  const sumLeft = weights.reduce((sum, [left]) => sum + left, 0);
  const sumRight = weights.reduce((sum, [, right]) => sum + right, 0);
  const gains =
    channels === 1
      ? [weights.map(([left, right]) => (left / sumLeft + right / sumRight) / 2)]
      : [weights.map(([left]) => left / sumLeft), weights.map(([, right]) => right / sumRight)];
  return gains.map((gain) => {
    const out = new Float32Array(frames);
    input.forEach((source, c) => {
      const g = gain[c] as number;
      if (g === 0) return;
      for (let i = 0; i < frames; i++) out[i] = (out[i] as number) + g * (source[i] as number);
    });
    return out;
  });
}
