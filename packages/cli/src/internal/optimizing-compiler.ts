import { setFlagsFromString } from "node:v8";
import type { CodecSession } from "../session/codec-session.js";

let paused = false;

/**
 * Stops V8's optimizing compiler (TurboFan) in this process: code keeps running in the
 * interpreter and the baseline compiler. `encstream receive` calls it at start: its JavaScript
 * is light (datagrams, jitter buffer, playout; the model runs in ONNX Runtime), and once any
 * function is optimized the compiler's code pages, its zones in V8's helper threads' malloc
 * arenas and the optimized code stay resident for the process's life (full-size receiver,
 * 6 kbps: peak RSS about 14 MiB lower). The flag is process-wide and read whenever V8 decides
 * to optimize a function, so it reaches the codec's worker thread too.
 */
export function pauseOptimizingCompiler(): void {
  setFlagsFromString("--no-turbofan");
  paused = true;
}

/**
 * Turns the optimizing compiler back on after {@link pauseOptimizingCompiler} (no-op
 * otherwise): the receiver calls it when a stream needs the language model, whose arithmetic
 * decoding is JavaScript that runs several times slower unoptimized.
 */
export function resumeOptimizingCompiler(): void {
  if (!paused) return;
  paused = false;
  setFlagsFromString("--turbofan");
}

/**
 * `codec` whose `lm()` first calls {@link resumeOptimizingCompiler}: the receiver sessions call
 * `lm()` when a stream is LM-coded. (The receiver's warm-up, which only reads the LM file, calls
 * the codec's own.)
 */
export function resumingOptimizerOnLm(codec: CodecSession): CodecSession {
  return {
    ...codec,
    lm: () => {
      resumeOptimizingCompiler();
      return codec.lm();
    },
  };
}

/** Whether {@link pauseOptimizingCompiler} holds (for tests). */
export function optimizingCompilerPaused(): boolean {
  return paused;
}
