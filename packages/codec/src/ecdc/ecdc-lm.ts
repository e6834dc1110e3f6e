import { CodecError, isCodecError } from "../errors.js";
import { decodeCodesWithLmAt, encodeCodesWithLm, LM_MAX_FRAMES } from "../lm/lm-coding.js";
import type { LmWeights } from "../lm/lm-weights.js";
import { ECDC_SCALE_BYTES } from "./constants.js";
import { readEcdc, type EcdcOptions, type EcdcSegment } from "./ecdc-file.js";
import { encodeEcdcHeader, parseEcdcHeader } from "./ecdc-header.js";
import { ECDC_MODEL_LAYOUTS, planSegments, type EcdcModelLayout } from "./segments.js";

/** An `.ecdc` file's content, LM-coded or not. */
export interface EcdcLmFile {
  /** Model name (`m`). */
  readonly modelName: string;
  /** Audio length in samples (`al`). */
  readonly audioLength: number;
  /** Codebooks per frame (`nc`). */
  readonly numCodebooks: number;
  /** `lm`: whether the codes are arithmetic-coded with the language model. */
  readonly useLm: boolean;
  /** Segments in time order (see `planSegments`), codes `[numCodebooks × frames]` codebook-major. */
  readonly segments: readonly EcdcSegment[];
}

/** Options of {@link readEcdcWithLm}. */
export interface ReadEcdcWithLmOptions extends EcdcOptions {
  /**
   * Most frames (summed over segments) an LM-coded file may declare; bounds the allocation,
   * since arithmetic coding can spend well under one bit on a frame.
   * @default 4194304 (LM_MAX_FRAMES: 15.5 h at 75 Hz)
   */
  maxFrames?: number;
}

function layoutOf(modelName: string, options: EcdcOptions): EcdcModelLayout | undefined {
  if (options.layout) return options.layout;
  return Object.hasOwn(ECDC_MODEL_LAYOUTS, modelName) ? ECDC_MODEL_LAYOUTS[modelName as keyof typeof ECDC_MODEL_LAYOUTS] : undefined;
}

const DESYNC_HINT =
  "the decoder's probabilities differ from the encoder's: a corrupted file, another language model, or a file LM-coded by the reference Python implementation, whose float32 probabilities no other implementation reproduces bit for bit (see README, Language model)";

/**
 * Read any `.ecdc` file: bit-packed (`lm: false`, delegated to `readEcdc`) or arithmetic-coded
 * with the language model (`lm: true`), segment by segment as the reference `decompress` does
 * (LM state and coder reset per segment, [float32 BE scale] before each segment's bits).
 *
 * @param lm the model's language model, needed only when the file has `lm: true`
 * @returns codes as fresh `Uint16Array`s
 * @throws CodecError `lm-unavailable` (LM file, `lm` null or with too few codebooks),
 *   `lm-desync` (bits that match no code, bytes left after the last segment, or a scale that is
 *   not a positive number after an LM-coded segment), `truncated`, `unsupported` (unknown model
 *   without `layout`, more than `maxFrames` frames), plus everything `parseEcdcHeader` throws
 */
export function readEcdcWithLm(bytes: Uint8Array, lm: LmWeights | null, source = "ecdc", options: ReadEcdcWithLmOptions = {}): EcdcLmFile {
  const { metadata, bodyOffset } = parseEcdcHeader(bytes, source);
  if (!metadata.useLm) return readEcdc(bytes, source, options);
  const layout = layoutOf(metadata.modelName, options);
  if (!layout) throw new CodecError("unsupported", `${source}: model ${JSON.stringify(metadata.modelName)} is not encodec_24khz or encodec_48khz; pass its layout`);
  const { numCodebooks: K, audioLength } = metadata;
  if (lm === null) throw new CodecError("lm-unavailable", `${source}: the codes are entropy-coded with the language model (lm: true); pass the model's LM`);
  if (K > lm.hyper.numCodebooks) {
    throw new CodecError("lm-unavailable", `${source}: ${K} codebooks, the language model predicts only ${lm.hyper.numCodebooks}`);
  }
  const maxFrames = options.maxFrames ?? LM_MAX_FRAMES;
  if (!Number.isSafeInteger(maxFrames) || maxFrames < 0) throw new RangeError(`options.maxFrames must be a non-negative integer, got ${maxFrames}`);
  const plans = planSegments(audioLength, layout);
  const totalFrames = plans.reduce((a, p) => a + p.frames, 0);
  if (totalFrames > maxFrames) throw new CodecError("unsupported", `${source}: ${totalFrames} frames exceed the limit of ${maxFrames} (options.maxFrames)`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments: EcdcSegment[] = [];
  let at = bodyOffset;
  for (const [s, plan] of plans.entries()) {
    let scale: number | null = null;
    if (layout.normalize) {
      if (at + ECDC_SCALE_BYTES > bytes.byteLength) {
        throw new CodecError(s === 0 ? "truncated" : "lm-desync", `${source}: file ends before the scale of segment ${s}${s === 0 ? "" : `; ${DESYNC_HINT}`}`);
      }
      scale = view.getFloat32(at, false);
      at += ECDC_SCALE_BYTES;
      if (!(Number.isFinite(scale) && scale > 0)) {
        throw new CodecError(s === 0 ? "corrupt" : "lm-desync", `${source}: segment ${s} has scale ${scale}, not a positive number${s === 0 ? "" : `; ${DESYNC_HINT}`}`);
      }
    }
    let decoded;
    try {
      decoded = decodeCodesWithLmAt(bytes, at, lm, K, plan.frames, `${source}: segment ${s}`);
    } catch (e) {
      if (isCodecError(e) && (e.code === "lm-desync" || e.code === "truncated")) {
        throw new CodecError(e.code, `${e.message}; ${DESYNC_HINT}`, { cause: e });
      }
      throw e;
    }
    at += decoded.bytesRead;
    segments.push({ codes: decoded.codes, scale });
  }
  if (at !== bytes.byteLength) {
    throw new CodecError("lm-desync", `${source}: ${bytes.byteLength - at} bytes left after the last segment; ${DESYNC_HINT}`);
  }
  return { modelName: metadata.modelName, audioLength, numCodebooks: K, useLm: true, segments };
}

/**
 * Write an `.ecdc` file with `lm: true`: the reference header, then per segment [float32 BE
 * scale] and the codes arithmetic-coded with the language model (LM state and coder reset per
 * segment), exactly the layout of the reference `compress(..., use_lm=True)`.
 *
 * @param file metadata and segments; `segments` must match `planSegments` for `audioLength`
 * @param lm the model's language model (the reader needs the same one)
 * @returns a fresh byte array
 * @throws RangeError / TypeError naming the field that does not fit
 */
export function writeEcdcWithLm(file: Omit<EcdcLmFile, "useLm">, lm: LmWeights, options: EcdcOptions = {}): Uint8Array {
  const layout = layoutOf(file.modelName, options);
  if (!layout) throw new RangeError(`modelName ${JSON.stringify(file.modelName)} has no known layout; pass options.layout`);
  const K = file.numCodebooks;
  if (!Number.isInteger(K) || K < 1 || K > lm.hyper.numCodebooks) {
    throw new RangeError(`numCodebooks must be an integer in [1, ${lm.hyper.numCodebooks}] (the LM's codebooks), got ${K}`);
  }
  const header = encodeEcdcHeader({ modelName: file.modelName, audioLength: file.audioLength, numCodebooks: K, useLm: true });
  const plans = planSegments(file.audioLength, layout);
  if (file.segments.length !== plans.length) {
    throw new RangeError(`segments must hold ${plans.length} segments for audioLength ${file.audioLength}, got ${file.segments.length}`);
  }
  const parts: Uint8Array[] = [header];
  plans.forEach((plan, s) => {
    const seg = file.segments[s]!;
    if (seg.codes.length !== K * plan.frames) {
      throw new RangeError(`segments[${s}].codes must hold ${K} × ${plan.frames} = ${K * plan.frames} codes, got ${seg.codes.length}`);
    }
    if (layout.normalize) {
      if (typeof seg.scale !== "number") throw new RangeError(`segments[${s}].scale must be a number (the model normalises), got ${seg.scale}`);
      const scale = new Uint8Array(ECDC_SCALE_BYTES);
      new DataView(scale.buffer).setFloat32(0, seg.scale, false);
      parts.push(scale);
    } else if (seg.scale !== null) {
      throw new RangeError(`segments[${s}].scale must be null (the model does not normalise), got ${seg.scale}`);
    }
    parts.push(encodeCodesWithLm(seg.codes, lm, K));
  });
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
