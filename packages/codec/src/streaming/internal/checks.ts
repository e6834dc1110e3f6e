import { CodecError } from "../../errors.js";
import { checkFrameCodebooks, findBadCode } from "../../internal/frame-codebooks.js";
import { MAX_STREAM_BLOCK_FRAMES, MAX_STREAM_PUSH_SAMPLES } from "../constants.js";
import type { CodeBlock } from "../stream-types.js";

/**
 * Check one push of planar audio for a stream encoder of `channels` channels.
 *
 * @returns samples per channel
 * @throws TypeError / RangeError for audio of the wrong shape
 */
export function checkStreamAudio(audio: readonly Float32Array[], channels: number): number {
  if (!Array.isArray(audio) || !audio.every((ch) => ch instanceof Float32Array)) throw new TypeError("audio must be an array of Float32Array (one per channel)");
  if (audio.length !== channels) throw new RangeError(`audio must have ${channels} channel(s), got ${audio.length}`);
  const n = audio[0]!.length;
  if (!audio.every((ch) => ch.length === n)) throw new RangeError(`audio channels must have equal lengths, got ${audio.map((c) => c.length).join(", ")}`);
  if (n > MAX_STREAM_PUSH_SAMPLES) throw new RangeError(`audio must hold at most ${MAX_STREAM_PUSH_SAMPLES} samples per channel per push, got ${n}`);
  return n;
}

/** What {@link checkCodeBlock} checks a block against. */
export interface CodeBlockLimits {
  /** Quantizers of the model (the most codebooks a block may have). */
  readonly numQuantizers: number;
  /** Entries per codebook (every code must be below it). */
  readonly codebookSize: number;
  /** Samples per frame. */
  readonly hopSamples: number;
}

/**
 * Check a code block pushed into a stream decoder.
 *
 * @returns the block's frame count
 * @throws CodecError `corrupt` for a code not below the codebook size
 * @throws TypeError / RangeError for a malformed block (K may change from block to block, and per frame with `frameCodebooks`)
 */
export function checkCodeBlock(block: CodeBlock, limits: CodeBlockLimits): number {
  if (typeof block !== "object" || block === null) throw new TypeError("block must be a CodeBlock { codes, numCodebooks, numFrames, lengthSamples? }");
  const { codes, numCodebooks: k, numFrames: f } = block;
  if (!(codes instanceof Uint16Array)) throw new TypeError("block.codes must be a Uint16Array");
  const nq = limits.numQuantizers;
  if (!Number.isInteger(k) || k < 1 || k > nq) throw new RangeError(`block.numCodebooks must be an integer in [1, ${nq}], got ${k}`);
  if (!Number.isInteger(f) || f < 1 || f > MAX_STREAM_BLOCK_FRAMES) throw new RangeError(`block.numFrames must be an integer in [1, ${MAX_STREAM_BLOCK_FRAMES}], got ${f}`);
  if (codes.length !== k * f) throw new RangeError(`block.codes must hold numCodebooks × numFrames = ${k * f} codes, got ${codes.length}`);
  const len = block.lengthSamples;
  if (len !== undefined && (!Number.isInteger(len) || len < 1 || len > f * limits.hopSamples)) {
    throw new RangeError(`block.lengthSamples must be an integer in [1, ${f * limits.hopSamples}], got ${len}`);
  }
  checkFrameCodebooks("block.frameCodebooks", block.frameCodebooks, k, f);
  const size = limits.codebookSize;
  const bad = findBadCode(codes, k, f, block.frameCodebooks, size);
  if (bad >= 0) throw new CodecError("corrupt", `code ${codes[bad]} at index ${bad} is not below the codebook size ${size}`);
  return f;
}
