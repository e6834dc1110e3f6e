// A second JavaScript engine: the LM coder is bundled to one script and run inside QuickJS
// (compiled to WebAssembly, via quickjs-emscripten): a bytecode interpreter with its own number
// handling and its own Math library, and no WebAssembly, so the JavaScript kernels run. Codes
// coded here by V8 (WebAssembly SIMD kernels) must decode there exactly, and QuickJS must write
// the bytes V8 writes. QuickJS's own Math.exp / Math.cos are compared with V8's on the side, to
// show what the design avoids by not using them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { getQuickJS, type QuickJSContext, type QuickJSHandle } from "quickjs-emscripten";
import { describe, expect, test } from "vitest";
import { readSafetensors } from "../weights/safetensors.js";
import { markovCodes } from "./internal/random-lm.js";
import { encodeCodesWithLm } from "./lm-coding.js";
import { loadLmWeights } from "./lm-weights.js";

/** The LM coder as one IIFE script defining the global `LM`. */
function bundle(): string {
  const require = createRequire(import.meta.url);
  // esbuild comes with tsup (a workspace dev dependency); only buildSync is used.
  const esbuild = createRequire(require.resolve("tsup"))("esbuild") as {
    buildSync(options: Record<string, unknown>): { outputFiles: { text: string }[] };
  };
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const result = esbuild.buildSync({
    stdin: {
      contents: 'export { encodeCodesWithLm, decodeCodesWithLm } from "./lm-coding.ts"; export { loadLmWeights } from "./lm-weights.ts";',
      resolveDir: dir,
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    globalName: "LM",
    target: "es2020",
    write: false,
  });
  return result.outputFiles[0]!.text;
}

function evalOrThrow(vm: QuickJSContext, code: string): QuickJSHandle {
  const r = vm.evalCode(code);
  if (r.error) {
    const e = vm.dump(r.error);
    r.error.dispose();
    throw new Error(`QuickJS: ${JSON.stringify(e)}`);
  }
  return r.value;
}

describe("LM coding in QuickJS", () => {
  test("codes coded by V8 decode exactly in QuickJS, and QuickJS writes the same bytes", async () => {
    const QuickJS = await getQuickJS();
    const runtime = QuickJS.newRuntime();
    runtime.setMemoryLimit(512 * 1024 * 1024);
    const vm = runtime.newContext();
    try {
      evalOrThrow(vm, bundle()).dispose();
      // Weights: one buffer of float32 values plus names and shapes.
      const tensors = readSafetensors(new Uint8Array(readFileSync(fileURLToPath(new URL("../../test/fixtures/tiny24/lm.safetensors", import.meta.url)))));
      const lm = loadLmWeights(tensors);
      const total = [...tensors.values()].reduce((a, t) => a + t.data.length, 0);
      const flat = new Float32Array(total);
      const index: [string, number[], number][] = [];
      let at = 0;
      for (const [name, t] of tensors) {
        flat.set(t.data, at);
        index.push([name, [...t.dims], at]);
        at += t.data.length;
      }
      const K = 8;
      const F = 30;
      const codes = markovCodes(K, F, 1024, 4242);
      const coded = encodeCodesWithLm(codes, lm, K);

      const weightsHandle = vm.newArrayBuffer(flat.buffer);
      vm.setProp(vm.global, "weightsBuffer", weightsHandle);
      weightsHandle.dispose();
      const codedHandle = vm.newArrayBuffer(coded.slice().buffer);
      vm.setProp(vm.global, "codedBuffer", codedHandle);
      codedHandle.dispose();
      const codesHandle = vm.newArrayBuffer(codes.slice().buffer);
      vm.setProp(vm.global, "codesBuffer", codesHandle);
      codesHandle.dispose();
      evalOrThrow(
        vm,
        `const index = ${JSON.stringify(index)};
         const all = new Float32Array(weightsBuffer);
         const map = new Map(index.map(([name, dims, at]) => [name, { dims, data: all.subarray(at, at + dims.reduce((a, b) => a * b, 1)), sourceDtype: "F32" }]));
         const lm = LM.loadLmWeights(map);
         globalThis.decoded = LM.decodeCodesWithLm(new Uint8Array(codedBuffer), lm, ${K}, ${F}).buffer;
         globalThis.recoded = LM.encodeCodesWithLm(new Uint16Array(codesBuffer), lm, ${K}).buffer;
         globalThis.hasWasm = typeof WebAssembly;`,
      ).dispose();
      const read = (name: string): ArrayBuffer => {
        const h = vm.getProp(vm.global, name);
        const lifetime = vm.getArrayBuffer(h);
        const copy = lifetime.value.slice().buffer;
        lifetime.dispose();
        h.dispose();
        return copy;
      };
      const hasWasm = vm.getProp(vm.global, "hasWasm");
      expect(vm.dump(hasWasm)).toBe("undefined"); // JavaScript kernels ran
      hasWasm.dispose();
      expect(new Uint16Array(read("decoded"))).toEqual(codes);
      expect(new Uint8Array(read("recoded"))).toEqual(coded);

      // On the side: the engines' own Math.exp and Math.cos (which the LM never uses).
      const xs = Array.from({ length: 2000 }, (_, i) => -20 + i * 0.01234567);
      const theirsHandle = evalOrThrow(vm, `${JSON.stringify(xs)}.map((x) => [Math.exp(x), Math.cos(x * 1000)])`);
      const theirs = vm.dump(theirsHandle) as [number, number][];
      theirsHandle.dispose();
      const differing = xs.filter((x, i) => theirs[i]![0] !== Math.exp(x) || theirs[i]![1] !== Math.cos(x * 1000)).length;
      console.log(`QuickJS decoded ${K * F} codes exactly and wrote identical bytes; its Math.exp/Math.cos differ from V8's on ${differing} of ${xs.length} inputs`);
    } finally {
      vm.dispose();
      runtime.dispose();
    }
  }, 120_000);
});
