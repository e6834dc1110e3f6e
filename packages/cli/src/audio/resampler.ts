import type { SpeexResamplerModule } from "@echogarden/speex-resampler-wasm/simd";
import { DEFAULT_RESAMPLER_QUALITY, MAX_SAMPLE_RATE_HZ, MAX_WAV_CHANNELS, MIN_SAMPLE_RATE_HZ } from "../constants.js";
import { checkIntegerInRange, checkPlanar } from "../internal/checks.js";

/** Options of {@link Resampler.create}. */
export interface ResamplerOptions {
  /** Channels of the planar audio given to `process`, 1 to 64. */
  readonly channels: number;
  /** Sample rate of the input, in Hz (integer, 1000 to 768000). */
  readonly inputRateHz: number;
  /** Sample rate of the output, in Hz (integer, 1000 to 768000). */
  readonly outputRateHz: number;
  /**
   * Speex quality, 0 (fastest) to 10 (best).
   * @default 8
   */
  readonly quality?: number;
}

/** Input samples (per channel) copied into the WebAssembly heap per call into Speex. */
const BLOCK_SAMPLES = 4_096;

let speexModule: Promise<SpeexResamplerModule> | undefined;

/** Loads the WebAssembly build of the Speex resampler once per process. */
function loadSpeex(): Promise<SpeexResamplerModule> {
  speexModule ??= import("@echogarden/speex-resampler-wasm/simd").then((m) => m.default());
  return speexModule;
}

/**
 * A streaming sample-rate converter: SpeexDSP's resampler (the one in Speex, Opus tools and
 * PulseAudio), compiled to WebAssembly.
 *
 * The output is aligned with the input (the filter's start-up delay is skipped) and, after
 * {@link Resampler.flush}, holds exactly `ceil(inputFrames * outputRateHz / inputRateHz)` frames:
 * the output sample instants that fall inside the input. Audio is planar `Float32Array`s.
 *
 * Holds WebAssembly memory: call {@link Resampler.destroy} when done.
 */
export class Resampler {
  /** Channels per call. */
  readonly channels: number;
  /** Input sample rate, Hz. */
  readonly inputRateHz: number;
  /** Output sample rate, Hz. */
  readonly outputRateHz: number;
  #speex: SpeexResamplerModule;
  #state: number;
  #inputPointer: number;
  #outputPointer: number;
  #lengthsPointer: number;
  #outputCapacity: number;
  #inputFrames = 0;
  #outputFrames = 0;
  #flushed = false;

  private constructor(speex: SpeexResamplerModule, options: Required<ResamplerOptions>) {
    this.channels = options.channels;
    this.inputRateHz = options.inputRateHz;
    this.outputRateHz = options.outputRateHz;
    this.#speex = speex;
    this.#outputCapacity = Math.ceil((BLOCK_SAMPLES * options.outputRateHz) / options.inputRateHz) + 16;
    this.#lengthsPointer = speex._malloc(12);
    this.#inputPointer = speex._malloc(BLOCK_SAMPLES * 4);
    this.#outputPointer = speex._malloc(this.#outputCapacity * 4);
    if (this.#lengthsPointer === 0 || this.#inputPointer === 0 || this.#outputPointer === 0) {
      this.#freeBuffers();
      throw new Error("Resampler: out of WebAssembly memory");
    }
    const errorPointer = this.#lengthsPointer + 8;
    this.#state = speex._speex_resampler_init(
      options.channels,
      options.inputRateHz,
      options.outputRateHz,
      options.quality,
      errorPointer,
    );
    if (this.#state === 0) {
      const code = speex.HEAPU32[errorPointer >>> 2] ?? -1;
      this.#freeBuffers();
      throw new Error(`Resampler: Speex refused to start (error ${code})`);
    }
    speex._speex_resampler_skip_zeros(this.#state);
  }

  /**
   * Creates a resampler (loading the WebAssembly module on first use).
   *
   * @throws RangeError if a rate, the channel count or the quality is out of range.
   */
  static async create(options: ResamplerOptions): Promise<Resampler> {
    checkIntegerInRange("channels", options.channels, 1, MAX_WAV_CHANNELS);
    checkIntegerInRange("inputRateHz", options.inputRateHz, MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ);
    checkIntegerInRange("outputRateHz", options.outputRateHz, MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ);
    const quality = options.quality ?? DEFAULT_RESAMPLER_QUALITY;
    checkIntegerInRange("quality", quality, 0, 10);
    const speex = await loadSpeex();
    return new Resampler(speex, { ...options, quality });
  }

  /** Input frames given so far (per channel). */
  get inputFrames(): number {
    return this.#inputFrames;
  }

  /** Output frames returned so far (per channel). */
  get outputFrames(): number {
    return this.#outputFrames;
  }

  /**
   * Resamples the next piece of input. Returns new arrays owned by the caller (possibly empty:
   * the filter holds back a few milliseconds until more input or {@link Resampler.flush}).
   * The input arrays are only read.
   *
   * @throws RangeError if `input` does not have `channels` arrays of equal length.
   * @throws Error after `flush()` or `destroy()`.
   */
  process(input: readonly Float32Array[]): Float32Array[] {
    this.#checkUsable("process");
    const frames = checkPlanar("input", input, this.channels);
    const output = this.#run(input, frames);
    this.#inputFrames += frames;
    return output;
  }

  /**
   * Pushes the audio still inside the filter out, completing the output to
   * `ceil(inputFrames * outputRateHz / inputRateHz)` frames. The resampler takes no more input
   * afterwards.
   *
   * @throws Error after `flush()` or `destroy()`.
   */
  flush(): Float32Array[] {
    this.#checkUsable("flush");
    this.#flushed = true;
    const before = this.#outputFrames;
    const wanted = Math.ceil((this.#inputFrames * this.outputRateHz) / this.inputRateHz) - before;
    const pieces: Float32Array[][] = [];
    let produced = 0;
    const latency = this.#speex._speex_resampler_get_input_latency(this.#state);
    // Zeros needed: the filter's latency plus the input span of the missing output; a little more
    // bounds the loop in case Speex rounds differently.
    let zerosLeft = latency + Math.ceil((wanted * this.inputRateHz) / this.outputRateHz) + BLOCK_SAMPLES;
    const zeros = new Float32Array(BLOCK_SAMPLES);
    const silence = Array.from({ length: this.channels }, () => zeros);
    while (produced < wanted && zerosLeft > 0) {
      const piece = this.#run(silence, zeros.length);
      pieces.push(piece);
      produced += piece[0]?.length ?? 0;
      zerosLeft -= zeros.length;
    }
    if (produced < wanted) throw new Error("Resampler: Speex did not return the expected tail");
    const frames = Math.max(0, wanted);
    this.#outputFrames = before + frames;
    return Array.from({ length: this.channels }, (_, c) =>
      concatenate(pieces.map((piece) => piece[c] as Float32Array), produced).slice(0, frames),
    );
  }

  /** Frees the WebAssembly memory. Safe to call more than once. */
  destroy(): void {
    if (this.#state !== 0) {
      this.#speex._speex_resampler_destroy(this.#state);
      this.#state = 0;
    }
    this.#freeBuffers();
  }

  #checkUsable(method: string): void {
    if (this.#state === 0) throw new Error(`Resampler: ${method}() after destroy()`);
    if (this.#flushed) throw new Error(`Resampler: ${method}() after flush()`);
  }

  #freeBuffers(): void {
    for (const pointer of [this.#inputPointer, this.#outputPointer, this.#lengthsPointer]) {
      if (pointer !== 0) this.#speex._free(pointer);
    }
    this.#inputPointer = 0;
    this.#outputPointer = 0;
    this.#lengthsPointer = 0;
  }

  /** Runs `frames` frames of every channel through Speex; returns the output per channel. */
  #run(input: readonly Float32Array[], frames: number): Float32Array[] {
    const speex = this.#speex;
    const inLengthIndex = this.#lengthsPointer >>> 2;
    const outLengthIndex = inLengthIndex + 1;
    const result: Float32Array[] = [];
    for (let c = 0; c < this.channels; c++) {
      const samples = input[c] as Float32Array;
      const pieces: Float32Array[] = [];
      let total = 0;
      let consumed = 0;
      while (consumed < frames) {
        const count = Math.min(BLOCK_SAMPLES, frames - consumed);
        speex.HEAPF32.set(samples.subarray(consumed, consumed + count), this.#inputPointer >>> 2);
        speex.HEAPU32[inLengthIndex] = count;
        speex.HEAPU32[outLengthIndex] = this.#outputCapacity;
        const status = speex._speex_resampler_process_float(
          this.#state,
          c,
          this.#inputPointer,
          this.#lengthsPointer,
          this.#outputPointer,
          this.#lengthsPointer + 4,
        );
        if (status !== 0) throw new Error(`Resampler: Speex failed (error ${status})`);
        const used = speex.HEAPU32[inLengthIndex] ?? 0;
        const made = speex.HEAPU32[outLengthIndex] ?? 0;
        if (used === 0 && made === 0) throw new Error("Resampler: Speex made no progress");
        const start = this.#outputPointer >>> 2;
        pieces.push(speex.HEAPF32.slice(start, start + made));
        total += made;
        consumed += used;
      }
      result.push(concatenate(pieces, total));
    }
    const made = result[0]?.length ?? 0;
    if (result.some((channel) => channel.length !== made)) {
      throw new Error("Resampler: channels came out with different lengths");
    }
    this.#outputFrames += made;
    return result;
  }
}

function concatenate(pieces: readonly Float32Array[], total: number): Float32Array {
  if (pieces.length === 1) return pieces[0] as Float32Array;
  const out = new Float32Array(total);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
