import type { DecodedRedundancy, PayloadRedundancy, RedundantUnit } from "@encstream/codec";
import { seqDiff } from "@encstream/jitter";

/*
 * Forward error correction (`send --fec D[:K]`): every payload carries, in its redundancy
 * extension, the first K codebooks of the D messages before it (the residual quantizer's first
 * K codebooks are a complete lower-bitrate encoding of a frame). A receiver that lost message n
 * rebuilds it from message n + 1, …, n + D, whichever arrived by the time n is due, before it
 * conceals; with LM-coded streams the redundancy is bit-packed, so it also stands in for units
 * the LM cannot decode after a loss.
 */

/** Most previous units `--fec` may protect (the payload's redundancy mask has 8 bits). */
export const MAX_FEC_DEPTH = 8;

/** Codebooks carried per protected frame unless `--fec D:K` says otherwise (1.5 kbps at 24 kHz). */
export const DEFAULT_FEC_CODEBOOKS = 2;

/** A unit as the sender keeps it for redundancy. */
interface HeldUnit {
  readonly seq: number;
  /** Codebook-major codes `[k × numFrames]` (with `frameCodebooks`, rows beyond a frame's K unused). */
  readonly codes: Uint16Array;
  readonly numCodebooks: number;
  readonly numFrames: number;
  readonly frameCodebooks: Uint8Array | null;
  readonly lengthSamples: number;
  readonly scale: number | null;
}

/**
 * The sender's side: remembers the last `depth` units sent and gives the redundancy a new unit
 * carries. Units must be given in sequence order.
 */
export class RedundancyHistory {
  readonly #held: HeldUnit[] = [];

  /**
   * @param depth D, previous units carried (1–8)
   * @param numCodebooks K_r, codebooks carried per frame (1 to the model's most)
   * @throws RangeError for a depth or codebook count out of range
   */
  constructor(
    readonly depth: number,
    readonly numCodebooks: number,
  ) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_FEC_DEPTH) throw new RangeError(`depth must be an integer in [1, ${MAX_FEC_DEPTH}], got ${depth}`);
    if (!Number.isInteger(numCodebooks) || numCodebooks < 1 || numCodebooks > 32) throw new RangeError(`numCodebooks must be an integer in [1, 32], got ${numCodebooks}`);
  }

  /** The redundancy for the unit `seq` (the held units at distances 1 to D), or null when none is held. */
  redundancyFor(seq: number): PayloadRedundancy | null {
    const units: Array<{ held: HeldUnit; distance: number }> = [];
    for (const held of this.#held) {
      const distance = seqDiff(seq, held.seq);
      if (distance >= 1 && distance <= this.depth) units.push({ held, distance });
    }
    if (units.length === 0) return null;
    units.sort((a, b) => a.distance - b.distance);
    // every block carries the same K_r: at most what the poorest frame of them has
    let kr = this.numCodebooks;
    for (const { held } of units) {
      const k = held.frameCodebooks ? Math.min(...held.frameCodebooks) : held.numCodebooks;
      kr = Math.min(kr, k);
    }
    return {
      numCodebooks: kr,
      units: units.map(({ held, distance }): RedundantUnit => {
        const f = held.numFrames;
        return { distance, numFrames: f, codes: held.codes.slice(0, kr * f), lengthSamples: held.lengthSamples, scale: held.scale };
      }),
    };
  }

  /** Remember a unit that was sent (its codes are copied as needed). */
  add(unit: { seq: number; codes: Uint16Array; numCodebooks: number; numFrames: number; frameCodebooks?: Uint8Array | null; lengthSamples: number; scale: number | null }): void {
    const kr = Math.min(this.numCodebooks, unit.numCodebooks);
    this.#held.push({
      seq: unit.seq,
      codes: unit.codes.slice(0, kr * unit.numFrames),
      numCodebooks: kr,
      numFrames: unit.numFrames,
      frameCodebooks: unit.frameCodebooks ? unit.frameCodebooks.map((k) => Math.min(k, kr)) : null,
      lengthSamples: unit.lengthSamples,
      scale: unit.scale,
    });
    while (this.#held.length > this.depth) this.#held.shift();
  }
}

/** A unit rebuilt from redundancy: what the decoder takes. */
export interface RecoveredUnit {
  readonly codes: Uint16Array;
  readonly numCodebooks: number;
  readonly numFrames: number;
  readonly lengthSamples: number;
  readonly scale: number | null;
}

/** Fewest units a {@link RedundancyStore} holds redundancy for (the default bound). */
export const MAX_HELD_REDUNDANCY = 256;

/**
 * The receiver's side: keeps the redundant copies that arrive, by the seq they stand for, until
 * that unit is played (or is too old).
 */
export class RedundancyStore {
  readonly #units = new Map<number, RecoveredUnit>();

  /**
   * @param maxUnits most units held (bounds memory whatever arrives; the oldest go first): at
   *   least the receiver's jitter buffer capacity plus the FEC depth, or copies of units still
   *   to be played are dropped before they are due. @default MAX_HELD_REDUNDANCY (256)
   */
  constructor(readonly maxUnits: number = MAX_HELD_REDUNDANCY) {
    if (!Number.isInteger(maxUnits) || maxUnits < 1) throw new RangeError(`maxUnits must be a positive integer, got ${maxUnits}`);
  }

  /** Units held now. */
  get size(): number {
    return this.#units.size;
  }

  /** Take the redundancy of the message `seq` (kept only for units not played yet: `nextSeq` is the next one due, or undefined before playout). */
  add(seq: number, redundancy: DecodedRedundancy | null, nextSeq: number | undefined): void {
    if (redundancy === null) return;
    for (const u of redundancy.units) {
      const target = (seq - u.distance) >>> 0;
      if (nextSeq !== undefined && seqDiff(target, nextSeq) < 0) continue; // already played
      const have = this.#units.get(target);
      if (have !== undefined && have.numCodebooks >= redundancy.numCodebooks) continue;
      this.#units.set(target, { codes: u.codes, numCodebooks: redundancy.numCodebooks, numFrames: u.numFrames, lengthSamples: u.lengthSamples, scale: u.scale });
    }
    if (this.#units.size > this.maxUnits) {
      // drop the oldest (by insertion) beyond the bound
      for (const key of this.#units.keys()) {
        this.#units.delete(key);
        if (this.#units.size <= this.maxUnits) break;
      }
    }
  }

  /** The rebuilt unit `seq`, removed from the store, or undefined. */
  take(seq: number): RecoveredUnit | undefined {
    const u = this.#units.get(seq);
    if (u !== undefined) this.#units.delete(seq);
    return u;
  }

  /** Frames of the copy held for unit `seq` (it stays held), or undefined. */
  framesOf(seq: number): number | undefined {
    return this.#units.get(seq)?.numFrames;
  }

  /** Forget units before `nextSeq` (played or given up). */
  forgetBefore(nextSeq: number): void {
    for (const key of this.#units.keys()) if (seqDiff(key, nextSeq) < 0) this.#units.delete(key);
  }

  /** Forget everything (a new stream, a resync). */
  clear(): void {
    this.#units.clear();
  }
}
