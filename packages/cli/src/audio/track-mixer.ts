/*
 * The mix of a multi-track receive (`receive --mix`): every track's output, aligned by sample
 * position (sample n of each track is the same instant of the run's timeline), converted to the
 * mix's format and added. A 24 kHz track in a 48 kHz mix is upsampled by two with a 16-tap
 * windowed-sinc interpolator that has no delay: even output samples are the input samples, odd
 * ones are interpolated, so sample n of the track lands on sample 2n of the mix. Mono is copied
 * to every channel. The sum is clamped to [-1, 1].
 *
 * A position is mixed once every track that has not ended has reached it. The number of tracks
 * is not on the wire, so the first mix is held `discoveryMs` after the first track appeared (the
 * tracks of a run start together; a 48 kHz track's first chunk arrives up to a chunk later); a
 * track that appears after the mix has passed its start loses its samples before the mix
 * position (counted in `lateSamples`).
 */

/** Taps of the half-sample interpolator. */
const TAPS = 16;
/** Input samples the interpolator looks ahead (and holds back until more come or the end). */
const LOOKAHEAD = TAPS / 2;

/** Blackman-windowed sinc at the half-sample positions −7.5 … 7.5, normalised to a DC gain of 1. */
const HALF_SAMPLE_FILTER: Float32Array = (() => {
  const h = new Float64Array(TAPS);
  let sum = 0;
  for (let k = 0; k < TAPS; k++) {
    const x = k - (TAPS - 1) / 2;
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (TAPS - 1));
    h[k] = (Math.sin(Math.PI * x) / (Math.PI * x)) * w;
    sum += h[k]!;
  }
  return Float32Array.from(h, (v) => v / sum);
})();

/** Upsamples one channel by two, streaming, with no delay (see the comment at the top of this file). */
export class Upsampler2x {
  /** Input not yet turned into output, with the LOOKAHEAD - 1 samples before it. */
  #buf = new Float32Array(LOOKAHEAD - 1);
  #next = LOOKAHEAD - 1;

  /** Takes input samples; returns the output that is ready (2 per input sample, LOOKAHEAD inputs behind). */
  push(input: Float32Array): Float32Array {
    const buf = new Float32Array(this.#buf.length - (this.#next - (LOOKAHEAD - 1)) + input.length);
    buf.set(this.#buf.subarray(this.#next - (LOOKAHEAD - 1)));
    buf.set(input, buf.length - input.length);
    this.#buf = buf;
    this.#next = LOOKAHEAD - 1;
    return this.#run();
  }

  /** The last output (the held-back samples, the signal taken as 0 beyond the end). */
  end(): Float32Array {
    return this.push(new Float32Array(LOOKAHEAD));
  }

  #run(): Float32Array {
    const buf = this.#buf;
    const count = Math.max(0, buf.length - LOOKAHEAD - this.#next);
    const out = new Float32Array(2 * count);
    for (let i = 0; i < count; i++) {
      const n = this.#next + i;
      out[2 * i] = buf[n]!;
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += HALF_SAMPLE_FILTER[k]! * buf[n - (LOOKAHEAD - 1) + k]!;
      out[2 * i + 1] = acc;
    }
    this.#next += count;
    return out;
  }
}

/** One track's way into the mix. */
export interface MixerInput {
  /** Adds the track's next audio (planar, at its own rate and channels). */
  write(audio: readonly Float32Array[]): Promise<void>;
  /** The track has ended (what it holds is mixed; it no longer holds the mix back). */
  end(): Promise<void>;
}

/** Options of {@link TrackMixer}. */
export interface TrackMixerOptions {
  /** The mix's rate, Hz: each track's rate, or twice it. */
  readonly sampleRateHz: number;
  /** The mix's channels (1 or 2). */
  readonly channels: number;
  /** Where the mix goes. */
  readonly write: (audio: Float32Array[]) => Promise<void>;
  /** How long the first mix waits for the other tracks to appear, ms. @default 2000 */
  readonly discoveryMs?: number;
}

interface MixTrack {
  readonly rateFactor: 1 | 2;
  readonly channels: number;
  readonly upsamplers: Upsampler2x[];
  /** Mix-format blocks not mixed yet; `offset` samples of the first are mixed already. */
  readonly blocks: Float32Array[][];
  offset: number;
  /** Mix position of the first sample held. */
  position: number;
  held: number;
  ended: boolean;
}

/** Mixes tracks aligned by sample position (see the comment at the top of this file). */
export class TrackMixer {
  readonly #o: TrackMixerOptions;
  readonly #tracks: MixTrack[] = [];
  #position = 0;
  #firstAtMs: number | undefined;
  /** Samples of late tracks dropped because the mix had passed them. */
  lateSamples = 0;

  /** @throws RangeError for a channel count other than 1 or 2 */
  constructor(options: TrackMixerOptions) {
    if (options.channels !== 1 && options.channels !== 2) throw new RangeError(`channels must be 1 or 2, got ${options.channels}`);
    this.#o = options;
  }

  /** Samples (per channel) of mix written so far. */
  get position(): number {
    return this.#position;
  }

  /**
   * Adds a track of `sampleRateHz` and `channels`.
   *
   * @throws RangeError when the track's rate is neither the mix's nor half of it
   */
  addTrack(sampleRateHz: number, channels: number): MixerInput {
    const factor = this.#o.sampleRateHz / sampleRateHz;
    if (factor !== 1 && factor !== 2) throw new RangeError(`sampleRateHz must be ${this.#o.sampleRateHz} or half of it, got ${sampleRateHz}`);
    this.#firstAtMs ??= performance.now();
    const track: MixTrack = {
      rateFactor: factor,
      channels,
      upsamplers: Array.from({ length: channels }, () => new Upsampler2x()),
      blocks: [],
      offset: 0,
      position: 0,
      held: 0,
      ended: false,
    };
    this.#tracks.push(track);
    return {
      write: async (audio) => {
        this.#hold(track, track.rateFactor === 2 ? audio.map((c, i) => track.upsamplers[i]!.push(c)) : audio.map((c) => c.slice()));
        await this.#mix(false);
      },
      end: async () => {
        if (track.ended) return;
        if (track.rateFactor === 2) this.#hold(track, track.upsamplers.map((u) => u.end()));
        track.ended = true;
        await this.#mix(false);
      },
    };
  }

  /** Mixes everything held (at the end of the receive: tracks that never ended count as ended). */
  async finish(): Promise<void> {
    for (const t of this.#tracks) t.ended = true;
    await this.#mix(true);
  }

  #hold(track: MixTrack, audio: Float32Array[]): void {
    let block = Array.from({ length: this.#o.channels }, (_, c) => audio[Math.min(c, audio.length - 1)] as Float32Array);
    let length = block[0]?.length ?? 0;
    // a track that appeared after the mix passed its start loses what is behind the mix
    const behind = this.#position - (track.position + track.held);
    if (behind > 0) {
      const cut = Math.min(behind, length);
      this.lateSamples += cut;
      track.position += cut;
      block = block.map((c) => c.subarray(cut));
      length -= cut;
    }
    if (length === 0) return;
    track.blocks.push(block);
    track.held += length;
  }

  async #mix(force: boolean): Promise<void> {
    const live = this.#tracks.filter((t) => !t.ended);
    if (!force && live.length > 0 && performance.now() < (this.#firstAtMs ?? 0) + (this.#o.discoveryMs ?? 2000)) return;
    const ends = this.#tracks.map((t) => t.position + t.held);
    const until = live.length > 0 ? Math.min(...live.map((t) => t.position + t.held)) : Math.max(this.#position, ...ends);
    const n = until - this.#position;
    if (n <= 0) return;
    const out = Array.from({ length: this.#o.channels }, () => new Float32Array(n));
    for (const t of this.#tracks) this.#take(t, out, n);
    for (const channel of out) for (let i = 0; i < n; i++) channel[i] = Math.max(-1, Math.min(1, channel[i]!));
    this.#position = until;
    await this.#o.write(out);
  }

  /** Adds the track's samples at [mix position, + n) into `out` (what it lacks there is silence). */
  #take(track: MixTrack, out: Float32Array[], n: number): void {
    let at = track.position - this.#position; // > 0 only for a track that starts later (it never does: tracks start at 0)
    while (at < n && track.blocks.length > 0) {
      const block = track.blocks[0] as Float32Array[];
      const available = (block[0]?.length ?? 0) - track.offset;
      const take = Math.min(available, n - Math.max(0, at));
      if (at >= 0) {
        for (let c = 0; c < out.length; c++) {
          const src = (block[c] as Float32Array).subarray(track.offset, track.offset + take);
          const dst = out[c] as Float32Array;
          for (let i = 0; i < take; i++) dst[at + i]! += src[i]!;
        }
      }
      track.offset += take;
      track.position += take;
      track.held -= take;
      at += take;
      if (track.offset >= (block[0]?.length ?? 0)) {
        track.blocks.shift();
        track.offset = 0;
      }
    }
  }
}
