/**
 * Peak memory (max RSS) and speed of the built `encstream encode` / `decode` on a long 24 kHz WAV
 * with the full-size 24 kHz architecture (seeded random weights, 14.85 M parameters) and a
 * full-size random language model (dim 200, 5 layers), with and without LM coding, at 6 kbps.
 * Target (issue #14): every run below 400 MB, whatever the length.
 *
 * Each command runs in its own process under `/usr/bin/time -f "%M %e"` (peak RSS of the node
 * process, wall time). A 3 s warm-up run first fills the graph cache, so the measured runs read
 * their graphs from it, as a user's second run does.
 *
 * Run (in packages/codec): `npx tsx bench/offline-memory.ts` (60 s of audio), `--seconds N`, or
 * `--hour` (3600 s; many minutes on a busy machine). Needs `pnpm build` first (it runs the cli
 * package's `dist/bin.js`; the cli depends on this package, so the bench lives here and spawns it).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEncodecConfig } from "../src/config.js";
import { FULL_SIZE_LM, randomLmTensors } from "../src/lm/internal/random-lm.js";
import { randomWeights, writeSafetensors } from "./bench-support.js";

const TARGET_MB = 400;
const args = process.argv.slice(2);
const seconds = args.includes("--hour") ? 3600 : Number(args[args.indexOf("--seconds") + 1] ?? 60) || 60;
const keep = args.includes("--keep");
const bin = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));
const configPath = fileURLToPath(new URL("./configs/encodec_24khz.json", import.meta.url));
if (!existsSync(bin)) {
  console.log(`offline-memory: skipped, ${bin} is missing (run pnpm build first: this bench runs the built encstream command)`);
  process.exit(0);
}

/** Runs the built command under /usr/bin/time; resolves with peak RSS (MB) and wall time (s). */
function measure(argv: readonly string[]): Promise<{ rssMb: number; wallS: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "RESULT %M %e", process.execPath, bin, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    child.on("error", reject);
    child.on("close", (code) => {
      const m = /RESULT (\d+) ([\d.]+)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`encstream ${argv.join(" ")} failed (${code}):\n${stderr.slice(-2000)}`));
      resolve({ rssMb: Number(m[1]) / 1024, wallS: Number(m[2]), stderr });
    });
  });
}

/** A WAV of `seconds` of 24 kHz mono s16 (44-byte header), written one second at a time: tones and noise. */
async function writeInput(path: string, lengthS: number): Promise<void> {
  const rate = 24_000;
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (at: number, text: string) => [...text].forEach((c, i) => header.setUint8(at + i, c.charCodeAt(0)));
  const dataBytes = lengthS * rate * 2;
  ascii(0, "RIFF");
  header.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, rate, true);
  header.setUint32(28, rate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  ascii(36, "data");
  header.setUint32(40, dataBytes, true);
  const file = await open(path, "w");
  await file.write(new Uint8Array(header.buffer));
  let state = 1;
  let phase = 0;
  for (let s = 0; s < lengthS; s++) {
    const piece = new DataView(new ArrayBuffer(rate * 2));
    for (let i = 0; i < rate; i++) {
      state = (state * 48271) % 2147483647;
      phase += (2 * Math.PI * (180 + 120 * Math.sin((s + i / rate) / 5))) / rate;
      piece.setInt16(2 * i, Math.round((0.3 * Math.sin(phase) + (state / 2147483647 - 0.5) * 0.1) * 32767), true);
    }
    await file.write(new Uint8Array(piece.buffer));
  }
  await file.close();
}

const dir = await mkdtemp(join(tmpdir(), "encstream-offline-memory-"));
try {
  const modelDir = join(dir, "model");
  await mkdir(modelDir);
  const configJson = await readFile(configPath, "utf8");
  const config = parseEncodecConfig(JSON.parse(configJson));
  await writeFile(join(modelDir, "config.json"), configJson);
  await writeFile(join(modelDir, "model.safetensors"), writeSafetensors(randomWeights(config, 1)));
  await writeFile(join(modelDir, "lm.safetensors"), writeSafetensors(randomLmTensors(FULL_SIZE_LM, 2024)));
  const common = ["--model", modelDir, "--cache-dir", join(dir, "cache")];
  // Longer than one offline block (2 s), so the warm-up builds the streaming graphs that long inputs run on.
  const warm = join(dir, "warm.wav");
  await writeInput(warm, 3);
  const input = join(dir, "input.wav");
  await writeInput(input, seconds);
  console.log(`input: ${seconds} s of 24 kHz mono s16 (${((await stat(input)).size / 1e6).toFixed(0)} MB); full-size 24 kHz model and LM, random weights; 6 kbps`);
  await measure(["encode", warm, join(dir, "warm.ecdc"), "-b", "6", ...common]); // fills the graph cache
  await measure(["encode", "--lm", warm, join(dir, "warm-lm.ecdc"), "-b", "6", ...common]);
  await measure(["decode", join(dir, "warm.ecdc"), join(dir, "warm-out.wav"), ...common]);

  const rows: string[][] = [["run", "audio s", "wall s", "× real time", "peak RSS MB", `< ${TARGET_MB} MB`]];
  for (const lm of [false, true]) {
    const ecdc = join(dir, lm ? "lm.ecdc" : "plain.ecdc");
    const runs: Array<[string, string[]]> = [
      [`encode ${lm ? "--lm" : "--no-lm"}`, ["encode", ...(lm ? ["--lm"] : ["--no-lm"]), input, ecdc, "-b", "6", ...common]],
      [`decode ${lm ? "(LM-coded)" : "(plain)"}`, ["decode", ecdc, join(dir, "out.wav"), ...common]],
    ];
    for (const [name, argv] of runs) {
      const r = await measure(argv);
      rows.push([name, String(seconds), r.wallS.toFixed(1), (seconds / r.wallS).toFixed(1), r.rssMb.toFixed(0), r.rssMb < TARGET_MB ? "yes" : "NO"]);
      console.log(rows[rows.length - 1]!.join("\t"));
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`\n${rows.map((r) => r.map((v, c) => v.padStart(widths[c]!)).join("  ")).join("\n")}`);
} finally {
  if (!keep) await rm(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
