import { CodecError } from "../errors.js";
import { AC_EXHAUSTED, AC_NO_SYMBOL, ArithmeticDecoder, ArithmeticEncoder } from "../lm/arithmetic-coder.js";
import { BitWriter, type BitSource } from "../lm/bit-io.js";
import { LM_MAX_FRAMES } from "../lm/constants.js";
import type { LmWeights } from "../lm/lm-weights.js";
import { buildQuantizedCdf } from "../lm/quantized-cdf.js";
import { StreamingLm } from "../lm/streaming-lm.js";
import { pushFrames } from "../lm/internal/code-frames.js";
import { ECDC_SCALE_BYTES } from "./constants.js";
import { encodeEcdcHeader, type EcdcMetadata } from "./ecdc-header.js";
import { countSegments, ECDC_MODEL_LAYOUTS, type EcdcModelLayout } from "./segments.js";

/**
 * `.ecdc` files written and read piece by piece, in memory bounded by one block of codes, for
 * audio of any length. The bytes are exactly those of `writeEcdc` / `writeEcdcWithLm` (and the
 * reference's `compress`): header, then per segment [float32 BE scale] and the codes, bit-packed
 * time-major and flushed to a byte, or arithmetic-coded with the language model (LM and coder
 * reset per segment).
 */

/** Codes of consecutive frames of one segment (the shape of an offline encoder's output). */
export interface EcdcStreamBlock {
  /** Index of the segment, from 0. */
  readonly segment: number;
  /** The segment's scale when the model normalizes (48 kHz), else null. */
  readonly scale: number | null;
  /** Codebook-major codes: codebook `k` of frame `f` at `codes[k * numFrames + f]`. */
  readonly codes: Uint16Array;
  /** K, the file's codebooks per frame. */
  readonly numCodebooks: number;
  /** Frames in the block, at least 1. */
  readonly numFrames: number;
}

/** Options of {@link EcdcStreamWriter} and {@link EcdcStreamReader}. */
export interface EcdcStreamOptions {
  /** Segment layout and code width. @default ECDC_MODEL_LAYOUTS[modelName] */
  readonly layout?: EcdcModelLayout;
  /** The language model: writes an LM-coded file (`lm: true`); needed to read one. @default null */
  readonly lm?: LmWeights | null;
  /** Name of the file, for error messages. @default "ecdc" */
  readonly source?: string;
  /** Most frames a reader returns per block. @default 750 */
  readonly maxBlockFrames?: number;
}

const DESYNC_HINT =
  "the decoder's probabilities differ from the encoder's: a corrupted file, another language model, or a file LM-coded by the reference Python implementation (its float32 probabilities cannot be reproduced bit for bit)";

function layoutFor(modelName: string, options: EcdcStreamOptions): EcdcModelLayout | undefined {
  if (options.layout) return options.layout;
  return Object.hasOwn(ECDC_MODEL_LAYOUTS, modelName) ? ECDC_MODEL_LAYOUTS[modelName as keyof typeof ECDC_MODEL_LAYOUTS] : undefined;
}

/** Frames per segment of a layout, without materializing a plan per segment of a long file. */
function segmentFrames(audioLength: number, layout: EcdcModelLayout, segment: number): number {
  const stride = layout.strideSamples ?? audioLength;
  const length = Math.min(audioLength - segment * stride, layout.segmentSamples ?? audioLength);
  return Math.ceil((length * layout.frameRateHz) / layout.sampleRateHz);
}

/**
 * Writes an `.ecdc` file block by block: {@link header} first, then {@link write} for each block
 * of codes in order, then {@link finish}. Each call returns the bytes to append.
 */
export class EcdcStreamWriter {
  private readonly layout: EcdcModelLayout;
  private readonly segments: number;
  private segment = -1;
  private framesLeft = 0;
  private packAcc = 0;
  private packHeld = 0;
  private readonly lm: StreamingLm | null;
  private writer: BitWriter | null = null;
  private coder: ArithmeticEncoder | null = null;
  private previous: Int32Array | null = null;
  private readonly cdf: Uint32Array | null;

  /**
   * @param metadata the file's model name, audio length and codebooks (`useLm` follows from `options.lm`)
   * @throws RangeError for metadata out of range, an unknown model without `layout`, or more codebooks than the LM has
   */
  constructor(
    readonly metadata: Omit<EcdcMetadata, "useLm">,
    options: EcdcStreamOptions = {},
  ) {
    const layout = layoutFor(metadata.modelName, options);
    if (!layout) throw new RangeError(`modelName ${JSON.stringify(metadata.modelName)} has no known layout; pass options.layout`);
    this.layout = layout;
    encodeEcdcHeader({ ...metadata, useLm: false }); // checks the fields
    this.segments = countSegments(metadata.audioLength, layout);
    const lm = options.lm ?? null;
    if (lm !== null && metadata.numCodebooks > lm.hyper.numCodebooks) {
      throw new RangeError(`numCodebooks must be at most ${lm.hyper.numCodebooks} (the LM's codebooks), got ${metadata.numCodebooks}`);
    }
    this.lm = lm === null ? null : new StreamingLm(lm, metadata.numCodebooks);
    this.cdf = lm === null ? null : new Uint32Array(lm.hyper.cardinality);
  }

  /** The header bytes (magic, version, JSON metadata). */
  header(): Uint8Array {
    return encodeEcdcHeader({ ...this.metadata, useLm: this.lm !== null });
  }

  /**
   * Append a block of codes.
   *
   * @returns the bytes now ready (possibly none), a fresh array
   * @throws RangeError for a block out of order, beyond its segment's frames, with the wrong
   *   codebook count, a code that does not fit, or a missing or unexpected scale
   */
  write(block: EcdcStreamBlock): Uint8Array {
    const K = this.metadata.numCodebooks;
    const { codes, numFrames: F } = block;
    if (block.numCodebooks !== K || !(codes instanceof Uint16Array) || !Number.isInteger(F) || F < 1 || codes.length !== K * F) {
      throw new RangeError(`block must hold ${K} codebooks × numFrames codes, got ${block.numCodebooks} × ${F} in ${codes?.length}`);
    }
    const parts: Uint8Array[] = [];
    if (block.segment !== this.segment) {
      if (this.framesLeft > 0) throw new RangeError(`block of segment ${block.segment} while segment ${this.segment} still needs ${this.framesLeft} frames`);
      if (block.segment !== this.segment + 1 || block.segment >= this.segments) {
        throw new RangeError(`block.segment must be ${this.segment + 1} (of ${this.segments}), got ${block.segment}`);
      }
      parts.push(this.beginSegment(block.segment, block.scale));
    }
    if (F > this.framesLeft) throw new RangeError(`segment ${this.segment} has ${this.framesLeft} frames left, the block holds ${F}`);
    parts.push(this.lm === null ? this.pack(codes, F) : this.code(codes, F));
    this.framesLeft -= F;
    if (this.framesLeft === 0) parts.push(this.endSegment());
    return concat(parts);
  }

  /**
   * Check that every segment was written in full.
   * @returns the last bytes (none: each segment is flushed when complete)
   * @throws RangeError when frames or segments are missing
   */
  finish(): Uint8Array {
    if (this.framesLeft > 0 || this.segment !== this.segments - 1) {
      throw new RangeError(`the file is incomplete: segment ${Math.max(this.segment, 0)} of ${this.segments}, ${this.framesLeft} frames missing`);
    }
    return new Uint8Array(0);
  }

  private beginSegment(segment: number, scale: number | null): Uint8Array {
    this.segment = segment;
    this.framesLeft = segmentFrames(this.metadata.audioLength, this.layout, segment);
    this.packAcc = 0;
    this.packHeld = 0;
    if (this.lm !== null) {
      this.lm.reset();
      this.writer = new BitWriter(1024);
      this.coder = new ArithmeticEncoder(this.writer);
      this.previous = null;
    }
    if (!this.layout.normalize) {
      if (scale !== null) throw new RangeError(`block.scale must be null (the model does not normalize), got ${scale}`);
      return new Uint8Array(0);
    }
    if (typeof scale !== "number" || !Number.isFinite(scale)) throw new RangeError(`block.scale must be a number (the model normalizes), got ${scale}`);
    const out = new Uint8Array(ECDC_SCALE_BYTES);
    new DataView(out.buffer).setFloat32(0, scale, false);
    return out;
  }

  private pack(codes: Uint16Array, F: number): Uint8Array {
    const K = this.metadata.numCodebooks;
    const bits = this.layout.bitsPerCodebook;
    const limit = 2 ** bits;
    const out = new Uint8Array(Math.ceil((K * F * bits + this.packHeld) / 8));
    let o = 0;
    let acc = this.packAcc;
    let held = this.packHeld;
    for (let t = 0; t < F; t++) {
      for (let k = 0; k < K; k++) {
        const v = codes[k * F + t]!;
        if (v >= limit) throw new RangeError(`codes must be below ${limit}; frame ${t}, codebook ${k} is ${v}`);
        acc += v * 2 ** held;
        held += bits;
        while (held >= 8) {
          out[o++] = acc & 0xff;
          acc = Math.floor(acc / 256);
          held -= 8;
        }
      }
    }
    this.packAcc = acc;
    this.packHeld = held;
    return out.subarray(0, o);
  }

  private code(codes: Uint16Array, F: number): Uint8Array {
    const lm = this.lm!;
    const K = this.metadata.numCodebooks;
    const card = lm.cardinality;
    for (let t = 0; t < F; t++) {
      for (let k = 0; k < K; k++) {
        const code = codes[k * F + t]!;
        if (code >= card) throw new RangeError(`codes must be below ${card}; frame ${t}, codebook ${k} is ${code}`);
      }
    }
    this.previous = pushFrames(lm, this.coder!, codes, F, 0, F, this.previous, this.cdf!);
    return this.writer!.takeBytes();
  }

  private endSegment(): Uint8Array {
    if (this.lm !== null) {
      this.coder!.finish();
      return this.writer!.takeBytes();
    }
    const out = this.packHeld > 0 ? Uint8Array.of(this.packAcc) : new Uint8Array(0);
    this.packAcc = 0;
    this.packHeld = 0;
    return out;
  }
}

/**
 * Reads the body of an `.ecdc` file piece by piece: {@link push} the bytes after the header
 * (`parseEcdcHeader` gives the metadata and where the body starts) as they are read, and
 * {@link read} returns the blocks of codes decodable so far; `read(true)` once all bytes are in.
 * Holds only the bytes not yet decoded and one LM state.
 */
export class EcdcStreamReader {
  private readonly layout: EcdcModelLayout;
  private readonly source: string;
  private readonly maxBlockFrames: number;
  private readonly segments: number;
  private buf = new Uint8Array(4096);
  private pos = 0;
  private end = 0;
  private segment = -1;
  private scale: number | null = null;
  private framesLeft = 0;
  private acc = 0;
  private held = 0;
  private readonly lm: StreamingLm | null;
  private readonly cdf: Uint32Array | null;
  private decoder: ArithmeticDecoder | null = null;
  private previous: Int32Array | null = null;
  private bitCur = 0;
  private bitCount = 0;
  private done = false;
  private readonly bits: BitSource;
  private framesRead = 0;

  /**
   * @param metadata the parsed header's metadata
   * @throws CodecError `unsupported` for an unknown model without `layout` or too many frames,
   *   `lm-unavailable` for an LM-coded file without an LM (or one with too few codebooks)
   */
  constructor(
    readonly metadata: EcdcMetadata,
    options: EcdcStreamOptions = {},
  ) {
    this.source = options.source ?? "ecdc";
    const layout = layoutFor(metadata.modelName, options);
    if (!layout) throw new CodecError("unsupported", `${this.source}: model ${JSON.stringify(metadata.modelName)} is not encodec_24khz or encodec_48khz; pass its layout`);
    this.layout = layout;
    this.maxBlockFrames = options.maxBlockFrames ?? 750;
    if (!Number.isInteger(this.maxBlockFrames) || this.maxBlockFrames < 1) throw new RangeError(`maxBlockFrames must be a positive integer, got ${this.maxBlockFrames}`);
    this.segments = countSegments(metadata.audioLength, layout);
    const lm = options.lm ?? null;
    if (metadata.useLm) {
      if (lm === null) throw new CodecError("lm-unavailable", `${this.source}: the codes are entropy-coded with the language model (lm: true); pass the model's LM`);
      if (metadata.numCodebooks > lm.hyper.numCodebooks) {
        throw new CodecError("lm-unavailable", `${this.source}: ${metadata.numCodebooks} codebooks, the language model predicts only ${lm.hyper.numCodebooks}`);
      }
      const frames = this.totalFrames();
      if (frames > LM_MAX_FRAMES) throw new CodecError("unsupported", `${this.source}: ${frames} frames exceed the limit of ${LM_MAX_FRAMES}`);
    }
    this.lm = metadata.useLm ? new StreamingLm(lm!, metadata.numCodebooks) : null;
    this.cdf = metadata.useLm ? new Uint32Array(lm!.hyper.cardinality) : null;
    this.bits = { pull: () => this.pullBit() };
  }

  /** Frames decoded so far. */
  get framesDecoded(): number {
    return this.framesRead;
  }

  /** Frames the file holds (from its audio length and layout). */
  totalFrames(): number {
    let total = 0;
    for (let s = 0; s < this.segments; s++) total += segmentFrames(this.metadata.audioLength, this.layout, s);
    return total;
  }

  /** Append body bytes (copied). */
  push(bytes: Uint8Array): void {
    if (this.done) throw new Error("EcdcStreamReader: already read to the end");
    if (this.end + bytes.byteLength > this.buf.length) {
      // Move the undecoded bytes to the front, growing the buffer if they do not fit.
      const pending = this.end - this.pos;
      const need = pending + bytes.byteLength;
      if (need > this.buf.length) {
        const next = new Uint8Array(Math.max(2 * this.buf.length, need));
        next.set(this.buf.subarray(this.pos, this.end));
        this.buf = next;
      } else {
        this.buf.copyWithin(0, this.pos, this.end);
      }
      this.pos = 0;
      this.end = pending;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.byteLength;
  }

  /**
   * Decode the frames the bytes pushed so far hold for certain.
   *
   * @param final true when every byte of the file has been pushed: decode to the end and check
   *   that nothing is missing or left over
   * @returns blocks in order, at most `maxBlockFrames` frames each, codes owned by the caller
   * @throws CodecError `truncated` (the file ends inside a segment), `corrupt` (bytes after the
   *   last segment of a plain file, a bad scale), `lm-desync` (LM-coded bits that match no code,
   *   or bytes left over)
   */
  read(final = false): EcdcStreamBlock[] {
    const out: EcdcStreamBlock[] = [];
    const K = this.metadata.numCodebooks;
    for (;;) {
      if (this.framesLeft === 0) {
        if (this.segment + 1 >= this.segments) break;
        if (!this.beginSegment(final)) break;
      }
      const ready = this.readyFrames(final);
      if (ready === 0) break;
      const F = Math.min(ready, this.maxBlockFrames, this.framesLeft);
      const codes = new Uint16Array(K * F);
      if (this.lm === null) this.unpack(codes, F);
      else this.decode(codes, F);
      out.push({ segment: this.segment, scale: this.scale, codes, numCodebooks: K, numFrames: F });
      this.framesLeft -= F;
      this.framesRead += F;
      if (this.framesLeft === 0) this.endSegment();
    }
    if (final) {
      if (this.framesLeft > 0 || this.segment + 1 < this.segments) {
        throw new CodecError("truncated", `${this.source}: the file ends in segment ${Math.max(this.segment, 0)} of ${this.segments}, after ${this.framesRead} of ${this.totalFrames()} frames`);
      }
      if (this.end !== this.pos) {
        const code = this.lm === null ? "corrupt" : "lm-desync";
        throw new CodecError(code, `${this.source}: ${this.end - this.pos} unexpected bytes after the last segment${this.lm === null ? "" : `; ${DESYNC_HINT}`}`);
      }
      this.done = true;
    }
    return out;
  }

  /** Starts the next segment when its scale is in; false when more bytes are needed. */
  private beginSegment(final: boolean): boolean {
    const s = this.segment + 1;
    if (this.layout.normalize) {
      if (this.end - this.pos < ECDC_SCALE_BYTES) {
        if (final) throw new CodecError(s === 0 || this.lm === null ? "truncated" : "lm-desync", `${this.source}: file ends before the scale of segment ${s}`);
        return false;
      }
      const scale = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, ECDC_SCALE_BYTES).getFloat32(0, false);
      if (!(Number.isFinite(scale) && scale > 0)) {
        const code = s === 0 || this.lm === null ? "corrupt" : "lm-desync";
        throw new CodecError(code, `${this.source}: segment ${s} has scale ${scale}, not a positive number${code === "lm-desync" ? `; ${DESYNC_HINT}` : ""}`);
      }
      this.scale = scale;
      this.pos += ECDC_SCALE_BYTES;
    }
    this.segment = s;
    this.framesLeft = segmentFrames(this.metadata.audioLength, this.layout, s);
    this.acc = 0;
    this.held = 0;
    if (this.lm !== null) {
      this.lm.reset();
      this.bitCur = 0;
      this.bitCount = 0;
      this.decoder = new ArithmeticDecoder(this.bits);
      this.previous = null;
    }
    return true;
  }

  /** Frames of the current segment surely decodable from the bytes present. */
  private readyFrames(final: boolean): number {
    const K = this.metadata.numCodebooks;
    const bytes = this.end - this.pos;
    if (this.lm === null) {
      const frames = Math.floor((bytes * 8 + this.held) / (K * this.layout.bitsPerCodebook));
      if (final && frames < this.framesLeft) {
        throw new CodecError("truncated", `${this.source}: segment ${this.segment} needs ${this.framesLeft} more frames of ${K} codebooks, only ${bytes} bytes left`);
      }
      return Math.min(frames, this.framesLeft);
    }
    if (final) return this.framesLeft;
    // A symbol takes at most 24 bits (every code has at least 2 of the 2^24 range); keep a margin.
    return Math.max(0, Math.floor((bytes - 8) / (4 * K)));
  }

  private unpack(codes: Uint16Array, F: number): void {
    const K = this.metadata.numCodebooks;
    const bits = this.layout.bitsPerCodebook;
    const mask = 2 ** bits - 1;
    let acc = this.acc;
    let held = this.held;
    let o = this.pos;
    for (let t = 0; t < F; t++) {
      for (let k = 0; k < K; k++) {
        while (held < bits) {
          acc += this.buf[o++]! * 2 ** held;
          held += 8;
        }
        codes[k * F + t] = acc & mask;
        acc = Math.floor(acc / 2 ** bits);
        held -= bits;
      }
    }
    this.acc = acc;
    this.held = held;
    this.pos = o;
  }

  private decode(codes: Uint16Array, F: number): void {
    const lm = this.lm!;
    const K = this.metadata.numCodebooks;
    const card = lm.cardinality;
    for (let t = 0; t < F; t++) {
      const probs = lm.step(this.previous);
      const cur = this.previous ?? new Int32Array(K);
      for (let k = 0; k < K; k++) {
        buildQuantizedCdf(probs, k * card, card, this.cdf!);
        const s = this.decoder!.pull(this.cdf!, card);
        const at = `${this.source}: segment ${this.segment}, frame ${this.framesRead + t}, codebook ${k}`;
        if (s === AC_EXHAUSTED) throw new CodecError("truncated", `${at}: the coded data ended; ${DESYNC_HINT}`);
        if (s === AC_NO_SYMBOL) throw new CodecError("lm-desync", `${at}: the coded bits match no code; ${DESYNC_HINT}`);
        codes[k * F + t] = s;
        cur[k] = s;
      }
      this.previous = cur;
    }
  }

  private endSegment(): void {
    // The rest of a partly read byte is padding (both for packed codes and the coder's flush).
    this.acc = 0;
    this.held = 0;
    this.bitCur = 0;
    this.bitCount = 0;
  }

  private pullBit(): number {
    if (this.bitCount === 0) {
      if (this.pos >= this.end) return -1;
      this.bitCur = this.buf[this.pos++]!;
      this.bitCount = 8;
    }
    const bit = this.bitCur & 1;
    this.bitCur >>= 1;
    this.bitCount--;
    return bit;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
