import { CodecError } from "../errors.js";
import { packedByteLength, packInto, unpackInto } from "./bit-packer.js";
import { ECDC_SCALE_BYTES } from "./constants.js";
import { encodeEcdcHeader, parseEcdcHeader } from "./ecdc-header.js";
import { countSegments, ECDC_MODEL_LAYOUTS, planSegments, type EcdcModelLayout } from "./segments.js";

/** One segment of an `.ecdc` file. */
export interface EcdcSegment {
  /**
   * Codes `[numCodebooks × frames]`, row-major by codebook: `codes[k * frames + t]` is codebook
   * `k` at frame `t`. The reader returns a `Uint16Array`; the writer also takes an `Int32Array`.
   */
  readonly codes: Uint16Array | Int32Array;
  /** The segment's float32 scale (models that normalise: 48 kHz), else `null`. */
  readonly scale: number | null;
}

/** An `.ecdc` file's content without LM coding. */
export interface EcdcFile {
  /** Model name (`m`): `encodec_24khz` or `encodec_48khz`, or one a `layout` option describes. */
  readonly modelName: string;
  /** Audio length in samples (`al`). */
  readonly audioLength: number;
  /** Codebooks per frame (`nc`). */
  readonly numCodebooks: number;
  /** Always false here: LM-coded files are read through `parseEcdcHeader` and the LM. */
  readonly useLm: false;
  /** Segments in time order; their count and frames follow from `audioLength` and the layout. */
  readonly segments: readonly EcdcSegment[];
}

/** Options for {@link readEcdc} and {@link writeEcdc}. */
export interface EcdcOptions {
  /**
   * Segment layout and code width of the model; needed for a model name other than the published two.
   * @default ECDC_MODEL_LAYOUTS[modelName]
   */
  layout?: EcdcModelLayout;
}

/**
 * Read an `.ecdc` file written without the language model (`lm: false`), as by the reference
 * `encodec.compress(..., use_lm=False)`. Segment count and frames per segment follow from the audio
 * length and the model's layout ({@link planSegments}); each segment is [float32 BE scale when the
 * model normalises] + its codes bit-packed time-major (frame by frame, codebook by codebook),
 * flushed to a byte boundary.
 *
 * @param bytes the whole file; not retained
 * @param source name of the file, for error messages
 * @returns codes as fresh `Uint16Array`s, `[numCodebooks × frames]` per segment
 * @throws CodecError `unsupported` (LM-coded file, unknown model without `layout`, other
 *   version), `truncated` (ends inside a segment), `corrupt` (bad metadata, bytes after the last
 *   segment), `bad-file` (no magic)
 */
export function readEcdc(bytes: Uint8Array, source = "ecdc", options: EcdcOptions = {}): EcdcFile {
  const { metadata, bodyOffset } = parseEcdcHeader(bytes, source);
  if (metadata.useLm) {
    throw new CodecError(
      "unsupported",
      `${source}: the codes are entropy-coded with the language model (lm: true); decoding needs the LM (parse the header with parseEcdcHeader and decode the body with the LM decoder)`,
    );
  }
  const layout = knownLayout(metadata.modelName, options);
  if (!layout) throw new CodecError("unsupported", `${source}: model ${JSON.stringify(metadata.modelName)} is not encodec_24khz or encodec_48khz; pass its layout`);
  const { numCodebooks, audioLength } = metadata;
  const perSegmentMinimum = (layout.normalize ? ECDC_SCALE_BYTES : 0) + 1;
  const remaining = bytes.byteLength - bodyOffset;
  if (countSegments(audioLength, layout) * perSegmentMinimum > remaining) {
    throw new CodecError("truncated", `${source}: audio length ${audioLength} needs ${countSegments(audioLength, layout)} segments, only ${remaining} body bytes present`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments: EcdcSegment[] = [];
  let at = bodyOffset;
  for (const [s, plan] of planSegments(audioLength, layout).entries()) {
    let scale: number | null = null;
    if (layout.normalize) {
      if (at + ECDC_SCALE_BYTES > bytes.byteLength) throw new CodecError("truncated", `${source}: file ends before the scale of segment ${s}`);
      scale = view.getFloat32(at, false);
      at += ECDC_SCALE_BYTES;
    }
    const count = numCodebooks * plan.frames;
    const need = packedByteLength(count, layout.bitsPerCodebook);
    if (at + need > bytes.byteLength) {
      throw new CodecError("truncated", `${source}: segment ${s} needs ${need} bytes of codes (${plan.frames} frames × ${numCodebooks} codebooks), ${bytes.byteLength - at} left`);
    }
    const timeMajor = new Uint16Array(count);
    at = unpackInto(bytes, at, count, layout.bitsPerCodebook, timeMajor, `${source}: segment ${s}`);
    segments.push({ codes: toCodebookMajor(timeMajor, numCodebooks, plan.frames), scale });
  }
  if (at !== bytes.byteLength) throw new CodecError("corrupt", `${source}: ${bytes.byteLength - at} unexpected bytes after the last segment`);
  return { modelName: metadata.modelName, audioLength, numCodebooks, useLm: false, segments };
}

/**
 * Write an `.ecdc` file without the language model, byte-identical to the reference
 * `encodec.compress(..., use_lm=False)` for the same codes and scales.
 *
 * @param file metadata and segments; `segments` must match {@link planSegments} for `audioLength`
 *   (count, and `numCodebooks × frames` codes each), with a scale exactly when the model normalises
 * @returns a fresh byte array
 * @throws RangeError / TypeError naming the field that does not fit (a code ≥ 2^bits, a segment of
 *   the wrong size, a missing or unexpected scale, `useLm` true)
 */
export function writeEcdc(file: EcdcFile, options: EcdcOptions = {}): Uint8Array {
  if (file.useLm !== false) throw new RangeError("useLm must be false: LM-coded bodies are written by the LM coder after encodeEcdcHeader");
  const layout = knownLayout(file.modelName, options);
  if (!layout) throw new RangeError(`modelName ${JSON.stringify(file.modelName)} has no known layout; pass options.layout`);
  const header = encodeEcdcHeader(file);
  const plans = planSegments(file.audioLength, layout);
  if (file.segments.length !== plans.length) {
    throw new RangeError(`segments must hold ${plans.length} segments for audioLength ${file.audioLength}, got ${file.segments.length}`);
  }
  const K = file.numCodebooks;
  let size = header.byteLength;
  plans.forEach((plan, s) => {
    const seg = file.segments[s]!;
    if (!(seg.codes instanceof Uint16Array || seg.codes instanceof Int32Array)) throw new TypeError(`segments[${s}].codes must be a Uint16Array or Int32Array`);
    if (seg.codes.length !== K * plan.frames) {
      throw new RangeError(`segments[${s}].codes must hold ${K} × ${plan.frames} = ${K * plan.frames} codes, got ${seg.codes.length}`);
    }
    if (layout.normalize ? typeof seg.scale !== "number" : seg.scale !== null) {
      throw new RangeError(`segments[${s}].scale must be ${layout.normalize ? "a number (the model normalises)" : "null (the model does not normalise)"}, got ${seg.scale}`);
    }
    size += (layout.normalize ? ECDC_SCALE_BYTES : 0) + packedByteLength(K * plan.frames, layout.bitsPerCodebook);
  });

  const out = new Uint8Array(size);
  out.set(header, 0);
  const view = new DataView(out.buffer);
  let at = header.byteLength;
  plans.forEach((plan, s) => {
    const { codes, scale } = file.segments[s]!;
    if (scale !== null) {
      view.setFloat32(at, scale, false);
      at += ECDC_SCALE_BYTES;
    }
    const F = plan.frames;
    // Stream order is time-major: value i is frame floor(i / K), codebook i % K.
    at = packInto(K * F, (i) => codes[(i % K) * F + Math.floor(i / K)]!, layout.bitsPerCodebook, out, at);
  });
  return out;
}

/** The layout from the options, else the published model's of that name. */
function knownLayout(modelName: string, options: EcdcOptions): EcdcModelLayout | undefined {
  if (options.layout) return options.layout;
  return Object.hasOwn(ECDC_MODEL_LAYOUTS, modelName) ? ECDC_MODEL_LAYOUTS[modelName as keyof typeof ECDC_MODEL_LAYOUTS] : undefined;
}

/** `[frames × K]` time-major codes → `[K × frames]` row-major by codebook. */
function toCodebookMajor(timeMajor: Uint16Array, K: number, F: number): Uint16Array {
  const out = new Uint16Array(K * F);
  for (let t = 0; t < F; t++) for (let k = 0; k < K; k++) out[k * F + t] = timeMajor[t * K + k]!;
  return out;
}
