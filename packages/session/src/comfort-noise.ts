import { MIN_COMFORT_NOISE_DB } from "@encstream/codec";

/*
 * Discontinuous transmission (`send --dtx`): a unit whose input level is below the threshold is
 * sent as a comfort noise payload (no codes, 1 byte of level: a 24 kHz stream frame of 10–45
 * bytes becomes 12), once the level has stayed below for the hangover (so word endings and short
 * pauses keep their codes). The receiver plays low white noise at that level in its place
 * (RFC 3389's idea, without spectral shaping), and keeps its decoder's timing by concealing the
 * unit underneath (the decoder state moves on as for a lost unit, its output is replaced).
 */

/** Level below which `--dtx` sends comfort noise, dBFS. */
export const DEFAULT_DTX_THRESHOLD_DB = -50;

/** Units that stay coded after the level falls below the threshold (200 ms at 13.3 ms frames). */
export const DEFAULT_DTX_HANGOVER_MS = 200;

/**
 * RMS level of planar audio in dBFS (a full-scale sine is −3 dBFS), rounded to an integer and
 * clamped to [−127, 0]; −127 for silence.
 */
export function levelDbfs(audio: readonly Float32Array[]): number {
  let sum = 0;
  let n = 0;
  for (const ch of audio) {
    for (let i = 0; i < ch.length; i++) sum += ch[i]! * ch[i]!;
    n += ch.length;
  }
  if (n === 0 || sum === 0) return MIN_COMFORT_NOISE_DB;
  const db = 10 * Math.log10(sum / n);
  return Math.max(MIN_COMFORT_NOISE_DB, Math.min(0, Math.round(db)));
}

/** Decides, unit by unit, whether `--dtx` sends codes or comfort noise. */
export class DtxGate {
  #quietMs = 0;

  /**
   * @param thresholdDb level below which a unit is quiet, dBFS
   * @param hangoverMs quiet time before comfort noise starts
   */
  constructor(
    readonly thresholdDb: number = DEFAULT_DTX_THRESHOLD_DB,
    readonly hangoverMs: number = DEFAULT_DTX_HANGOVER_MS,
  ) {
    if (!(thresholdDb <= 0 && thresholdDb >= MIN_COMFORT_NOISE_DB)) throw new RangeError(`thresholdDb must be in [${MIN_COMFORT_NOISE_DB}, 0], got ${thresholdDb}`);
    if (!(hangoverMs >= 0 && Number.isFinite(hangoverMs))) throw new RangeError(`hangoverMs must be a finite number ≥ 0, got ${hangoverMs}`);
  }

  /** Whether the unit (of `durationMs`, at `levelDb`) goes as comfort noise. The first and last units of a stream always carry codes (the caller's to ensure). */
  quiet(levelDb: number, durationMs: number): boolean {
    if (levelDb >= this.thresholdDb) {
      this.#quietMs = 0;
      return false;
    }
    this.#quietMs += durationMs;
    return this.#quietMs > this.hangoverMs;
  }
}

/**
 * White noise at `levelDb` dBFS RMS (uniform samples), from a seeded generator so that a run is
 * reproducible; give each unit its own seed (its seq) so units do not repeat one another.
 */
export function comfortNoise(levelDb: number, samples: number, channels: number, seed: number): Float32Array[] {
  const rms = 10 ** (levelDb / 20);
  const amplitude = rms * Math.sqrt(3); // a uniform variable on [−a, a] has RMS a / √3
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: channels }, () => Float32Array.from({ length: samples }, () => (2 * next() - 1) * amplitude));
}
