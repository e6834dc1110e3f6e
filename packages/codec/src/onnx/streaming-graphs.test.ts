import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { loadGoldenFixture } from "../../test/support/fixtures.js";
import { parseEncodecConfig } from "../config.js";
import { isCodecError } from "../errors.js";
import { describeArchitecture } from "../model/architecture.js";
import { prepareWeights } from "../model/prepare-weights.js";
import {
  buildStreamDecoderGraph,
  buildStreamEncoderGraph,
  describeStreamStates,
  STREAM_GRAPH_IO,
  streamStateElements,
  streamStartupFrames,
} from "./streaming-graphs.js";

const published24 = parseEncodecConfig(JSON.parse(readFileSync(new URL("../../bench/configs/encodec_24khz.json", import.meta.url), "utf8")));

describe("describeStreamStates / streamStartupFrames", () => {
  test("encodec_24khz: one context per convolution with padding, h and c per LSTM layer, one tail per transposed convolution", () => {
    const arch = describeArchitecture(published24);
    const enc = describeStreamStates(arch, "encoder");
    const dec = describeStreamStates(arch, "decoder");
    // encoder: first conv, 4 × (residual k3 conv + downsampling conv), last conv = 10 contexts; 2 LSTM layers × (h, c)
    expect(enc.filter((s) => s.kind === "conv-context")).toHaveLength(10);
    expect(enc.filter((s) => s.kind.startsWith("lstm"))).toHaveLength(4);
    expect(enc[0]).toEqual({ layer: "encoder.layers.0", kind: "conv-context", dims: [1, 1, 6] });
    expect(enc.find((s) => s.layer === "encoder.layers.12")).toEqual({ layer: "encoder.layers.12", kind: "conv-context", dims: [1, 256, 8] }); // k16 s8
    expect(enc.at(-1)).toEqual({ layer: "encoder.layers.15", kind: "conv-context", dims: [1, 512, 6] });
    // decoder: first conv, 4 residual k3 convs, last conv = 6 contexts; each transposed conv (k = 2 × stride, polyphase) keeps its last input frame
    expect(dec.filter((s) => s.kind === "conv-context")).toHaveLength(10);
    expect(dec.filter((s) => s.kind === "convtr-tail")).toHaveLength(0);
    expect(dec.filter((s) => /^decoder\.layers\.(3|6|9|12)$/.test(s.layer)).map((s) => s.dims)).toEqual([
      [1, 512, 1],
      [1, 256, 1],
      [1, 128, 1],
      [1, 64, 1],
    ]);
    expect(streamStartupFrames(arch, "encoder")).toBe(7);
    expect(streamStartupFrames(arch, "decoder")).toBe(7);
  });

  test("a non-causal model (48 kHz) is refused with CodecError unsupported", () => {
    const arch = describeArchitecture(loadGoldenFixture("tiny48").config);
    let error: unknown;
    try {
      describeStreamStates(arch, "decoder");
    } catch (e) {
      error = e;
    }
    expect(isCodecError(error) && error.code).toBe("unsupported");
  });

  test("a transposed convolution whose kernel is not a multiple of its stride carries an output tail", () => {
    const arch = describeArchitecture(published24);
    const odd = { ...arch, decoder: arch.decoder.map((l) => (l.kind === "conv-transpose" ? { ...l, kernelSize: l.kernelSize + 1 } : l)) };
    expect(describeStreamStates(odd, "decoder").filter((s) => s.kind === "convtr-tail").map((s) => s.dims)).toEqual([
      [1, 256, 9],
      [1, 128, 6],
      [1, 64, 5],
      [1, 32, 3],
    ]);
  });

  test("a trim_right_ratio other than 1 is refused", () => {
    const arch = describeArchitecture(parseEncodecConfig({ trim_right_ratio: 0.5 }));
    expect(() => describeStreamStates(arch, "decoder")).toThrow(/trim_right_ratio/);
  });
});

describe("built graphs (tiny24)", () => {
  const f = loadGoldenFixture("tiny24");
  const prepared = prepareWeights(f.config, f.tensors);

  test.each([
    ["encoder", "first"],
    ["encoder", "step"],
    ["decoder", "first"],
    ["decoder", "step"],
  ] as const)("%s %s graph: inputs and outputs, the states packed in one tensor each way", async (side, phase) => {
    const bytes = side === "encoder" ? buildStreamEncoderGraph(prepared, 8, phase) : buildStreamDecoderGraph(prepared, phase);
    const session = await ort.InferenceSession.create(bytes);
    const states = describeStreamStates(prepared.architecture, side);
    const main = side === "encoder" ? [STREAM_GRAPH_IO.audio] : [STREAM_GRAPH_IO.codes, STREAM_GRAPH_IO.gain];
    const out = side === "encoder" ? STREAM_GRAPH_IO.codes : STREAM_GRAPH_IO.audio;
    expect(session.inputNames).toEqual(phase === "step" ? [...main, STREAM_GRAPH_IO.stateIn] : main);
    expect([...session.outputNames].sort()).toEqual([out, STREAM_GRAPH_IO.stateOut].sort());
    const elements = streamStateElements(states);
    expect(elements).toBe(states.reduce((n, s) => n + s.dims.reduce((a, b) => a * b, 1), 0));
    const state = session.inputMetadata.find((m) => m.name === STREAM_GRAPH_IO.stateIn);
    if (phase === "step") expect(state?.isTensor && state.shape).toEqual([1, elements]);
    // Run it on 7 frames (the startup) and check the packed state's size.
    const frames = 7;
    const feeds: Record<string, ort.Tensor> =
      side === "encoder"
        ? { [STREAM_GRAPH_IO.audio]: new ort.Tensor("float32", new Float32Array(frames * 320).map((_, i) => Math.sin(i / 7)), [1, 1, frames * 320]) }
        : { [STREAM_GRAPH_IO.codes]: new ort.Tensor("int64", new BigInt64Array(8 * frames).fill(3n), [1, 8, frames]), [STREAM_GRAPH_IO.gain]: new ort.Tensor("float32", new Float32Array(frames).fill(1), [1, 1, frames]) };
    if (phase === "step") feeds[STREAM_GRAPH_IO.stateIn] = new ort.Tensor("float32", new Float32Array(elements), [1, elements]);
    const result = await session.run(feeds);
    expect(result[STREAM_GRAPH_IO.stateOut]!.dims).toEqual([1, elements]);
    await session.release();
  });

  test("numQuantizers out of range is a RangeError", () => {
    expect(() => buildStreamEncoderGraph(prepared, 0, "step")).toThrow(RangeError);
    expect(() => buildStreamEncoderGraph(prepared, 33, "step")).toThrow(RangeError);
  });
});
