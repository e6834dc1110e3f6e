import type { PacketErrorCode } from "../errors.js";

/** A rule a datagram breaks: the {@link PacketErrorCode} and a message naming the field first. */
export type Problem = readonly [code: Exclude<PacketErrorCode, "bad-key">, message: string];

/**
 * The rules one datagram must meet on its own, whichever side checks them (the encoder, to
 * refuse to write what the decoder would reject, and the decoder). Returns the first rule
 * broken, or `undefined`. All arguments are uint32s already.
 *
 * - `totalFrags` ≥ 1 and `fragIndex` < `totalFrags`;
 * - `totalFrags` ≤ max(1, `totalLength`): every fragment of a split message carries ≥ 1 byte;
 * - the payload is no longer than the whole message;
 * - a single-fragment message carries exactly `totalLength` bytes;
 * - a fragment of a multi-fragment message is not empty.
 */
export function findFragmentProblem(
  totalLength: number,
  totalFrags: number,
  fragIndex: number,
  payloadBytes: number,
): Problem | undefined {
  if (totalFrags === 0) return ["bad-field", "totalFrags must be >= 1, got 0"];
  if (fragIndex >= totalFrags) {
    return ["bad-field", `fragIndex must be < totalFrags (${totalFrags}), got ${fragIndex}`];
  }
  if (totalFrags > 1 && totalFrags > totalLength) {
    return [
      "bad-field",
      `totalFrags must be <= totalLength (${totalLength}) when above 1, got ${totalFrags}`,
    ];
  }
  if (payloadBytes > totalLength) {
    return [
      "bad-length",
      `payload must be at most totalLength (${totalLength}) bytes, got ${payloadBytes}`,
    ];
  }
  if (totalFrags === 1 && payloadBytes !== totalLength) {
    return [
      "bad-length",
      `payload of a single-fragment message must be totalLength (${totalLength}) bytes, got ${payloadBytes}`,
    ];
  }
  if (payloadBytes === 0 && totalFrags > 1) {
    return ["bad-length", `payload of a fragment of a ${totalFrags}-fragment message must not be empty`];
  }
  return undefined;
}
