import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

// A child process (V8's flags are process-wide) with natives syntax: it pauses the optimizing
// compiler, asks V8 to optimize a function, resumes it, asks again, and prints what V8 did each
// time (%GetOptimizationStatus: bit 16 = optimized).
const MODULE = fileURLToPath(new URL("./optimizing-compiler.ts", import.meta.url));
const CHILD = `
const { pauseOptimizingCompiler, resumeOptimizingCompiler, optimizingCompilerPaused } = await import(${JSON.stringify(MODULE)});
const optimizedAfterAsking = () => {
  const f = new Function("n", "let s = 0; for (let i = 0; i < n; i++) s += i * 2; return s;");
  %PrepareFunctionForOptimization(f);
  f(10); f(10);
  %OptimizeFunctionOnNextCall(f);
  f(10);
  return (%GetOptimizationStatus(f) & 16) !== 0;
};
const before = optimizedAfterAsking();
pauseOptimizingCompiler();
const paused = [optimizingCompilerPaused(), optimizedAfterAsking()];
resumeOptimizingCompiler();
const resumed = [optimizingCompilerPaused(), optimizedAfterAsking()];
console.log(JSON.stringify({ before, paused, resumed }));
`;

test("pauseOptimizingCompiler stops V8 from optimizing, resumeOptimizingCompiler turns it back on", () => {
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", CHILD], { encoding: "utf8", timeout: 20_000 });
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout)).toEqual({ before: true, paused: [true, false], resumed: [false, true] });
});
