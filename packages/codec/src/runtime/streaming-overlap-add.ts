/**
 * The reference's `_linear_overlap_add` computed segment by segment: the same float64 sums in the
 * same order as {@link linearOverlapAdd} over all segments at once, so the output is bit for bit
 * the same, but only the samples a later segment can still touch are held (the overlap,
 * `segment length − stride`), whatever the number of segments.
 *
 * Usage: {@link push} each decoded segment in order; it returns the samples that no later segment
 * overlaps. {@link end} returns the rest.
 */
export class StreamingOverlapAdd {
  private weight: Float64Array | null = null;
  /** Accumulated weighted sums and weights for samples `[emitted, emitted + acc[0].length)`. */
  private acc: Float64Array[] = [];
  private sumWeight: Float64Array = new Float64Array(0);
  private emitted = 0;
  private segments = 0;

  /**
   * @param strideSamples samples between segment starts
   * @param channels channels of every segment
   * @throws RangeError for a stride or channel count that is not a positive integer
   */
  constructor(
    readonly strideSamples: number,
    readonly channels: number,
  ) {
    if (!Number.isSafeInteger(strideSamples) || strideSamples < 1) throw new RangeError(`strideSamples must be a positive integer, got ${strideSamples}`);
    if (!Number.isSafeInteger(channels) || channels < 1) throw new RangeError(`channels must be a positive integer, got ${channels}`);
  }

  /**
   * Add the next segment (planar, one array per channel; the first segment's length sets the
   * triangle of weights, as in the reference).
   *
   * @param last true for the final segment: everything left is returned
   * @returns the samples made final, planar, owned by the caller
   * @throws RangeError for a segment with the wrong channel count or no samples
   */
  push(segment: readonly Float32Array[], last: boolean): Float32Array[] {
    if (segment.length !== this.channels || segment[0]!.length === 0) {
      throw new RangeError(`segment must hold ${this.channels} non-empty channel(s), got ${segment.length}`);
    }
    if (this.weight === null) {
      const frameLength = segment[0]!.length;
      this.weight = new Float64Array(frameLength);
      for (let i = 0; i < frameLength; i++) {
        const t = (i + 1) / (frameLength + 1);
        this.weight[i] = 0.5 - Math.abs(t - 0.5);
      }
    }
    const weight = this.weight;
    const offset = this.segments * this.strideSamples - this.emitted;
    const len = Math.min(segment[0]!.length, weight.length);
    this.ensure(offset + len);
    for (let i = 0; i < len; i++) this.sumWeight[offset + i]! += weight[i]!;
    segment.forEach((ch, c) => {
      const a = this.acc[c]!;
      for (let i = 0; i < len; i++) a[offset + i]! += weight[i]! * ch[i]!;
    });
    this.segments++;
    // Samples before the next segment's start are final; at the end, all of them up to this segment's end.
    const ready = last ? offset + len : Math.min(offset + len, this.strideSamples + offset);
    return this.take(ready);
  }

  /** Samples returned so far, per channel. */
  get emittedSamples(): number {
    return this.emitted;
  }

  private ensure(length: number): void {
    if (this.sumWeight.length >= length) return;
    const grow = (old: Float64Array): Float64Array => {
      const next = new Float64Array(length);
      next.set(old);
      return next;
    };
    this.sumWeight = grow(this.sumWeight);
    this.acc = this.acc.length === 0 ? Array.from({ length: this.channels }, () => new Float64Array(length)) : this.acc.map(grow);
  }

  private take(count: number): Float32Array[] {
    const out = this.acc.map((a) => {
      const o = new Float32Array(count);
      for (let i = 0; i < count; i++) o[i] = a[i]! / this.sumWeight[i]!;
      return o;
    });
    const rest = this.sumWeight.length - count;
    const shift = (old: Float64Array): Float64Array => {
      const next = new Float64Array(rest);
      next.set(old.subarray(count));
      return next;
    };
    this.sumWeight = shift(this.sumWeight);
    this.acc = this.acc.map(shift);
    this.emitted += count;
    return out;
  }
}
