/**
 * One side of bench/latency.ts, in its own process (so its CPU time is its own):
 *   tsx bench/latency-child.ts receive|send <encstream arguments...>
 * runs runReceive / runSend with hooks that record when each unit's audio was complete at the
 * sender (its capture time) and when every block of audio was handed to the output (receiver), as
 * epoch milliseconds
 * (performance.timeOrigin + performance.now(), comparable across processes on one machine), and
 * the process's CPU time while streaming. With LATENCY_STOP_AFTER_S=N the sender stops (as on
 * Ctrl-C) once N seconds at 24 kHz are sent: for a live input that never ends. Prints `PORT <n>` once listening (receiver) and a final
 * `RESULT <json>` line on stdout.
 */
import { Writable } from "node:stream";
import { startLean } from "../src/internal/lean-v8.js";

// As `encstream` runs them (bin.ts, main.ts): a receiver with V8 lean from the start, a sender
// with V8's defaults.
if (process.argv[2] === "receive") startLean();
const { runReceive } = await import("../src/commands/receive.js");
const { runSend } = await import("../src/commands/send.js");
const { parseCommandLine } = await import("../src/options.js");

const epoch = (ms: number) => performance.timeOrigin + ms;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
const [role, ...args] = process.argv.slice(2);
const parsed = parseCommandLine([role as string, ...args]);
const io = { stdout: quiet, stderr: process.stderr, signal: new AbortController().signal };

if (parsed.command === "receive") {
  const blocks: [number, number, number][] = [];
  let cpuAtStart = 0;
  const result = await runReceive(parsed.options, io, {
    onListening: (_address, port) => {
      cpuAtStart = cpuMs();
      process.stdout.write(`PORT ${port}\n`);
    },
    onPlayed: (b) => blocks.push([b.startSample, b.samples, epoch(b.atMs)]),
  });
  const s = result.stats;
  process.stdout.write(
    `RESULT ${JSON.stringify({ blocks, cpuMs: cpuMs() - cpuAtStart, unitMs: s.unitMs, underruns: s.underruns, concealed: s.concealed, late: s.late, tooFarAhead: s.tooFarAhead, lost: s.lost, samples: s.samplesOut })}\n`,
  );
} else if (parsed.command === "send") {
  let cpuAtStart = 0;
  const units: [number, number, number, number][] = [];
  // A live input (--input mic) never ends: LATENCY_STOP_AFTER_S stops it as Ctrl-C would.
  const stopAfterS = Number(process.env.LATENCY_STOP_AFTER_S ?? "0");
  const stop = new AbortController();
  const result = await runSend(parsed.options, { ...io, signal: stop.signal }, {
    onStart: () => {
      cpuAtStart = cpuMs();
    },
    onUnitSent: (u) => {
      units.push([u.startSample, u.endSample, epoch(u.capturedAtMs), epoch(u.sentAtMs)]);
      if (stopAfterS > 0 && u.endSample >= stopAfterS * 24_000) stop.abort();
    },
  });
  process.stdout.write(`RESULT ${JSON.stringify({ units, cpuMs: cpuMs() - cpuAtStart, durationS: result.durationS })}\n`);
} else {
  throw new Error(`latency-child: expected receive or send, got ${String(role)}`);
}
