// Frame-exact streaming against the offline reference on long inputs (issue #14, item 10).
//
// For the 24 kHz models (tiny24, the golden tiny model; and the full-size encodec_24khz
// architecture with seeded random weights whose codebooks are sampled from its own encoder's
// residuals) and every bandwidth, the whole of ../shared/audio/test_24k.wav (20 s) is coded three
// ways on onnxruntime-node:
//   R  the reference computation: the offline graphs over the whole input in one call
//      (`encodeSegment`, as the Python reference encodes a 24 kHz file: one segment);
//   B  `model.encode` (what `encstream encode` writes: block by block through the stateful
//      graphs once the input is over 2 s);
//   S  the stream encoder fed one 320-sample frame per call (what `send --stream` does);
//   P  the stream encoder fed seeded random pieces of 1–3000 samples (multi-frame calls, as
//      test/streaming.test.ts feeds it, and as a live sender that fell behind catches up).
// Codes: % of codes equal, frames with any code different, the first such frame, the lowest
// codebook that ever differs, and the frames that differ (as ranges).
// Audio: S decoded by the stream decoder one frame per push, against `decodeSegment(R)` (the
// reference's output): max and mean absolute difference, the max where no code differs within 20
// frames before, and the decoder alone (the stream decoder on R's codes against the same).
// The 48 kHz model has no frame-exact streaming (it is not causal; its streams are chunks).
// Usage: npx tsx bench/stream-vs-offline.ts [--quick]   (--quick: tiny24 only)
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ortNode from "onnxruntime-node";
import { parseEncodecConfig, type EncodecConfig } from "../src/config.js";
import { mulberry32 } from "../src/internal/mulberry32.js";
import { nodeSessionOptions } from "../src/node/encodec-node.js";
import { EncodecModel } from "../src/runtime/encodec-model.js";
import { StreamingCodec } from "../src/streaming/streaming-codec.js";
import type { TensorMap } from "../src/weights/raw-tensor.js";
import { loadGoldenFixture } from "../test/support/fixtures.js";
import { readWav16 } from "../test/support/wav.js";
import { compareCodes, compareStreamToOffline, type CodesComparison } from "../test/support/stream-vs-offline.js";
import { makeSampledWeights } from "./bench-support.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const BANDWIDTHS = [1.5, 3, 6, 12, 24];

const wav = readWav16(path.join(here, "..", "test", "fixtures", "audio", "test_24k.wav"));
const audio = wav.channels[0]!;

function ranges(frames: readonly number[], max = 8): string {
  const out: string[] = [];
  for (let i = 0; i < frames.length; ) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[j]! + 1) j++;
    out.push(i === j ? `${frames[i]}` : `${frames[i]}–${frames[j]}`);
    i = j + 1;
  }
  return out.length <= max ? out.join(", ") || "–" : `${out.slice(0, max).join(", ")} … (${out.length} runs)`;
}

const pct = (c: CodesComparison) => `${((100 * c.equalCodes) / c.totalCodes).toFixed(3)} %`;
const e = (x: number) => (x === 0 ? "0" : x.toExponential(1));

async function run(name: string, config: EncodecConfig, tensors: TensorMap): Promise<void> {
  const sessionOptions = nodeSessionOptions({ intraOpNumThreads: 1, allowSpinning: false });
  const model = await EncodecModel.create({ config, tensors, runtime: ortNode, sessionOptions });
  const codec = await StreamingCodec.create({ config, tensors, runtime: ortNode, sessionOptions, preloadBandwidthsKbps: BANDWIDTHS });
  console.log(`\n## ${name}: ${(audio.length / 24_000).toFixed(1)} s of test_24k.wav, ${Math.ceil(audio.length / 320)} frames\n`);
  console.log(
    "| kbps | K | S = R codes | S: frames ≠ (first) | lowest codebook ≠ | S: frames that differ | S audio vs reference: max / mean | max > 20 frames after a flip | decoder alone: max / mean | P = R codes | P: frames ≠ | P audio: max / mean | B = R codes |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const bw of BANDWIDTHS) {
    const t0 = performance.now();
    const reference = await model.encodeSegment([audio], { bandwidthKbps: bw });
    const blocked = await model.encode([audio], { bandwidthKbps: bw });
    const r = await compareStreamToOffline(model, codec, audio, bw, reference);
    const random = mulberry32(7);
    const p = await compareStreamToOffline(model, codec, audio, bw, reference, () => 1 + Math.floor(random() * 3000));
    const b = compareCodes(blocked.frames[0]!.codes, reference.codes, reference.numCodebooks);
    const first = (c: CodesComparison) => `${c.framesDiffering.length}${c.framesDiffering.length > 0 ? ` (${c.framesDiffering[0]})` : ""}`;
    console.log(
      `| ${bw} | ${reference.numCodebooks} | ${pct(r.codes)} | ${first(r.codes)} | ${r.codes.lowestCodebook ?? "–"} | ${ranges(r.codes.framesDiffering)} | ${e(r.maxError)} / ${e(r.meanError)} | ${e(r.maxErrorAwayFromFlips)} | ${e(r.decoderMaxError)} / ${e(r.decoderMeanError)} | ${pct(p.codes)} | ${first(p.codes)}: ${ranges(p.codes.framesDiffering, 4)} | ${e(p.maxError)} / ${e(p.meanError)} | ${pct(b)} |`,
    );
    process.stderr.write(`${name} ${bw} kbps: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  await codec.release();
  await model.release();
}

const tiny = loadGoldenFixture("tiny24");
await run("tiny24 (golden tiny model)", tiny.config, tiny.tensors);
if (!quick) {
  const config = parseEncodecConfig(JSON.parse(readFileSync(path.join(here, "configs", "encodec_24khz.json"), "utf8")));
  await run("full-size encodec_24khz (seeded random weights, codebooks sampled from its residuals)", config, await makeSampledWeights(config, audio, 24));
}
