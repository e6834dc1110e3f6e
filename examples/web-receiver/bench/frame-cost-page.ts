// Bundled for the benchmark: the full-size 24 kHz stream decoder on onnxruntime-web in the page,
// timed frame by frame (one frame per call, as a receiver decodes).
import * as ort from "onnxruntime-web/wasm";
import { createStreamDecoder } from "@encstream/codec";
import { loadStreamingCodec } from "@encstream/codec/web";

(globalThis as Record<string, unknown>).measureFrames = async (frames: number, numCodebooks: number): Promise<{ medianMs: number; meanMs: number }> => {
  const codec = await loadStreamingCodec({ url: "model/" }, { runtime: ort, wasmPaths: "/ort/", numThreads: 1, graphCache: false });
  const decoder = createStreamDecoder(codec);
  const times: number[] = [];
  let seed = 1;
  for (let f = 0; f < frames + decoder.startupFrames + 5; f++) {
    const codes = Uint16Array.from({ length: numCodebooks }, () => (seed = (seed * 1103515245 + 12345) >>> 0) % 1024);
    const t0 = performance.now();
    await decoder.push({ codes, numCodebooks, numFrames: 1 });
    if (f >= decoder.startupFrames + 5) times.push(performance.now() - t0);
  }
  await codec.release();
  times.sort((a, b) => a - b);
  return { medianMs: times[times.length >> 1]!, meanMs: times.reduce((a, b) => a + b, 0) / times.length };
};
