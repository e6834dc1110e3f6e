// The playout AudioWorklet: audio clocked by the audio device. Decoded audio arrives from the
// decode worker (a MessagePort) into a ring buffer; each 128-sample render quantum takes from it.
// - Prefill: after a start or an underrun, output waits until the ring holds the largest block
//   seen plus PREFILL_MARGIN_S, so the worker's bursty delivery never starves the device.
// - Underrun: the ring ran dry while playing and audio came again later (running dry after the
//   worker said the stream ended is the silence between streams, not an underrun).
// - Drift correction: after DRIFT_SETTLE_S of playing, the ring's smoothed level is the target;
//   when the sender's clock and the device's differ, the level moves, and one sample in
//   DRIFT_STEP_SAMPLES is dropped (level too high) or repeated (too low) until it is back within
//   tolerance. Counted in driftSamples; a clean run on one machine needs none.
// - Tap (tests): the samples played from the ring, posted back to the page.
import { RingBuffer } from "./ring-buffer.js";
import type { WorkletCommand, WorkletEvent } from "./messages.js";

declare const sampleRate: number;
declare function registerProcessor(name: string, ctor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}

const QUANTUM = 128;
const RING_SECONDS = 20;
const PREFILL_MARGIN_S = 0.35;
const DRIFT_SETTLE_S = 3;
const DRIFT_STEP_SAMPLES = 1000;
const EMA_TIME_CONSTANT_S = 2;
const STATS_INTERVAL_S = 0.1;
const TAP_POST_SAMPLES = 4800;

type State = "prefilling" | "playing" | "starved";

class PlayoutProcessor extends AudioWorkletProcessor {
  readonly #ring: RingBuffer;
  #worker: MessagePort | undefined;
  #state: State = "prefilling";
  #largestBlock = 0;
  #underruns = 0;
  #ended = false;
  #played = 0;
  #drift = 0;
  #peak = 0;
  #ema = 0;
  #playingSince = 0;
  #target: number | undefined;
  #sinceStep = 0;
  #sinceStats = 0;
  #tap = false;
  #tapParts: Float32Array[][] = [];
  #tapLength = 0;

  constructor(options: { processorOptions?: { channels?: number } }) {
    super();
    const channels = options.processorOptions?.channels ?? 1;
    this.#ring = new RingBuffer(channels, Math.round(RING_SECONDS * sampleRate));
    this.port.onmessage = (e: MessageEvent) => {
      const port = (e.data as { type?: string }).type === "port" ? e.ports[0] : undefined;
      if (port) {
        this.#worker = port;
        port.onmessage = (m: MessageEvent<WorkletCommand>) => this.#command(m.data);
      } else this.#command(e.data as WorkletCommand);
    };
  }

  #command(cmd: WorkletCommand): void {
    if (cmd.type === "audio") {
      const n = cmd.channels[0]?.length ?? 0;
      if (n === 0) return;
      this.#largestBlock = Math.max(this.#largestBlock, n);
      this.#ring.write(cmd.channels);
      if (this.#state === "starved") {
        if (!this.#ended) this.#underruns++;
        this.#restart();
      }
      this.#ended = false;
    } else if (cmd.type === "stream-ended") {
      this.#ended = true;
    } else if (cmd.type === "tap") {
      this.#tap = cmd.on;
      this.#tapParts = [];
      this.#tapLength = 0;
    }
  }

  #restart(): void {
    this.#state = "prefilling";
    this.#target = undefined;
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0]!;
    for (const ch of out) ch.fill(0);
    const ring = this.#ring;
    if (this.#state === "prefilling" && ring.level > 0 && ring.level >= Math.min(ring.capacity / 2, this.#largestBlock + PREFILL_MARGIN_S * sampleRate)) {
      this.#state = "playing";
      this.#playingSince = this.#played;
      this.#ema = ring.level;
    }
    if (this.#state === "playing") {
      let got: number;
      const correction = this.#driftCorrection();
      if (correction < 0 && ring.level > 0) {
        got = ring.read(out, 0, QUANTUM - 1);
        if (got === QUANTUM - 1) {
          for (const ch of out) ch[QUANTUM - 1] = ch[QUANTUM - 2]!;
          got = QUANTUM;
          this.#drift--;
        }
      } else {
        if (correction > 0 && ring.skip()) this.#drift++;
        got = ring.read(out, 0, QUANTUM);
      }
      this.#played += got;
      if (got < QUANTUM) this.#state = "starved";
      for (let i = 0; i < got; i++) this.#peak = Math.max(this.#peak, Math.abs(out[0]![i]!));
      if (this.#tap && got > 0) this.#tapOut(out, got);
      const alpha = QUANTUM / (EMA_TIME_CONSTANT_S * sampleRate);
      this.#ema += alpha * (ring.level - this.#ema);
    }
    this.#sinceStats += QUANTUM;
    if (this.#sinceStats >= STATS_INTERVAL_S * sampleRate) {
      this.#sinceStats = 0;
      this.#report();
    }
    return true;
  }

  /** +1: drop a sample now, −1: repeat one, 0: nothing. */
  #driftCorrection(): number {
    if (this.#played - this.#playingSince < DRIFT_SETTLE_S * sampleRate) return 0;
    this.#target ??= this.#ema;
    this.#sinceStep += QUANTUM;
    if (this.#sinceStep < DRIFT_STEP_SAMPLES) return 0;
    const tolerance = Math.max(0.1 * sampleRate, this.#largestBlock);
    const off = this.#ema - this.#target;
    if (Math.abs(off) <= tolerance) return 0;
    this.#sinceStep = 0;
    return off > 0 ? 1 : -1;
  }

  #tapOut(out: Float32Array[], got: number): void {
    this.#tapParts.push(out.map((ch) => ch.slice(0, got)));
    this.#tapLength += got;
    if (this.#tapLength >= TAP_POST_SAMPLES) this.#flushTap();
  }

  #flushTap(): void {
    if (this.#tapLength === 0) return;
    const channels = this.#tapParts[0]!.map((_, c) => {
      const joined = new Float32Array(this.#tapLength);
      let at = 0;
      for (const part of this.#tapParts) {
        joined.set(part[c]!, at);
        at += part[c]!.length;
      }
      return joined;
    });
    this.#tapParts = [];
    this.#tapLength = 0;
    const event: WorkletEvent = { type: "tap", channels };
    this.port.postMessage(event, channels.map((c) => c.buffer));
  }

  #report(): void {
    if (this.#tap && this.#state !== "playing") this.#flushTap();
    const event: WorkletEvent = {
      type: "stats",
      levelSamples: this.#ring.level,
      underruns: this.#underruns,
      playedSamples: this.#played,
      driftSamples: this.#drift,
      overflowSamples: this.#ring.overflowSamples,
      peak: this.#peak,
      playing: this.#state === "playing",
    };
    this.#peak = 0;
    this.port.postMessage(event);
  }
}

registerProcessor("encstream-playout", PlayoutProcessor);
