/**
 * How many frames each of a run of lost stream-mode messages carried, when only their total is
 * known (the media timestamps of the messages around the run say how long it lasted) and some
 * of them are known on their own (an FEC copy states its frame count).
 *
 * The known counts are kept when the rest can be shared out among the unknown messages (each
 * 1 to `maxPerMessage` frames); otherwise they are set aside (a copy that disagrees with the
 * timestamps is not believed). The rest is shared as evenly as possible, the earlier messages
 * taking the odd frames. Only the total matters for the output's length and timing; which lost
 * message a concealed frame is counted against does not change the audio.
 *
 * @param totalFrames frames the run lasted
 * @param known each message's frame count where known (in order), else undefined
 * @param maxPerMessage most frames one message may carry
 * @returns frames per message, or undefined when no split fits (the total is below one frame a
 *   message, or above `maxPerMessage` a message)
 */
export function allotFrames(totalFrames: number, known: readonly (number | undefined)[], maxPerMessage: number): number[] | undefined {
  const n = known.length;
  if (!Number.isInteger(totalFrames) || totalFrames < n || totalFrames > n * maxPerMessage) return undefined;
  if (n === 0) return [];
  const fits = (f: number | undefined): f is number => f !== undefined && Number.isInteger(f) && f >= 1 && f <= maxPerMessage;
  let knownSum = 0;
  let unknown = 0;
  for (const f of known) {
    if (fits(f)) knownSum += f;
    else unknown++;
  }
  const rest = totalFrames - knownSum;
  const keepKnown = unknown === 0 ? rest === 0 : rest >= unknown && rest <= unknown * maxPerMessage;
  const shares = keepKnown ? known : known.map(() => undefined);
  const toShare = keepKnown ? rest : totalFrames;
  const among = keepKnown ? unknown : n;
  const base = among === 0 ? 0 : Math.floor(toShare / among);
  let odd = among === 0 ? 0 : toShare - base * among;
  return shares.map((f) => {
    if (fits(f)) return f;
    const share = base + (odd > 0 ? 1 : 0);
    if (odd > 0) odd--;
    return share;
  });
}
