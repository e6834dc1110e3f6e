import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

// Each case runs in a child process (V8's flags are process-wide), with natives syntax to ask
// V8 to optimize a function (%GetOptimizationStatus: bit 16 = optimized).
const MODULE = fileURLToPath(new URL("./lean-v8.ts", import.meta.url));
const PRELUDE = `
const lean = await import(${JSON.stringify(MODULE)});
const v8 = await import("node:v8");
const { Worker } = await import("node:worker_threads");
const optimizedAfterAsking = () => {
  const f = new Function("n", "let s = 0; for (let i = 0; i < n; i++) s += i * 2; return s;");
  %PrepareFunctionForOptimization(f);
  f(10); f(10);
  %OptimizeFunctionOnNextCall(f);
  f(10);
  return (%GetOptimizationStatus(f) & 16) !== 0;
};
const newSpaceMiB = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 1048576;
// Allocates half a million small objects, a quarter of them kept: enough survivors to grow a young generation.
const churn = () => { const keep = []; for (let i = 0; i < 5e5; i++) { keep.push({ a: i, b: [i] }); if (i % 4 === 0) keep[i >> 1] = null; } return keep.length; };
const workerStarted = () => new Promise((done) => new Worker("", { eval: true }).on("exit", done));
`;

function runChild(body: string): unknown {
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", PRELUDE + body], { encoding: "utf8", timeout: 20_000 });
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout);
}

test("startLean stops V8 optimizing; resumeOptimizingCompiler and endLean turn it back on", () => {
  const result = runChild(`
const before = optimizedAfterAsking();
lean.startLean();
const started = [lean.leanState(), optimizedAfterAsking()];
lean.resumeOptimizingCompiler();
const resumed = [lean.leanState(), optimizedAfterAsking()];
lean.startLean();
lean.endLean();
const ended = [lean.leanState(), optimizedAfterAsking()];
console.log(JSON.stringify({ before, started, resumed, ended }));`);
  expect(result).toEqual({
    before: true,
    started: [{ lean: true, optimizing: false }, false],
    resumed: [{ lean: true, optimizing: true }, true],
    ended: [{ lean: false, optimizing: true }, true],
  });
});

test("startLean keeps the young generation's size; a worker's start undoes it until keepYoungGenerationBound", () => {
  const result = runChild(`
lean.startLean();
const start = newSpaceMiB();
churn();
const lean1 = newSpaceMiB();
await workerStarted();
churn();
const afterWorker = newSpaceMiB();
console.log(JSON.stringify({ start, lean1, afterWorker }));`);
  const { start, lean1, afterWorker } = result as { start: number; lean1: number; afterWorker: number };
  expect(lean1).toBe(start);
  // V8 reset the growth factor configuring the worker's heap: the main thread's grew again.
  expect(afterWorker).toBeGreaterThan(start);
  const bound = runChild(`
lean.startLean();
const start = newSpaceMiB();
await workerStarted();
lean.keepYoungGenerationBound();
churn();
console.log(JSON.stringify({ start, after: newSpaceMiB() }));`) as { start: number; after: number };
  expect(bound.after).toBe(bound.start);
  const defaults = runChild(`
lean.startLean();
lean.endLean();
const start = newSpaceMiB();
churn();
console.log(JSON.stringify({ start, after: newSpaceMiB() }));`) as { start: number; after: number };
  expect(defaults.after).toBeGreaterThan(defaults.start);
});
