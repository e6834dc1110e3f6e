import { OFFLINE_BLOCK_FRAMES } from "../constants.js";
import { CodecError } from "../errors.js";
import { createStreamDecoder, type StreamDecoder } from "../streaming/stream-decoder.js";
import { createStreamEncoder, type StreamEncoder } from "../streaming/stream-encoder.js";
import type { StreamingCodec } from "../streaming/streaming-codec.js";
import type { StreamFrame } from "../streaming/stream-types.js";
import { segmentOffsets } from "./audio-segments.js";
import { StreamingOverlapAdd } from "./streaming-overlap-add.js";

/**
 * A run of consecutive frames of one offline segment, as {@link OfflineEncoder} emits them and
 * {@link OfflineDecoder} takes them: a whole segment for segmenting models (48 kHz), a block of
 * the single segment otherwise (24 kHz).
 */
export interface OfflineCodeBlock {
  /** Index of the segment the frames belong to. */
  readonly segment: number;
  /** The segment's scale (48 kHz), the same in every block of the segment; null for models that do not normalize. */
  readonly scale: number | null;
  /** Codebook-major codes: codebook `k` of frame `f` at `codes[k * numFrames + f]`. Owned by the receiver. */
  readonly codes: Uint16Array;
  /** K, codebooks per frame. */
  readonly numCodebooks: number;
  /** F, frames in this block. */
  readonly numFrames: number;
}

/** What the offline coders need from an `EncodecModel`, kept out of its public type. @internal */
export interface OfflineEngine {
  readonly channels: number;
  readonly hopSamples: number;
  readonly segmentSamples: number | null;
  readonly strideSamples: number | null;
  /** Encode equally long segments in one batch (scales computed per segment). */
  encodeBatch(segments: ReadonlyArray<readonly Float32Array[]>, n: number, nq: number): Promise<Array<{ codes: Uint16Array; numFrames: number; scale: number | null }>>;
  /** Decode frames of equal shape in one batch, each scaled; checked by the caller. */
  decodeBatch(frames: ReadonlyArray<{ codes: Uint16Array; numCodebooks: number; numFrames: number; scale: number | null }>): Promise<Float32Array[][]>;
  /** True when the model can be coded block by block (causal, one segment). */
  readonly blockable: boolean;
  /** The model's stateful streaming graphs of one side (opened on first use: one session); only when `blockable`. */
  streamingCodec(side: "encoder" | "decoder"): Promise<StreamingCodec>;
  /** Most equally long segments per batch. */
  readonly maxBatch: number;
}

/** Whether audio of `lengthSamples` is coded block by block with the stateful graphs (more than one block of a causal, unsegmented model). */
export function usesBlocks(engine: OfflineEngine, lengthSamples: number): boolean {
  return engine.blockable && lengthSamples > OFFLINE_BLOCK_FRAMES * engine.hopSamples;
}

/**
 * Offline encoder of one file, fed in pieces of any size, holding only what it needs: the
 * reference result (`EncodecModel.encode`) computed segment by segment (48 kHz: 1 s segments,
 * batched as `encode` batches them) or, for the single segment of a causal model (24 kHz), block
 * by block: {@link OFFLINE_BLOCK_FRAMES} frames per ONNX Runtime call through the stateful
 * streaming graphs, so memory stays flat for any length. The blocks do not depend on how the
 * audio is cut into pushes, so any way of feeding the same audio gives the same codes, bit for bit.
 *
 * Make one with `EncodecModel.createOfflineEncoder`.
 */
export class OfflineEncoder {
  private readonly buffer: Float32Array[][] = [];
  private buffered = 0;
  /** Samples of the input dropped from the front of the buffer. */
  private dropped = 0;
  private pushed = 0;
  private nextSegment = 0;
  private readonly offsets: number[] | null;
  private pendingGroup: Array<readonly Float32Array[]> = [];
  private stream: StreamEncoder | null = null;
  private ended = false;

  /** @internal use `EncodecModel.createOfflineEncoder` */
  constructor(
    private readonly engine: OfflineEngine,
    /** Bandwidth, kbps. */
    readonly bandwidthKbps: number,
    /** Codebooks per frame at the bandwidth. */
    readonly numCodebooks: number,
    /** Samples per channel of the whole input. */
    readonly lengthSamples: number,
    private readonly blocked: boolean,
  ) {
    this.offsets = engine.segmentSamples === null ? null : segmentOffsets(lengthSamples, engine.strideSamples);
  }

  /** Samples per channel pushed so far. */
  get pushedSamples(): number {
    return this.pushed;
  }

  /**
   * Append audio and encode every block or segment now complete.
   *
   * @param audio planar channels at the model's rate; copied, not retained
   * @returns the blocks completed, in order
   * @throws RangeError when more than `lengthSamples` samples are pushed, or for audio of the wrong shape
   */
  async push(audio: readonly Float32Array[]): Promise<OfflineCodeBlock[]> {
    if (this.ended) throw new Error("OfflineEncoder: ended");
    if (!Array.isArray(audio) || audio.length !== this.engine.channels || !audio.every((c) => c instanceof Float32Array && c.length === audio[0]!.length)) {
      throw new RangeError(`audio must be ${this.engine.channels} Float32Array channel(s) of equal length`);
    }
    const n = audio[0]!.length;
    if (this.pushed + n > this.lengthSamples) throw new RangeError(`audio: ${this.pushed + n} samples pushed, more than lengthSamples ${this.lengthSamples}`);
    if (n === 0) return [];
    this.buffer.push(audio.map((c) => c.slice()));
    this.buffered += n;
    this.pushed += n;
    return this.drain(false);
  }

  /**
   * Encode what is left (the last block or segments).
   * @throws RangeError when fewer than `lengthSamples` samples were pushed
   */
  async end(): Promise<OfflineCodeBlock[]> {
    if (this.ended) throw new Error("OfflineEncoder: ended");
    if (this.pushed !== this.lengthSamples) throw new RangeError(`audio: ${this.pushed} samples pushed, lengthSamples is ${this.lengthSamples}`);
    this.ended = true;
    return this.drain(true);
  }

  private async drain(final: boolean): Promise<OfflineCodeBlock[]> {
    if (this.offsets !== null) return this.drainSegments(final);
    if (!this.blocked) {
      if (!final) return [];
      const whole = this.take(this.buffered);
      const [frame] = await this.engine.encodeBatch([whole], this.lengthSamples, this.numCodebooks);
      return [{ segment: 0, scale: frame!.scale, codes: frame!.codes, numCodebooks: this.numCodebooks, numFrames: frame!.numFrames }];
    }
    const out: OfflineCodeBlock[] = [];
    const blockSamples = OFFLINE_BLOCK_FRAMES * this.engine.hopSamples;
    this.stream ??= await createStreamEncoder(await this.engine.streamingCodec("encoder"), { bandwidthKbps: this.bandwidthKbps, maxFramesPerCall: OFFLINE_BLOCK_FRAMES });
    while (this.buffered >= blockSamples) {
      out.push(...this.toBlocks(await this.stream!.push(this.take(blockSamples))));
    }
    if (final) {
      if (this.buffered > 0) out.push(...this.toBlocks(await this.stream!.push(this.take(this.buffered))));
      out.push(...this.toBlocks(await this.stream!.end()));
    }
    return out;
  }

  private toBlocks(frames: readonly StreamFrame[]): OfflineCodeBlock[] {
    if (frames.length === 0) return [];
    const k = this.numCodebooks;
    const f = frames.length;
    const codes = new Uint16Array(k * f);
    frames.forEach((fr, j) => {
      for (let q = 0; q < k; q++) codes[q * f + j] = fr.codes[q]!;
    });
    return [{ segment: 0, scale: null, codes, numCodebooks: k, numFrames: f }];
  }

  private async drainSegments(final: boolean): Promise<OfflineCodeBlock[]> {
    const offsets = this.offsets!;
    const segLen = this.engine.segmentSamples!;
    const out: OfflineCodeBlock[] = [];
    while (this.nextSegment < offsets.length) {
      const start = offsets[this.nextSegment]!;
      const end = Math.min(this.lengthSamples, start + segLen);
      if (this.dropped + this.buffered < end) break;
      const segment = this.slice(start - this.dropped, end - start);
      const full = end - start === segLen;
      if (!full || this.pendingGroup.length === this.engine.maxBatch) out.push(...(await this.flushGroup()));
      this.pendingGroup.push(segment);
      this.nextSegment++;
      const next = offsets[this.nextSegment] ?? this.lengthSamples;
      this.discard(next - this.dropped);
      if (this.pendingGroup.length === this.engine.maxBatch) out.push(...(await this.flushGroup()));
    }
    if (final) out.push(...(await this.flushGroup()));
    return out;
  }

  private async flushGroup(): Promise<OfflineCodeBlock[]> {
    const group = this.pendingGroup;
    if (group.length === 0) return [];
    this.pendingGroup = [];
    const first = this.nextSegment - group.length;
    const frames = await this.engine.encodeBatch(group, group[0]![0]!.length, this.numCodebooks);
    return frames.map((fr, i) => ({ segment: first + i, scale: fr.scale, codes: fr.codes, numCodebooks: this.numCodebooks, numFrames: fr.numFrames }));
  }

  /** A copy of `count` samples from buffer position `from` (relative to the buffer start). */
  private slice(from: number, count: number): Float32Array[] {
    const out = Array.from({ length: this.engine.channels }, () => new Float32Array(count));
    let at = 0;
    let skip = from;
    for (const piece of this.buffer) {
      const len = piece[0]!.length;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const n = Math.min(len - skip, count - at);
      piece.forEach((ch, c) => out[c]!.set(ch.subarray(skip, skip + n), at));
      at += n;
      skip = 0;
      if (at === count) break;
    }
    return out;
  }

  /** Drop `count` samples from the front of the buffer. */
  private discard(count: number): void {
    let left = Math.min(count, this.buffered);
    this.dropped += left;
    this.buffered -= left;
    while (left > 0) {
      const piece = this.buffer[0]!;
      const len = piece[0]!.length;
      if (len <= left) {
        this.buffer.shift();
        left -= len;
      } else {
        this.buffer[0] = piece.map((ch) => ch.subarray(left));
        left = 0;
      }
    }
  }

  /** Take (copy and drop) the first `count` buffered samples. */
  private take(count: number): Float32Array[] {
    const out = this.slice(0, count);
    this.discard(count);
    return out;
  }
}

/**
 * Offline decoder of one file, fed {@link OfflineCodeBlock}s in order, holding only what it
 * needs: the reference result (`EncodecModel.decode`: segments decoded, scaled, joined by the
 * linear overlap-add, trimmed to the length) computed segment by segment, or block by block with
 * the stateful streaming graphs for the single segment of a causal model. The audio returned does
 * not depend on how the frames are cut into blocks.
 *
 * Make one with `EncodecModel.createOfflineDecoder`. Blocks are checked by the model before use.
 */
export class OfflineDecoder {
  private readonly plannedSegments: number;
  private readonly totalFrames: number;
  private framesIn = 0;
  private segmentsIn = 0;
  private emitted = 0;
  /** Pending frames of the single segment (block-by-block and whole-segment paths). */
  private pending: Uint16Array[] = [];
  private pendingFrames = 0;
  private pendingGroup: OfflineCodeBlock[] = [];
  private readonly ola: StreamingOverlapAdd | null;
  private stream: StreamDecoder | null = null;
  private ended = false;

  /** @internal use `EncodecModel.createOfflineDecoder` */
  constructor(
    private readonly engine: OfflineEngine,
    /** K, codebooks per frame. */
    readonly numCodebooks: number,
    /** Samples per channel of the decoded audio. */
    readonly lengthSamples: number,
    private readonly blocked: boolean,
    private readonly checkBlock: (block: OfflineCodeBlock, name: string) => void,
  ) {
    const hop = engine.hopSamples;
    if (engine.segmentSamples === null) {
      this.plannedSegments = 1;
      this.totalFrames = Math.ceil(lengthSamples / hop);
      this.ola = null;
    } else {
      const offsets = segmentOffsets(lengthSamples, engine.strideSamples);
      this.plannedSegments = offsets.length;
      this.totalFrames = offsets.reduce((a, o) => a + Math.ceil(Math.min(engine.segmentSamples!, lengthSamples - o) / hop), 0);
      this.ola = new StreamingOverlapAdd(engine.strideSamples!, engine.channels);
    }
  }

  /** Frames the whole file has. */
  get expectedFrames(): number {
    return this.totalFrames;
  }

  /** Samples per channel returned so far. */
  get emittedSamples(): number {
    return this.emitted;
  }

  /**
   * Decode a block: for segmenting models one whole segment, else any number of frames of the single segment.
   *
   * @returns the audio made final (possibly none), planar, owned by the caller
   * @throws CodecError `corrupt` for a block out of order, more frames than the length needs, or a code ≥ the codebook size;
   *   TypeError / RangeError for a malformed block
   */
  async push(block: OfflineCodeBlock): Promise<Float32Array[]> {
    if (this.ended) throw new Error("OfflineDecoder: ended");
    this.checkBlock(block, "block");
    if (block.numCodebooks !== this.numCodebooks) throw new RangeError(`block.numCodebooks must be ${this.numCodebooks}, got ${block.numCodebooks}`);
    if (this.framesIn + block.numFrames > this.totalFrames) {
      throw corrupt(`${this.framesIn + block.numFrames} frames, more than the ${this.totalFrames} that ${this.lengthSamples} samples need`);
    }
    this.framesIn += block.numFrames;
    if (this.ola !== null) return this.pushSegment(block);
    if (block.segment !== 0) throw corrupt(`block of segment ${block.segment}, this model has one segment`);
    for (let j = 0; j < block.numFrames; j++) {
      const c = new Uint16Array(this.numCodebooks);
      for (let q = 0; q < this.numCodebooks; q++) c[q] = block.codes[q * block.numFrames + j]!;
      this.pending.push(c);
    }
    this.pendingFrames += block.numFrames;
    return this.blocked ? this.drainBlocks(false) : concatPlanar([], this.engine.channels);
  }

  /**
   * Decode what is left and return the end of the audio, trimmed to `lengthSamples`.
   * @throws CodecError `corrupt` when fewer frames or segments were pushed than the length needs
   */
  async end(): Promise<Float32Array[]> {
    if (this.ended) throw new Error("OfflineDecoder: ended");
    this.ended = true;
    if (this.framesIn !== this.totalFrames) throw corrupt(`${this.framesIn} frames, ${this.lengthSamples} samples need ${this.totalFrames}`);
    if (this.ola !== null) return this.trim(await this.flushGroup(true));
    if (this.blocked) return this.drainBlocks(true);
    const f = this.pendingFrames;
    const codes = this.frameBlock(f);
    const [audio] = await this.engine.decodeBatch([{ codes, numCodebooks: this.numCodebooks, numFrames: f, scale: null }]);
    return this.trim(audio!);
  }

  private async drainBlocks(final: boolean): Promise<Float32Array[]> {
    this.stream ??= createStreamDecoder(await this.engine.streamingCodec("decoder"), { maxFramesPerCall: OFFLINE_BLOCK_FRAMES });
    const parts: Float32Array[][] = [];
    const hop = this.engine.hopSamples;
    while (this.pendingFrames >= OFFLINE_BLOCK_FRAMES || (final && this.pendingFrames > 0)) {
      const f = Math.min(OFFLINE_BLOCK_FRAMES, this.pendingFrames);
      const codes = this.frameBlock(f);
      const lengthSamples = Math.min(f * hop, this.lengthSamples - (this.framesIn - this.pendingFrames - f) * hop);
      parts.push(await this.stream.push({ codes, numCodebooks: this.numCodebooks, numFrames: f, lengthSamples }));
    }
    if (final) parts.push(await this.stream.end());
    const out = concatPlanar(parts, this.engine.channels);
    this.emitted += out[0]!.length;
    return out;
  }

  /** Codebook-major codes of the first `f` pending frames, removed from the pending list. */
  private frameBlock(f: number): Uint16Array {
    const k = this.numCodebooks;
    const codes = new Uint16Array(k * f);
    for (let j = 0; j < f; j++) {
      const c = this.pending[j]!;
      for (let q = 0; q < k; q++) codes[q * f + j] = c[q]!;
    }
    this.pending.splice(0, f);
    this.pendingFrames -= f;
    return codes;
  }

  private async pushSegment(block: OfflineCodeBlock): Promise<Float32Array[]> {
    if (block.segment !== this.segmentsIn) throw corrupt(`block of segment ${block.segment}, expected segment ${this.segmentsIn} (one block per segment)`);
    const hop = this.engine.hopSamples;
    const offset = block.segment * this.engine.strideSamples!;
    const frames = Math.ceil(Math.min(this.engine.segmentSamples!, this.lengthSamples - offset) / hop);
    if (block.numFrames !== frames) throw corrupt(`segment ${block.segment} has ${block.numFrames} frames, ${frames} expected`);
    this.segmentsIn++;
    const parts: Float32Array[][] = [];
    const last = this.pendingGroup[this.pendingGroup.length - 1];
    if (last !== undefined && (last.numFrames !== block.numFrames || this.pendingGroup.length === this.engine.maxBatch)) parts.push(await this.flushGroup(false));
    this.pendingGroup.push(block);
    if (this.pendingGroup.length === this.engine.maxBatch && this.segmentsIn < this.plannedSegments) parts.push(await this.flushGroup(false));
    return this.trim(concatPlanar(parts, this.engine.channels));
  }

  private async flushGroup(final: boolean): Promise<Float32Array[]> {
    const group = this.pendingGroup;
    this.pendingGroup = [];
    if (group.length === 0) return Array.from({ length: this.engine.channels }, () => new Float32Array(0));
    const decoded = await this.engine.decodeBatch(group);
    const parts = decoded.map((seg, i) => this.ola!.push(seg, final && i === decoded.length - 1));
    return concatPlanar(parts, this.engine.channels);
  }

  /** Cut `audio` so that no more than `lengthSamples` samples are returned in all. */
  private trim(audio: Float32Array[]): Float32Array[] {
    const room = this.lengthSamples - this.emitted;
    const n = audio[0]!.length;
    const out = n <= room ? audio : audio.map((c) => c.subarray(0, room));
    this.emitted += out[0]!.length;
    return out;
  }
}

function corrupt(message: string): Error {
  return new CodecError("corrupt", `offline decode: ${message}`);
}

/** Planar pieces joined end to end. */
function concatPlanar(parts: readonly Float32Array[][], channels: number): Float32Array[] {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((s, p) => s + p[0]!.length, 0);
  return Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p[c]!, o);
      o += p[c]!.length;
    }
    return out;
  });
}
