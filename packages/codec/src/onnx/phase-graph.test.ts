// combinePhaseGraphs: one model that gives a streaming side's first or step graph's results, bit for bit,
// with the weights stored once (tiny 24 kHz golden model, onnxruntime-node).
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { loadGoldenFixture } from "../../test/support/fixtures.js";
import { decodeOnnxModel } from "../internal/onnx-reader.js";
import { prepareWeights } from "../model/prepare-weights.js";
import { combinePhaseGraphs, PHASE_INPUT } from "./phase-graph.js";
import { buildStreamDecoderGraph, buildStreamEncoderGraph } from "./streaming-graphs.js";

const f = loadGoldenFixture("tiny24");
const prepared = prepareWeights(f.config, f.tensors);
const flag = (v: boolean) => new ort.Tensor("bool", new Uint8Array([v ? 1 : 0]), []);
const stateOutputs = (r: ort.InferenceSession.ReturnType) => Object.keys(r).filter((k) => k !== "audio" && k !== "codes");
const asInputs = (r: ort.InferenceSession.ReturnType) => Object.fromEntries(stateOutputs(r).map((k) => [k.replace("out", "in"), r[k]!]));

function expectSameResults(a: ort.InferenceSession.ReturnType, b: ort.InferenceSession.ReturnType): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    expect(b[k]!.dims, k).toEqual(a[k]!.dims);
    expect(b[k]!.data, k).toEqual(a[k]!.data);
  }
}

describe("combinePhaseGraphs", () => {
  test.each(["decoder", "encoder"] as const)("%s: the first and step branches give the separate graphs' outputs bit for bit; the weights are stored once", async (side) => {
    const build = (phase: "first" | "step") => (side === "encoder" ? buildStreamEncoderGraph(prepared, 4, phase) : buildStreamDecoderGraph(prepared, phase));
    const [firstBytes, stepBytes] = [build("first"), build("step")];
    const both = combinePhaseGraphs(firstBytes, stepBytes, `test-${side}`);
    // one copy of the weights: the combined model is about one graph's size, not two
    expect(both.length).toBeLessThan(stepBytes.length * 1.2);
    const model = decodeOnnxModel(both);
    // the step graph's nodes at the top level, then the If (first graph, or the step's results passed through)
    const ops = model.graph.nodes.map((n) => n.opType);
    expect(ops.at(-1)).toBe("If");
    // and before them the first call's gate: one Where, one Slice per input the first graph reads
    const gated = side === "encoder" ? 1 : 2;
    expect(ops.slice(0, 1 + gated)).toEqual(["Where", ...Array<string>(gated).fill("Slice")]);
    expect(ops.length).toBe(decodeOnnxModel(stepBytes).graph.nodes.length + 2 + gated);
    expect(model.graph.inputs.map((i) => i.name)).toContain(PHASE_INPUT);
    expect(model.metadata?.["encstream.graph"]).toBe(`test-${side}`);

    const [first, step, combined] = await Promise.all([firstBytes, stepBytes, both].map((b) => ort.InferenceSession.create(b)));
    const frames = 9;
    const input: Record<string, ort.Tensor> =
      side === "encoder"
        ? { audio: new ort.Tensor("float32", f.input[0]!.slice(0, 320 * frames), [1, 1, 320 * frames]) }
        : {
            codes: new ort.Tensor("int64", BigInt64Array.from({ length: 4 * frames }, (_, i) => BigInt((i * 37) % 64)), [1, 4, frames]),
            frame_gain: new ort.Tensor("float32", new Float32Array(frames).fill(1), [1, 1, frames]),
          };
    const a = await first!.run(input);
    const zeros = Object.fromEntries(Object.entries(asInputs(a)).map(([k, t]) => [k, new ort.Tensor("float32", new Float32Array(t.size), t.dims)]));
    const b = await combined!.run({ ...input, ...zeros, [PHASE_INPUT]: flag(true) });
    expectSameResults(a, b);
    // a step call from the first call's states
    const next: Record<string, ort.Tensor> =
      side === "encoder" ? { audio: new ort.Tensor("float32", f.input[0]!.slice(320 * frames, 320 * (frames + 2)), [1, 1, 640]) } : { codes: new ort.Tensor("int64", new BigInt64Array(8).fill(5n), [1, 4, 2]), frame_gain: new ort.Tensor("float32", new Float32Array(2).fill(1), [1, 1, 2]) };
    const c = await step!.run({ ...next, ...asInputs(a) });
    const d = await combined!.run({ ...next, ...asInputs(a), [PHASE_INPUT]: flag(false) });
    expectSameResults(c, d);
    await Promise.all([first, step, combined].map((s) => s!.release()));
  });

  test("graphs that do not pair are refused", () => {
    const decoderFirst = buildStreamDecoderGraph(prepared, "first");
    const encoderStep = buildStreamEncoderGraph(prepared, 4, "step");
    expect(() => combinePhaseGraphs(decoderFirst, encoderStep, "x")).toThrow(/input codes is not an input of the step graph/);
    const decoderStep = buildStreamDecoderGraph(prepared, "step");
    expect(() => combinePhaseGraphs(decoderFirst, combinePhaseGraphs(decoderFirst, decoderStep, "y"), "x")).toThrow(/already has an input first_call/);
  });
});
