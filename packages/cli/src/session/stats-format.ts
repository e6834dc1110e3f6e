import type { ReceiverStats, SenderPathStats } from "@encstream/session";

/*
 * The text of `--stats`. The summary's wording is stable (the end-to-end tests read it): each
 * figure is a number followed by its name.
 */

function percent(part: number, whole: number): string {
  return whole === 0 ? "0.0" : ((100 * part) / whole).toFixed(1);
}

/** The live `receive --stats` line: packets, loss, late, duplicates, jitter, buffer depth, bitrate. */
export function formatReceiveLine(s: ReceiverStats): string {
  const units = s.played + s.concealed;
  const jitter = s.jitterMs === undefined ? "-" : s.jitterMs.toFixed(1);
  return (
    `receive: ${(s.samplesOut / s.sampleRateHz).toFixed(1)} s | ${s.datagrams} packets | loss ${percent(s.lost, units)} % (${s.lost}) | ` +
    `late ${s.late} | dup ${s.duplicates} | jitter ${jitter} ms | buffer ${s.depthFrames}/${s.capacityFrames} | ${s.kbps.toFixed(1)} kbps`
  );
}

/** The final `receive --stats` summary, several lines, each ending in a newline. */
export function formatReceiveSummary(s: ReceiverStats): string {
  const units = s.played + s.concealed;
  const jitter = s.jitterMs === undefined ? "-" : s.jitterMs.toFixed(2);
  const bufferMs = (s.bufferFrames * s.unitMs).toFixed(1);
  return [
    "receive: summary",
    `  audio ${(s.samplesOut / s.sampleRateHz).toFixed(3)} s (${s.samplesOut} samples at ${s.sampleRateHz} Hz), ${s.streams} stream(s)`,
    `  datagrams ${s.datagrams} received (${s.bytes} bytes), ${s.malformed} malformed, ${s.duplicates} duplicates, ${s.expired} expired, ${s.dropped} dropped`,
    `  refused ${s.unauthenticated} unauthenticated, ${s.foreign} foreign, ${s.unfit} unfit, ${s.mismatched} mismatched, ${s.afterEnd} after their stream ended`,
    `  frames ${s.played} played, ${s.concealed} concealed, ${s.lost} lost (${percent(s.lost, units)} %), ${s.late} late, ${s.undecodable} undecodable, ${s.tooFarAhead} too-far-ahead`,
    `  ${s.recovered} recovered (FEC), ${s.comfortNoise} comfort-noise, ${s.reportsSent} reports sent`,
    `  jitter ${jitter} ms, buffer ${s.bufferFrames} frames (${bufferMs} ms) of ${s.capacityFrames}, ${s.underruns} underruns, ${s.resyncs} resyncs`,
    "",
  ].join("\n");
}

/** What the receiver's reports say, for the sender's `--stats` line (empty before the first report). */
export function formatPathFigures(p: SenderPathStats, frameRateHz: number): string {
  if (p.last === undefined) return "";
  const rtt = p.rttMs === undefined ? "-" : p.rttMs.toFixed(0);
  const target = p.targetKbps === undefined ? "" : `, target ${p.targetKbps.toFixed(1)} kbps`;
  const frames = p.framesPerPacket === undefined ? "" : `, ${p.framesPerPacket} frame${p.framesPerPacket === 1 ? "" : "s"} a message`;
  return ` | rtt ${rtt} ms, loss ${(p.last.lossFraction * 100).toFixed(1)} % (${p.last.cumulativeLost}), jitter ${p.last.jitterMs.toFixed(1)} ms, ${((p.numCodebooks * 10 * frameRateHz) / 1000).toFixed(2)} kbps codes${frames}${target}`;
}

/** The sender's path summary at the end of `send --stats`. */
export function formatPathSummary(p: SenderPathStats, frameRateHz: number): string {
  const refused = p.unauthenticatedReports > 0 ? `, ${p.unauthenticatedReports} unauthenticated dropped` : "";
  if (p.last === undefined) return `no receiver reports (${p.badReports} other datagrams came back${refused})`;
  const used = p.framesPerPacketUsed.length > 1 ? `, frames a message used: ${p.framesPerPacketUsed.join(", ")}` : "";
  return `${p.reports} receiver reports${refused}, ${p.last.cumulativeLost} units lost, highest seq ${p.last.highestSeq}, ${formatPathFigures(p, frameRateHz).slice(3)}${used}`;
}

/** The sender's `--stats` figures, shown on the progress line. */
export function formatSendFigures(s: { readonly units: number; readonly datagrams: number; readonly bytes: number; readonly elapsedMs: number; readonly behindMs: number }): string {
  const kbps = s.elapsedMs > 0 ? (s.bytes * 8) / s.elapsedMs : 0;
  return `${s.units} frames, ${s.datagrams} packets, ${kbps.toFixed(1)} kbps, ${s.behindMs.toFixed(1)} ms behind`;
}
