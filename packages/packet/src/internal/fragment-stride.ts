// How the Reassembler checks fragment sizes without knowing the sender's MTU.
//
// `splitIntoFragments` cuts a frame of L bytes into N fragments where every fragment but the
// last carries the same number of bytes S (the MTU's payload size) and the last carries the
// rest, F = L − (N−1)·S with 1 ≤ F ≤ S. The receiver holds every message of N > 1 fragments to
// that shape: the first fragment seen fixes S (a non-final one directly; a final one through
// S = (L − F) / (N−1), which must be a whole number ≥ F), and every later fragment must then
// carry exactly S bytes, or F if it is the last. Fragment i lands at byte i·S of the message.

/**
 * The stride S implied by fragment `fragIndex` of `payloadBytes` bytes in a message of
 * `totalLength` bytes and `totalFrags` > 1 fragments, or 0 when no split of that shape exists.
 * All arguments are uint32s that passed the per-datagram rules (payload 1..totalLength bytes).
 */
export function strideOf(
  totalLength: number,
  totalFrags: number,
  fragIndex: number,
  payloadBytes: number,
): number {
  const before = totalFrags - 1;
  if (fragIndex < before) {
    // Products may pass 2^53 and round, but only when far above totalLength (< 2^32), so the
    // comparisons stay right.
    const fits = before * payloadBytes < totalLength && totalLength <= totalFrags * payloadBytes;
    return fits ? payloadBytes : 0;
  }
  const rest = totalLength - payloadBytes;
  if (rest < before || rest % before !== 0) return 0;
  const stride = rest / before;
  return stride >= payloadBytes ? stride : 0;
}

/** Payload bytes fragment `fragIndex` must carry once the stride is known. */
export function expectedFragmentBytes(
  totalLength: number,
  totalFrags: number,
  fragIndex: number,
  stride: number,
): number {
  return fragIndex < totalFrags - 1 ? stride : totalLength - (totalFrags - 1) * stride;
}
