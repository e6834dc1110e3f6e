// V8 settings of the `encstream` process that keep a receiver's resident memory down. Both are
// V8 flags set at run time (node:v8 setFlagsFromString): process-wide, read by V8 when it next
// decides, so a command's choice holds for its whole process and its worker threads.
import { setFlagsFromString } from "node:v8";
import type { CodecSession } from "../session/codec-session.js";

/** V8's default `--semi-space-growth-factor`. */
const DEFAULT_SEMI_SPACE_GROWTH_FACTOR = 2;

let lean = false;
let optimizing = true;

/**
 * Starts the process lean (the bin calls it first, before the command line's modules load,
 * as node's module loader itself gets hot enough to be optimized):
 *
 * - V8's optimizing compiler (TurboFan) off: code runs in the interpreter and the baseline
 *   compiler. A receiver's JavaScript is light (datagrams, jitter buffer, playout; the model
 *   runs in ONNX Runtime), and once any function is optimized the compiler's code pages, its
 *   zones in V8's helper threads' malloc arenas and the optimized code stay resident for the
 *   process's life.
 * - The main thread's young generation kept at the size it has (`--semi-space-growth-factor=1`):
 *   node lets it grow to 16 MiB semi-spaces, and module loading and the model's start grew it
 *   to 4 MiB ones (8 MiB resident) although a receiver's frames leave little alive.
 *
 * Full-size 24 kHz receiver at 6 kbps (packages/cli/bench/footprint.ts): peak RSS about 14 MiB
 * lower with the first, 5 MiB with the second. `receive` keeps both (the optimizing compiler
 * until a stream needs the LM: {@link resumingOptimizerOnLm}); every other command calls
 * {@link endLean} as it starts.
 */
export function startLean(): void {
  lean = true;
  optimizing = false;
  setFlagsFromString("--no-turbofan");
  setFlagsFromString("--semi-space-growth-factor=1");
}

/** V8's defaults back (no-op unless {@link startLean} holds): the commands other than `receive`. */
export function endLean(): void {
  if (!lean) return;
  lean = false;
  resumeOptimizingCompiler();
  setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_SEMI_SPACE_GROWTH_FACTOR}`);
}

/**
 * Sets the young generation's bound of {@link startLean} again (no-op unless lean): V8 raises
 * `--semi-space-growth-factor` to at least 2 whenever it configures a new isolate's heap, so
 * this is called once each codec worker thread has started.
 */
export function keepYoungGenerationBound(): void {
  if (lean) setFlagsFromString("--semi-space-growth-factor=1");
}

/**
 * Turns the optimizing compiler back on (no-op when it is on): a stream that needs the language
 * model, whose arithmetic decoding is JavaScript that runs several times slower unoptimized.
 */
export function resumeOptimizingCompiler(): void {
  if (optimizing) return;
  optimizing = true;
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

/** What {@link startLean} set and still holds (for tests). */
export function leanState(): { readonly lean: boolean; readonly optimizing: boolean } {
  return { lean, optimizing };
}
