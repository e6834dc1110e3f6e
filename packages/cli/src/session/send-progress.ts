import { SingleBar } from "cli-progress";
import { isTty } from "../internal/command-io.js";
import { STATS_INTERVAL_MS } from "../constants.js";

/**
 * How much earlier than its interval a line may come. The caller's once-a-second timer fires a
 * little early or late; without slack, a tick 999 ms after the last line was skipped and lines came
 * every 2 s.
 */
const LINE_SLACK_MS = 100;

/**
 * The progress of `send`: a cli-progress bar redrawn in place on a terminal's stderr, plain lines
 * otherwise (one per quarter of the input, or one per second with `--stats`, whose figures ride
 * along on the same line).
 */
export class SendProgress {
  readonly #stream: NodeJS.WritableStream;
  readonly #totalS: number | undefined;
  readonly #everySecond: boolean;
  #bar: SingleBar | undefined;
  #lastQuarter = 0;
  #lastLineMs = Number.NEGATIVE_INFINITY;
  readonly #now: () => number;

  /**
   * @param stream where to draw (stderr)
   * @param totalS length of the input, seconds; undefined for a live input (a microphone, a pipe):
   *   no bar, a plain line every 5 s (every second with `everySecond`)
   * @param everySecond print a plain line every second (with `--stats`) instead of every quarter
   * @param now the clock, milliseconds (`performance.now` unless a test gives its own)
   */
  constructor(stream: NodeJS.WritableStream, totalS: number | undefined, everySecond: boolean, now: () => number = () => performance.now()) {
    this.#stream = stream;
    this.#now = now;
    this.#totalS = totalS;
    this.#everySecond = everySecond;
    if (isTty(stream) && totalS !== undefined) {
      this.#bar = new SingleBar({
        stream,
        format: "send [{bar}] {percentage}% {value}/{total} s{extra}",
        hideCursor: true,
        clearOnComplete: false,
        formatValue: (value, _options, type) => (type === "value" || type === "total" ? Number(value).toFixed(1) : String(value)),
      });
      this.#bar.start(Number(totalS.toFixed(1)), 0, { extra: "" });
    }
  }

  /** Reports `sentS` seconds of audio sent; `extra` (the stats) is shown after the figures. */
  update(sentS: number, extra = ""): void {
    const totalS = this.#totalS;
    if (this.#bar !== undefined && totalS !== undefined) {
      this.#bar.update(Math.min(sentS, totalS), { extra: extra === "" ? "" : ` | ${extra}` });
      return;
    }
    const now = this.#now();
    if (totalS === undefined) {
      if (now - this.#lastLineMs < (this.#everySecond ? STATS_INTERVAL_MS : 5 * STATS_INTERVAL_MS) - LINE_SLACK_MS) return;
      this.#lastLineMs = now;
      this.#stream.write(`send: ${sentS.toFixed(1)} s live${extra === "" ? "" : ` | ${extra}`}\n`);
      return;
    }
    const quarter = totalS > 0 ? Math.floor((4 * sentS) / totalS) : 4;
    const due = this.#everySecond ? now - this.#lastLineMs >= STATS_INTERVAL_MS - LINE_SLACK_MS : quarter > this.#lastQuarter;
    if (!due) return;
    this.#lastQuarter = Math.max(this.#lastQuarter, quarter);
    this.#lastLineMs = now;
    const percent = totalS > 0 ? Math.min(100, Math.round((100 * sentS) / totalS)) : 100;
    this.#stream.write(`send: ${sentS.toFixed(1)}/${totalS.toFixed(1)} s (${percent} %)${extra === "" ? "" : ` | ${extra}`}\n`);
  }

  /** Stops the bar (leaves its last state on the terminal). */
  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
