// Platform independence of LM coding, checked in a way that can fail: codes are LM-coded in this
// process and decoded in a separate Node process, and the reverse (the child encodes, this process
// decodes, and the child's bytes must equal ours). Three children:
//   1. same kernels (WebAssembly SIMD): 60 s at 6 kbps (24 kHz, 8 codebooks), decoded in the child;
//   2. the pure JavaScript twin of every kernel (ENCSTREAM_LM_NO_WASM=1): 4 s at 6 kbps and 1 s
//      at every other bandwidth of both models;
//   3. V8 with no native code generation at all (--jitless: the bytecode interpreter; no
//      WebAssembly either, so the JavaScript kernels): 0.5 s at 6 kbps.
// Any difference in the probability path (evaluation order, an engine-dependent Math function, a
// JIT contraction) desynchronizes the arithmetic decoder, which the test sees as mismatched
// codes, a CodecError, or different bytes. LM_CROSS_FULL=1 runs 60 s at every bandwidth of both
// models through child 2 (minutes).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { readSafetensors } from "../weights/safetensors.js";
import { markovCodes } from "./internal/random-lm.js";
import { decodeCodesWithLm, encodeCodesWithLm } from "./lm-coding.js";
import { loadLmWeights, type LmWeights } from "./lm-weights.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const full = process.env.LM_CROSS_FULL === "1";

interface Job {
  tiny: "tiny24" | "tiny48";
  bandwidthKbps: number;
  K: number;
  F: number;
  seed: number;
}

const FRAME_RATE = { tiny24: 75, tiny48: 150 } as const;
const KBPS = { tiny24: [1.5, 3, 6, 12, 24], tiny48: [3, 6, 12, 24] } as const;

function jobs(secondsAt6: number, secondsElsewhere: number): Job[] {
  const out: Job[] = [];
  for (const tiny of ["tiny24", "tiny48"] as const) {
    for (const bw of KBPS[tiny]) {
      const K = Math.round((bw * 1000) / (FRAME_RATE[tiny] * 10));
      const seconds = tiny === "tiny24" && bw === 6 ? secondsAt6 : secondsElsewhere;
      out.push({ tiny, bandwidthKbps: bw, K, F: seconds * FRAME_RATE[tiny], seed: 1000 + K + (tiny === "tiny48" ? 7 : 0) });
    }
  }
  return out;
}

const CHILD = `
import { readFileSync, writeFileSync } from "node:fs";
const [dir, codingUrl, weightsUrl, safetensorsUrl] = process.argv.slice(1);
const { encodeCodesWithLm, decodeCodesWithLm } = await import(codingUrl);
const { loadLmWeights } = await import(weightsUrl);
const { readSafetensors } = await import(safetensorsUrl);
const jobs = JSON.parse(readFileSync(dir + "/jobs.json", "utf8"));
const lms = {};
for (const j of jobs) {
  lms[j.tiny] ??= loadLmWeights(readSafetensors(new Uint8Array(readFileSync(j.lmPath))));
  const bytes = new Uint8Array(readFileSync(dir + "/" + j.name + ".lm"));
  const decoded = decodeCodesWithLm(bytes, lms[j.tiny], j.K, j.F);
  writeFileSync(dir + "/" + j.name + ".decoded", decoded);
  if (!j.reverse) continue;
  const raw = readFileSync(dir + "/" + j.name + ".codes");
  const codes = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  writeFileSync(dir + "/" + j.name + ".child.lm", encodeCodesWithLm(codes, lms[j.tiny], j.K));
}
`;

const dir = mkdtempSync(join(tmpdir(), "lm-cross-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(list: (Job & { name: string; lmPath: string })[], flags: string[], sub: string, jsKernels: boolean): void {
  const url = (p: string) => pathToFileURL(here(p)).href;
  writeFileSync(join(dir, sub, "jobs.json"), JSON.stringify(list));
  execFileSync(
    process.execPath,
    [...flags, "--import", "tsx", "--input-type=module", "-e", CHILD, join(dir, sub), url("./lm-coding.ts"), url("./lm-weights.ts"), url("../weights/safetensors.ts")],
    { env: { ...process.env, ENCSTREAM_LM_NO_WASM: jsKernels ? "1" : "0" }, stdio: ["ignore", "inherit", "inherit"], timeout: 900_000 },
  );
}

function check(list: (Job & { name: string; lmPath: string })[], flags: string[], sub: string, jsKernels = true, reverse = true): string[] {
  list = list.map((j) => ({ ...j, reverse }));
  mkdirSync(join(dir, sub));
  const lm: Record<string, LmWeights> = {};
  const parentBytes = new Map<string, Uint8Array>();
  const codesOf = new Map<string, Uint16Array>();
  for (const j of list) {
    lm[j.tiny] ??= loadLmWeights(readSafetensors(new Uint8Array(readFileSync(j.lmPath))));
    const codes = markovCodes(j.K, j.F, 1024, j.seed);
    const bytes = encodeCodesWithLm(codes, lm[j.tiny]!, j.K);
    writeFileSync(join(dir, sub, `${j.name}.codes`), codes);
    writeFileSync(join(dir, sub, `${j.name}.lm`), bytes);
    parentBytes.set(j.name, bytes);
    codesOf.set(j.name, codes);
  }
  runChild(list, flags, sub, jsKernels);
  const summary: string[] = [];
  for (const j of list) {
    const codes = codesOf.get(j.name)!;
    const raw = readFileSync(join(dir, sub, `${j.name}.decoded`));
    const decodedInChild = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    let mismatched = 0;
    for (let i = 0; i < codes.length; i++) if (decodedInChild[i] !== codes[i]) mismatched++;
    expect(mismatched, `${j.name}: codes decoded in the child`).toBe(0);
    if (!reverse) {
      summary.push(`${j.tiny} ${j.bandwidthKbps} kbps: ${j.F / FRAME_RATE[j.tiny]} s, ${codes.length} codes, ${parentBytes.get(j.name)!.length} bytes`);
      continue;
    }
    const childBytes = new Uint8Array(readFileSync(join(dir, sub, `${j.name}.child.lm`)));
    expect(childBytes, `${j.name}: bytes encoded in the child`).toEqual(parentBytes.get(j.name));
    expect(decodeCodesWithLm(childBytes, lm[j.tiny]!, j.K, j.F)).toEqual(codes);
    summary.push(`${j.tiny} ${j.bandwidthKbps} kbps: ${j.F / FRAME_RATE[j.tiny]} s, ${codes.length} codes, ${childBytes.length} bytes`);
  }
  return summary;
}

const named = (list: Job[]) => list.map((j) => ({ ...j, name: `${j.tiny}-${j.bandwidthKbps}`, lmPath: here(`../../test/fixtures/${j.tiny}/lm.safetensors`) }));

describe("LM coding across processes and kernel implementations", () => {
  test("60 s at 6 kbps coded here, decoded in a child process: zero mismatched codes", () => {
    const list = named(jobs(60, 0).filter((j) => j.F > 0));
    const summary = check(list, [], "same", false, false);
    expect(list[0]!.K * list[0]!.F).toBe(60 * 75 * 8);
    console.log(`cross-process LM coding (child: same kernels), 0 mismatches: ${summary.join("; ")}`);
  }, 300_000);

  test(`${full ? "60 s at every bandwidth" : "4 s at 6 kbps, 1 s at every other bandwidth"}, both models, child with the JavaScript kernels: zero mismatched codes, identical bytes`, () => {
    const list = named(full ? jobs(60, 60) : jobs(4, 1));
    const summary = check(list, [], "js");
    console.log(`cross-process LM coding (child: JavaScript kernels), 0 mismatches:\n  ${summary.join("\n  ")}`);
  }, 900_000);

  test("0.5 s at 6 kbps, child interpreted (--jitless, JavaScript kernels): identical", () => {
    const list = named([{ tiny: "tiny24", bandwidthKbps: 6, K: 8, F: 38, seed: 77 }]);
    const summary = check(list, ["--jitless"], "interpreted");
    console.log(`cross-process LM coding (child: --jitless), 0 mismatches: ${summary.join("; ")}`);
  }, 300_000);
});
