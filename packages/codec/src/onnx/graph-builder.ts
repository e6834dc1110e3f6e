import {
  encodeOnnxModel,
  littleEndianBytes,
  OnnxDataType,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from "./onnx-proto.js";

/** ONNX opset the builders target (default domain). */
export const ONNX_OPSET = 17;
/** ONNX IR version written into the models (IR 8 goes with opset 17). */
export const ONNX_IR_VERSION = 8;
/** ONNX Runtime's contrib operator domain (opset 1), used only by the int8 precision's graphs. */
export const MS_DOMAIN = "com.microsoft";

/** An attribute value without its name. */
export type AttrValue = OnnxAttribute extends infer A ? (A extends { name: string } ? Omit<A, "name"> : never) : never;

/** Helpers to spell attribute values: `{ alpha: attr.float(1), axes: attr.ints([2]) }`. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: "int", value }),
  float: (value: number): AttrValue => ({ kind: "float", value }),
  str: (value: string): AttrValue => ({ kind: "string", value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: "ints", value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: "floats", value }),
  graph: (value: OnnxGraph): AttrValue => ({ kind: "graph", value }),
};

/**
 * Accumulates nodes, initializers, inputs and outputs of one ONNX graph with unique value names.
 * Values are referred to by name (the string each method returns).
 */
export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly used: Set<string>;
  private readonly constCache: Map<string, string>;
  private readonly root: GraphBuilder;
  /** Whether a node of the `com.microsoft` domain was added (to this graph or a subgraph). */
  private usesMsDomain = false;

  /**
   * @param name graph name
   * @param parent for a subgraph (the branch of an `If`): names stay unique across the model and
   *   constants are added to the outermost graph, where every subgraph can see them
   */
  constructor(
    readonly name: string,
    parent?: GraphBuilder,
  ) {
    this.root = parent ? parent.root : this;
    this.used = parent ? parent.root.used : new Set();
    this.constCache = parent ? parent.root.constCache : new Map();
  }

  /** A builder for a subgraph of this graph (see the constructor). */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this);
  }

  /** A fresh value name from a readable hint. */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, "_") || "v";
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Declare a graph input; returns its name (exactly `name`). */
  input(name: string, elemType: OnnxDataType, shape: readonly (number | string)[]): string {
    if (this.root !== this) throw new Error(`graph ${this.name}: a subgraph has no inputs of its own`);
    if (this.used.has(name)) throw new Error(`graph ${this.name}: duplicate value name ${name}`);
    this.used.add(name);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /**
   * Declare an input of a loop body (the `body` subgraph of a `Scan`); returns a fresh name from
   * `hint`. A top-level graph declares its inputs with {@link input}; an `If` branch has none.
   */
  bodyInput(hint: string, elemType: OnnxDataType, shape: readonly (number | string)[]): string {
    if (this.root === this) throw new Error(`graph ${this.name}: bodyInput is for a loop body (a subgraph); use input`);
    const name = this.fresh(hint);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Expose `value` as a graph output called `name` (through an Identity node when the names differ). */
  output(value: string, name: string, elemType: OnnxDataType, shape: readonly (number | string | null)[]): void {
    if (value !== name) {
      if (this.used.has(name)) throw new Error(`graph ${this.name}: duplicate value name ${name}`);
      this.used.add(name);
      this.nodes.push({ opType: "Identity", inputs: [value], outputs: [name], name: `out_${name}` });
    }
    this.outputs.push({ name, elemType, shape });
  }

  /** Add a constant tensor (initializer). The array is referenced, not copied, until the model is encoded. */
  initializer(hint: string, data: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array, dims: readonly number[]): string {
    if (this.root !== this) return this.root.initializer(hint, data, dims);
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`initializer ${hint}: ${data.length} values for dims [${dims.join(", ")}]`);
    const name = this.fresh(hint);
    const dataType =
      data instanceof Float32Array
        ? OnnxDataType.FLOAT
        : data instanceof BigInt64Array
          ? OnnxDataType.INT64
          : data instanceof Int8Array
            ? OnnxDataType.INT8
            : data instanceof Uint8Array
              ? OnnxDataType.UINT8
              : OnnxDataType.INT32;
    this.initializers.push({ name, dataType, dims: [...dims], rawData: littleEndianBytes(data) });
    return name;
  }

  /** An int64 constant (1-D unless `dims` is given), shared between uses. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join("x")}:${values.join(",")}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer("const_i64", BigInt64Array.from(values.map((v) => BigInt(v))), dims);
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A float32 constant (scalar by default), shared between uses. */
  float32(values: readonly number[], dims: readonly number[] = []): string {
    const key = `f32:${dims.join("x")}:${values.join(",")}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer("const_f32", Float32Array.from(values), dims);
      this.constCache.set(key, name);
    }
    return name;
  }

  /** Add a node with one output; returns the output's name. Use `""` for an omitted optional input. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, hint = opType): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0]!;
  }

  /**
   * Add a node with `outputs` outputs; returns their names. `opType` may name an operator of
   * ONNX Runtime's contrib domain as `com.microsoft:OpName` (the model then imports that domain).
   */
  opN(opType: string, inputs: readonly string[], outputs: number, attrs: Readonly<Record<string, AttrValue>> = {}, hint = opType): string[] {
    const outs = Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? hint : `${hint}_out${i}`));
    const attributes = Object.entries(attrs).map(([name, v]) => ({ name, ...v }) as OnnxAttribute);
    const colon = opType.indexOf(":");
    if (colon < 0) {
      this.nodes.push({ opType, inputs, outputs: outs, name: `${outs[0]}_node`, attributes });
    } else {
      const domain = opType.slice(0, colon);
      if (domain !== MS_DOMAIN) throw new Error(`graph ${this.name}: unknown operator domain ${domain}`);
      this.root.usesMsDomain = true;
      this.nodes.push({ opType: opType.slice(colon + 1), domain, inputs, outputs: outs, name: `${outs[0]}_node`, attributes });
    }
    return outs;
  }

  /** The graph as plain data. */
  toGraph(docString?: string): OnnxGraph {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
      ...(docString === undefined ? {} : { docString }),
    };
  }

  /** Serialize the graph as an ONNX model (IR {@link ONNX_IR_VERSION}, opset {@link ONNX_OPSET}). */
  toModelBytes(options: { producerVersion: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    return encodeOnnxModel({
      irVersion: ONNX_IR_VERSION,
      opsetImports: [{ domain: "", version: ONNX_OPSET }, ...(this.usesMsDomain ? [{ domain: MS_DOMAIN, version: 1 }] : [])],
      producerName: "@encstream/codec",
      producerVersion: options.producerVersion,
      graph: this.toGraph(options.docString),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    });
  }

  /** Number of nodes so far (for tests and diagnostics). */
  get nodeCount(): number {
    return this.nodes.length;
  }
}
