import { decodeOnnxModel } from "../internal/onnx-reader.js";
import { encodeOnnxModel, littleEndianBytes, OnnxDataType, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from "./onnx-proto.js";

/*
 * One graph for both phases of a streaming side.
 *
 * A side's "first" graph (the offline start, reflection at t = 0) and its "step" graph (states in,
 * states out) hold the same weights. As two sessions they are two copies of the weights in
 * memory (two mappings of the graph cache's weights files, two sets of prepacked LSTM weights),
 * and two sessions to open. Here they become one graph: the step graph's nodes at the top level,
 * and an `If` on a boolean input ({@link PHASE_INPUT}) whose then branch is the first graph and
 * whose else branch passes the step's results through. The weights both use are initializers
 * of the outer graph; everything else keeps its own names under a prefix. The step nodes are
 * not inside a branch because ONNX Runtime runs a branch's nodes with a per-call cost that the
 * top level does not have (about a tenth of an int8 frame); on the first call they run too, on
 * one sample (encoder) or one frame (decoder) of the first call's inputs, and their results are
 * dropped. The first call still feeds the state inputs (zeros: the first branch does not read
 * them).
 */

/** The combined graph's `[]` bool input: true runs the first graph, false the step graph. */
export const PHASE_INPUT = "first_call";

/** ONNX `TensorProto.DataType` BOOL (not in {@link OnnxDataType}, which lists the builders' tensor types). */
const BOOL = 9 as OnnxDataType;

/** Node names and value names of the first branch, of the step graph and of the else branch's pass-through start with these. */
const PREFIX = { first: "first/", step: "step/", pass: "pass/", gate: "gate/" } as const;

function int64Tensor(name: string, values: readonly bigint[]): OnnxTensor {
  return { name, dataType: OnnxDataType.INT64, dims: [values.length], rawData: littleEndianBytes(BigInt64Array.from(values)) };
}

/**
 * The nodes that feed the step graph `gate/<name>` for each input `name`: the whole input on a
 * step call, its first element along the last axis on the first call
 * (`Slice(name, 0, first_call ? 1 : end, axis -1)`).
 */
function firstCallGate(names: readonly string[]): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const c = (n: string) => `${PREFIX.gate}${n}`;
  const initializers = [int64Tensor(c("zero"), [0n]), int64Tensor(c("one"), [1n]), int64Tensor(c("all"), [0x7fff_ffff_ffff_ffffn]), int64Tensor(c("last_axis"), [-1n])];
  const nodes: OnnxNode[] = [{ opType: "Where", inputs: [PHASE_INPUT, c("one"), c("all")], outputs: [c("end")], name: c("end") }];
  for (const n of names) nodes.push({ opType: "Slice", inputs: [n, c("zero"), c("end"), c("last_axis")], outputs: [c(n)], name: c(n) });
  return { nodes, initializers };
}

function sameTensor(a: OnnxTensor, b: OnnxTensor): boolean {
  if (a.dataType !== b.dataType || a.dims.length !== b.dims.length || a.rawData.length !== b.rawData.length) return false;
  if (a.dims.some((d, i) => d !== b.dims[i])) return false;
  const x = a.rawData;
  const y = b.rawData;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Rename every value and node of `g` (and of its subgraphs) with `rename`; drops the initializers
 * `drop` says are hoisted, and its inputs unless `keepInputs` (a loop body's, renamed).
 */
function renameGraph(g: OnnxGraph, rename: (name: string) => string, nodePrefix: string, drop: ReadonlySet<string>, name: string, keepInputs = false): OnnxGraph {
  const attr = (a: OnnxAttribute): OnnxAttribute => (a.kind === "graph" ? { ...a, value: renameGraph(a.value, rename, nodePrefix, new Set(), `${nodePrefix}${a.value.name}`, true) } : a);
  const nodes: OnnxNode[] = g.nodes.map((n) => ({
    ...n,
    inputs: n.inputs.map((i) => (i === "" ? "" : rename(i))),
    outputs: n.outputs.map((o) => (o === "" ? "" : rename(o))),
    ...(n.name !== undefined ? { name: `${nodePrefix}${n.name}` } : {}),
    attributes: (n.attributes ?? []).map(attr),
  }));
  return {
    name,
    nodes,
    initializers: g.initializers.filter((t) => !drop.has(t.name)).map((t) => ({ ...t, name: rename(t.name) })),
    inputs: keepInputs ? g.inputs.map((v) => ({ ...v, name: rename(v.name) })) : [],
    outputs: g.outputs.map((o) => ({ ...o, name: rename(o.name) })),
  };
}

/**
 * Combine a streaming side's "first" and "step" graphs (model bytes from
 * `buildStreamEncoderGraph` / `buildStreamDecoderGraph`) into one model: the inputs of the step
 * graph plus {@link PHASE_INPUT}, the outputs of both (same names, in the same order), and the
 * weights once. Results are those of the graph the flag selects, bit for bit. The step graph
 * runs on every call (on the first, on the first element of the last axis of each input), so the
 * first call's inputs must be valid step inputs too (zero states and one sample or frame are).
 *
 * @throws Error when the graphs do not pair: the first graph reads an input the step graph does
 *   not have, or their outputs differ in names or types
 */
export function combinePhaseGraphs(firstModel: Uint8Array, stepModel: Uint8Array, name: string): Uint8Array {
  const first = decodeOnnxModel(firstModel);
  const step = decodeOnnxModel(stepModel);
  const fg = first.graph;
  const sg = step.graph;
  const stepInputs = new Map(sg.inputs.map((v) => [v.name, v]));
  for (const v of fg.inputs) {
    const s = stepInputs.get(v.name);
    if (!s || s.elemType !== v.elemType) throw new Error(`combinePhaseGraphs: the first graph's input ${v.name} is not an input of the step graph`);
  }
  if (fg.outputs.length !== sg.outputs.length || fg.outputs.some((o, i) => o.name !== sg.outputs[i]!.name || o.elemType !== sg.outputs[i]!.elemType)) {
    throw new Error(`combinePhaseGraphs: outputs differ (first: ${fg.outputs.map((o) => o.name).join(", ")}; step: ${sg.outputs.map((o) => o.name).join(", ")})`);
  }
  if (stepInputs.has(PHASE_INPUT)) throw new Error(`combinePhaseGraphs: the step graph already has an input ${PHASE_INPUT}`);

  // Weights both graphs hold (same name, same contents) move to the outer graph, under their name.
  const firstInits = new Map(fg.initializers.map((t) => [t.name, t]));
  const shared: OnnxTensor[] = [];
  for (const t of sg.initializers) {
    const f = firstInits.get(t.name);
    if (f && sameTensor(f, t)) shared.push(t);
  }
  const sharedNames = new Set(shared.map((t) => t.name));
  const outer = new Set([...stepInputs.keys(), ...sharedNames]);
  const renamer = (prefix: string) => (n: string) => (outer.has(n) ? n : `${prefix}${n}`);
  const thenBranch = renameGraph(fg, renamer(PREFIX.first), PREFIX.first, sharedNames, "first");
  // The step graph runs at the top level, on every call (on the first, its results go unused):
  // ONNX Runtime runs a branch's nodes with a per-call cost the top level does not have (about
  // a tenth of an int8 step). The else branch passes the step's results through.
  // On the first call the step nodes see only the first element of the last (time) axis of
  // each input the first graph also reads (one sample, or one frame), so that their unused
  // results cost little (an offline block of 150 frames would otherwise be coded twice).
  const gated = new Set(fg.inputs.map((v) => v.name));
  const stepRenamer = renamer(PREFIX.step);
  const stepTop = renameGraph(sg, (n) => (gated.has(n) ? `${PREFIX.gate}${n}` : stepRenamer(n)), PREFIX.step, sharedNames, "step");
  const gate = firstCallGate([...gated]);
  const passNodes: OnnxNode[] = stepTop.outputs.map((o, i) => ({ opType: "Identity", inputs: [o.name], outputs: [`${PREFIX.pass}${sg.outputs[i]!.name}`], name: `${PREFIX.pass}${sg.outputs[i]!.name}` }));
  const elseBranch: OnnxGraph = {
    name: "step",
    nodes: passNodes,
    initializers: [],
    inputs: [],
    outputs: stepTop.outputs.map((o, i) => ({ ...o, name: passNodes[i]!.outputs[0]! })),
  };

  // Output shapes: a dimension both graphs give the same size keeps it, any other is symbolic.
  const outputs: OnnxValueInfo[] = sg.outputs.map((o, i) => {
    const f = fg.outputs[i]!;
    const shape = o.shape.length === f.shape.length ? o.shape.map((d, j) => (d === f.shape[j] ? d : `${o.name}_${j}`)) : o.shape.map((_, j) => `${o.name}_${j}`);
    return { name: o.name, elemType: o.elemType, shape };
  });

  const ifNode: OnnxNode = {
    opType: "If",
    inputs: [PHASE_INPUT],
    outputs: sg.outputs.map((o) => o.name),
    name: "phase",
    attributes: [
      { name: "then_branch", kind: "graph", value: thenBranch },
      { name: "else_branch", kind: "graph", value: elseBranch },
    ],
  };
  const opsets = new Map<string, number>();
  for (const o of [...first.opsetImports, ...step.opsetImports]) opsets.set(o.domain, Math.max(opsets.get(o.domain) ?? 0, o.version));
  return encodeOnnxModel({
    irVersion: Math.max(first.irVersion, step.irVersion),
    opsetImports: [...opsets].map(([domain, version]) => ({ domain, version })),
    producerName: step.producerName,
    producerVersion: step.producerVersion,
    metadata: { ...step.metadata, "encstream.graph": name },
    graph: {
      name,
      nodes: [...gate.nodes, ...stepTop.nodes, ifNode],
      initializers: [...shared, ...gate.initializers, ...stepTop.initializers],
      inputs: [...sg.inputs, { name: PHASE_INPUT, elemType: BOOL, shape: [] }],
      outputs,
    },
  });
}
