import { SingleBar } from "cli-progress";
import { isTty } from "./command-io.js";

/**
 * Progress of an offline `encode` or `decode` (LM coding included): a cli-progress bar redrawn
 * in place on a terminal, with the speed (seconds of audio per second) and the time left; plain
 * lines otherwise, one per tenth of the work with the same figures, and one at the end.
 */
export class CodingProgress {
  readonly #stream: NodeJS.WritableStream;
  readonly #label: string;
  readonly #totalS: number;
  readonly #startedMs = performance.now();
  #bar: SingleBar | undefined;
  #lastTenth = 0;

  /**
   * @param stream where to draw (stderr)
   * @param label what is done, first on the line (`encode`, `decode`)
   * @param totalS audio to process, seconds
   */
  constructor(stream: NodeJS.WritableStream, label: string, totalS: number) {
    this.#stream = stream;
    this.#label = label;
    this.#totalS = totalS;
    if (isTty(stream)) {
      this.#bar = new SingleBar({
        stream,
        format: `${label} [{bar}] {percentage}% {value}/{total} s | {speed}× real time | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
        formatValue: (value, _options, type) => (type === "value" || type === "total" ? Number(value).toFixed(0) : String(value)),
      });
      this.#bar.start(Math.max(1, Math.round(totalS)), 0, { speed: "-" });
    }
  }

  /** Reports `doneS` seconds of audio processed. */
  update(doneS: number): void {
    const elapsedS = (performance.now() - this.#startedMs) / 1000;
    const speed = elapsedS > 0 ? doneS / elapsedS : 0;
    if (this.#bar !== undefined) {
      this.#bar.update(Math.min(Math.round(doneS), this.#bar.getTotal()), { speed: speed.toFixed(1) });
      return;
    }
    const tenth = this.#totalS > 0 ? Math.floor((10 * doneS) / this.#totalS) : 10;
    if (tenth <= this.#lastTenth) return;
    this.#lastTenth = tenth;
    if (tenth >= 10) {
      this.#stream.write(`${this.#label}: ${this.#totalS.toFixed(0)}/${this.#totalS.toFixed(0)} s (100 %), ${speed.toFixed(1)}× real time, took ${elapsedS.toFixed(1)} s\n`);
      return;
    }
    const leftS = speed > 0 ? (this.#totalS - doneS) / speed : Number.NaN;
    this.#stream.write(
      `${this.#label}: ${doneS.toFixed(0)}/${this.#totalS.toFixed(0)} s (${Math.floor((100 * doneS) / this.#totalS)} %), ${speed.toFixed(1)}× real time, ${Number.isFinite(leftS) ? `${leftS.toFixed(0)} s left` : "time left unknown"}\n`,
    );
  }

  /** Stops the bar (leaves its last state on the terminal). */
  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
