import { decodeOnnxModel } from "../internal/onnx-reader.js";
import { encodeOnnxModel, OnnxDataType, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from "./onnx-proto.js";

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
 * the first call's inputs, and their results are dropped. The first call still feeds the state
 * inputs (zeros: the first branch does not read them).
 */

/** The combined graph's `[]` bool input: true runs the first graph, false the step graph. */
export const PHASE_INPUT = "first_call";

/** ONNX `TensorProto.DataType` BOOL (not in {@link OnnxDataType}, which lists the builders' tensor types). */
const BOOL = 9 as OnnxDataType;

/** Node names and value names of the first branch, of the step graph and of the else branch's pass-through start with these. */
const PREFIX = { first: "first/", step: "step/", pass: "pass/" } as const;

function sameTensor(a: OnnxTensor, b: OnnxTensor): boolean {
  if (a.dataType !== b.dataType || a.dims.length !== b.dims.length || a.rawData.length !== b.rawData.length) return false;
  if (a.dims.some((d, i) => d !== b.dims[i])) return false;
  const x = a.rawData;
  const y = b.rawData;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Rename every value and node of `g` (and of its subgraphs) with `rename`; drops its inputs and the initializers `drop` says are hoisted. */
function renameGraph(g: OnnxGraph, rename: (name: string) => string, nodePrefix: string, drop: ReadonlySet<string>, name: string): OnnxGraph {
  const attr = (a: OnnxAttribute): OnnxAttribute => (a.kind === "graph" ? { ...a, value: renameGraph(a.value, rename, nodePrefix, new Set(), `${nodePrefix}${a.value.name}`) } : a);
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
    inputs: [],
    outputs: g.outputs.map((o) => ({ ...o, name: rename(o.name) })),
  };
}

/**
 * Combine a streaming side's "first" and "step" graphs (model bytes from
 * `buildStreamEncoderGraph` / `buildStreamDecoderGraph`) into one model: the inputs of the step
 * graph plus {@link PHASE_INPUT}, the outputs of both (same names, in the same order), and the
 * weights once. Results are those of the graph the flag selects, bit for bit. The step graph
 * runs on every call, so the first call's inputs must be valid step inputs too (zero states and
 * any number of frames are).
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
  const stepTop = renameGraph(sg, renamer(PREFIX.step), PREFIX.step, sharedNames, "step");
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
      nodes: [...stepTop.nodes, ifNode],
      initializers: [...shared, ...stepTop.initializers],
      inputs: [...sg.inputs, { name: PHASE_INPUT, elemType: BOOL, shape: [] }],
      outputs,
    },
  });
}
