import type { ConvLayer, ConvTransposeLayer, EncodecArchitecture, LstmLayer, ResnetLayer, SeanetLayer } from "../model/architecture.js";
import type { PreparedWeights } from "../model/prepare-weights.js";
import { hopLengthSamples } from "../config.js";
import { CodecError } from "../errors.js";
import { GraphBuilder, attr } from "./graph-builder.js";
import { OnnxDataType } from "./onnx-proto.js";
import { addRvqDecode, addRvqEncode } from "./quantizer-graph.js";
import { addInt4LstmStack } from "./int4-graph.js";
import { addInt8Lstm, checkPrecision, isQuantized, precisionSuffix, type CodecPrecision } from "./int8-graph.js";
import {
  addConv1d,
  addConvOp,
  addConvTranspose1d,
  addElu,
  addLstmInitializers,
  addPolyphaseConv,
  addTimeMajorConvOp,
  addTimeMajorPolyphaseConv,
  applySeanetLayers,
  onnxLstmWeights,
  weightInitializer,
  type SeanetContext,
} from "./seanet-graph.js";

/*
 * Stateful ("streaming") versions of the causal SEANet encoder and decoder.
 *
 * A causal SConv1d only looks back: its output at t reads its input at t − padding_total … t. The
 * offline path pads the input's start with `padding_total` reflected samples; the streaming
 * graphs instead keep the last `padding_total` input samples of every convolution as a state
 * tensor ("left context") and prepend it to the next call's input. A causal SConvTranspose1d
 * writes `kernel − stride` samples past the end of its input's span (offline trims them): with
 * kernel = m · stride it is computed as a polyphase convolution over its input, whose left
 * context is the last m − 1 input frames; otherwise the overflow is kept (without the bias) as a
 * "tail" and added to the next call's first output samples. LSTMs carry h and c. Nothing is
 * recomputed and nothing is crossfaded.
 *
 * Each side has two graphs:
 * - "first": the offline computation (reflect padding at t = 0, exactly as `addConv1d`), which
 *   also outputs every state. It is run once, on the first `startupFrames` frames or more (or on
 *   a whole stream shorter than that, where it is simply the offline graph).
 * - "step": state in, state out. Any number of whole frames per call; the encoder's step graph
 *   also accepts a last partial frame and then pads each strided convolution on the right by
 *   reflection as the offline path does at the end of the input (`get_extra_padding_for_conv1d`).
 */

/** Bumped whenever a streaming graph's inputs, outputs or results change (it is part of the cache names). */
export const STREAMING_GRAPH_VERSION = "6";

/** Which graph of a side: the first call (offline start) or every later call. */
export type StreamGraphPhase = "first" | "step";

/** Which half of the codec. */
export type StreamSide = "encoder" | "decoder";

/** Input and output names of the streaming graphs (besides the numbered states). */
export const STREAM_GRAPH_IO = {
  /** `[1, channels, samples]` float32 audio (encoder input, decoder output). */
  audio: "audio",
  /** `[1, codebooks, frames]` int64 codes (encoder output, decoder input). */
  codes: "codes",
  /** `[1, 1, frames]` float32 gain applied to each frame's embedding (decoder input; 0 = zero embedding). */
  gain: "frame_gain",
  /**
   * `[1, stateElements]` float32: every state of the side packed in one tensor ("step" input), in
   * {@link describeStreamStates} order, each flattened (see {@link streamStateElements}).
   */
  stateIn: "state_in",
  /** The new states, packed like {@link STREAM_GRAPH_IO.stateIn} (output of both graphs). */
  stateOut: "state_out",
} as const;

/**
 * Float32 elements of a side's packed state tensor: the sum of its states' sizes. One tensor in
 * and one out per call cost less than one per state (each is a separate tensor for ONNX Runtime
 * and the JS binding to create, check and copy; 15 a side in the 24 kHz model).
 */
export function streamStateElements(specs: readonly StreamStateSpec[]): number {
  return specs.reduce((sum, s) => sum + s.dims.reduce((a, b) => a * b, 1), 0);
}

/** What kind of memory a state tensor holds. */
export type StreamStateKind = "conv-context" | "convtr-tail" | "lstm-h" | "lstm-c";

/** One state tensor of a streaming graph. */
export interface StreamStateSpec {
  /** The layer it belongs to (Hugging Face module path). */
  readonly layer: string;
  readonly kind: StreamStateKind;
  /**
   * Shape: `[1, channels, samples]` for convolutions, `[1, 1, hidden]` for LSTM h/c. The int8
   * precision's graphs carry a convolution's context time-major, `[1, samples, channels]` (same
   * elements; the packed state's layout is the graphs' own business).
   */
  readonly dims: readonly number[];
}

function convPaddingTotal(layer: ConvLayer): number {
  return (layer.kernelSize - 1) * layer.dilation + 1 - layer.stride;
}

function checkStreamable(arch: EncodecArchitecture): void {
  const c = arch.config;
  if (!c.useCausalConv) {
    throw new CodecError("unsupported", "frame-exact streaming needs a causal model (use_causal_conv true, e.g. encodec_24khz); use chunked streaming for this one");
  }
  if (c.normType === "time_group_norm") throw new CodecError("unsupported", "frame-exact streaming cannot carry a time GroupNorm");
  if (c.trimRightRatio !== 1) {
    throw new CodecError("unsupported", `frame-exact streaming needs trim_right_ratio 1.0 (all transposed-convolution padding trimmed on the right), got ${c.trimRightRatio}`);
  }
  const check = (layer: SeanetLayer): void => {
    if (layer.kind === "resnet") {
      layer.convs.forEach(check);
      if (layer.shortcut) check(layer.shortcut);
    } else if (layer.kind === "conv" && layer.stride > 1 && convPaddingTotal(layer) < layer.stride - 1) {
      throw new CodecError("unsupported", `${layer.prefix}: a strided convolution with kernel < 2 × stride − 1 cannot be streamed`);
    } else if (layer.kind === "conv-transpose" && layer.kernelSize < layer.stride) {
      throw new CodecError("unsupported", `${layer.prefix}: a transposed convolution with kernel < stride cannot be streamed`);
    }
  };
  [...arch.encoder, ...arch.decoder].forEach(check);
}

/**
 * The state tensors of one side's streaming graphs, in the order of their graph inputs
 * packed in this order in the `state_in` input and `state_out` output ({@link STREAM_GRAPH_IO}).
 * Pure: derived from the architecture alone.
 *
 * @throws CodecError `unsupported` for a model that cannot be streamed frame by frame (non-causal, GroupNorm, trim_right_ratio ≠ 1)
 */
export function describeStreamStates(arch: EncodecArchitecture, side: StreamSide): StreamStateSpec[] {
  checkStreamable(arch);
  const out: StreamStateSpec[] = [];
  const conv = (layer: ConvLayer) => {
    const p = convPaddingTotal(layer);
    if (p > 0) out.push({ layer: layer.prefix, kind: "conv-context", dims: [1, layer.inChannels, p] });
  };
  for (const layer of side === "encoder" ? arch.encoder : arch.decoder) {
    switch (layer.kind) {
      case "conv":
        conv(layer);
        break;
      case "resnet":
        layer.convs.forEach(conv);
        if (layer.shortcut) conv(layer.shortcut);
        break;
      case "lstm":
        for (let l = 0; l < layer.numLayers; l++) {
          out.push({ layer: `${layer.prefix}.lstm.l${l}`, kind: "lstm-h", dims: [1, 1, layer.dim] });
          out.push({ layer: `${layer.prefix}.lstm.l${l}`, kind: "lstm-c", dims: [1, 1, layer.dim] });
        }
        break;
      case "conv-transpose":
        if (layer.kernelSize % layer.stride === 0) {
          if (layer.kernelSize > layer.stride) out.push({ layer: layer.prefix, kind: "conv-context", dims: [1, layer.inChannels, layer.kernelSize / layer.stride - 1] });
        } else if (layer.kernelSize > layer.stride) {
          out.push({ layer: layer.prefix, kind: "convtr-tail", dims: [1, layer.outChannels, layer.kernelSize - layer.stride] });
        }
        break;
      case "elu":
        break;
    }
  }
  return out;
}

/**
 * Frames the "first" graph needs so that every convolution's input is longer than its left
 * padding (the reflection at t = 0 then reads real samples, as offline): the largest
 * `floor(padding_total · samplesPerFrame⁻¹) + 1` over the side's convolutions, where
 * samplesPerFrame is the layer input's samples per latent frame. 7 for the published 24 kHz
 * model (the kernel-7 convolutions at the frame rate).
 */
export function streamStartupFrames(arch: EncodecArchitecture, side: StreamSide): number {
  const hop = hopLengthSamples(arch.config);
  let rate = side === "encoder" ? hop : 1; // input samples per frame at the current layer
  let frames = 1;
  const conv = (layer: ConvLayer) => {
    frames = Math.max(frames, Math.floor(convPaddingTotal(layer) / rate) + 1);
  };
  for (const layer of side === "encoder" ? arch.encoder : arch.decoder) {
    if (layer.kind === "conv") {
      conv(layer);
      rate /= layer.stride;
    } else if (layer.kind === "resnet") {
      layer.convs.forEach(conv);
      if (layer.shortcut) conv(layer.shortcut);
    } else if (layer.kind === "conv-transpose") {
      rate *= layer.stride;
    }
  }
  return frames;
}

/**
 * Builds one streaming graph: walks the layers, registering states in {@link describeStreamStates}
 * order. In the step graph the packed state input is split (one Split node) into the states; the
 * new states are flattened and concatenated (one Concat) into the packed output.
 */
class StreamWalk {
  private next = 0;
  private readonly outputs: string[] = [];
  private parts: string[] | null = null;

  /**
   * Whether the convolutions' left contexts are stored time-major, `[1, samples, channels]` (the
   * quantized precisions, whose step graphs are time-major throughout; see
   * {@link streamSeanetTimeMajor}).
   */
  readonly timeMajorContexts: boolean;

  constructor(
    readonly ctx: SeanetContext,
    readonly phase: StreamGraphPhase,
    private readonly specs: readonly StreamStateSpec[],
  ) {
    this.timeMajorContexts = isQuantized(ctx.precision);
  }

  private take(layer: string, kind: StreamStateKind, dims: readonly number[]): { index: number; spec: StreamStateSpec } {
    const index = this.next++;
    const spec = this.specs[index];
    if (!spec || spec.layer !== layer || spec.kind !== kind || spec.dims.join() !== dims.join()) {
      throw new Error(`streaming graph builder: state ${index} is ${layer} ${kind} [${dims.join(", ")}], described as ${spec ? `${spec.layer} ${spec.kind} [${spec.dims.join(", ")}]` : "nothing"}`);
    }
    return { index, spec };
  }

  /** The step graph's packed state input split into one flat part per state (declared on first use, after the side's other inputs). */
  private stateParts(): string[] {
    if (this.parts) return this.parts;
    const g = this.ctx.g;
    const packed = g.input(STREAM_GRAPH_IO.stateIn, OnnxDataType.FLOAT, [1, streamStateElements(this.specs)]);
    const sizes = this.specs.map((s) => s.dims.reduce((a, b) => a * b, 1));
    this.parts = sizes.length <= 1 ? [packed] : g.opN("Split", [packed, g.int64(sizes)], sizes.length, { axis: attr.int(1) }, "state_part");
    return this.parts;
  }

  /**
   * Declare a state: returns its value from the packed input (step phase) or null (first phase),
   * and a function that gives its new value. `stored` is the shape the state is read and written
   * in when it differs from its described `dims` (same elements: a time-major context).
   */
  state(layer: string, kind: StreamStateKind, dims: readonly number[], stored: readonly number[] = dims): { input: string | null; output: (value: string) => void } {
    const { index } = this.take(layer, kind, dims);
    const g = this.ctx.g;
    const input = this.phase === "step" ? g.op("Reshape", [this.stateParts()[index]!, g.int64(stored)], {}, `state_${index}`) : null;
    return { input, output: (value) => (this.outputs[index] = value) };
  }

  /** A left context `[1, channels, samples]` of the first (channel-major) graph as it is stored (time-major with {@link timeMajorContexts}). */
  storedContext(context: string, hint: string): string {
    return this.timeMajorContexts ? this.ctx.g.op("Transpose", [context], { perm: attr.ints([0, 2, 1]) }, `${hint}.tc`) : context;
  }

  /** Check every described state was built and wire the packed state output. */
  finish(): void {
    if (this.next !== this.specs.length) throw new Error(`streaming graph builder: ${this.next} states built, ${this.specs.length} described`);
    const g = this.ctx.g;
    const flat = this.specs.map((_, i) => {
      const v = this.outputs[i];
      if (v === undefined) throw new Error(`streaming graph builder: state ${i} has no output`);
      return g.op("Reshape", [v, g.int64([1, -1])], {}, `state_out_${i}`);
    });
    const packed =
      flat.length === 0 ? g.initializer("no_state", new Float32Array(0), [1, 0]) : flat.length === 1 ? flat[0]! : g.op("Concat", flat, { axis: attr.int(1) }, "state_packed");
    // In the first graph a context may be shorter than padding_total (a whole stream shorter than the startup), so the length is symbolic there.
    g.output(packed, STREAM_GRAPH_IO.stateOut, OnnxDataType.FLOAT, [1, this.phase === "step" ? streamStateElements(this.specs) : "state_elements"]);
  }
}

const lastSamples = (g: GraphBuilder, x: string, n: number, hint: string) =>
  g.op("Slice", [x, g.int64([-n]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([2])], {}, hint);

function timeLength(g: GraphBuilder, x: string): string {
  return g.op("Shape", [x], { start: attr.int(2), end: attr.int(3) }, "len");
}

/** Causal SConv1d with a carried left context. */
function streamConv(w: StreamWalk, x: string, layer: ConvLayer): string {
  const { g } = w.ctx;
  const p = convPaddingTotal(layer);
  const s = p > 0 ? w.state(layer.prefix, "conv-context", [1, layer.inChannels, p]) : null;
  if (w.phase === "first") {
    s?.output(w.storedContext(lastSamples(g, x, p, `${layer.prefix}.ctx_out`), `${layer.prefix}.ctx_out`));
    return addConv1d(w.ctx, x, layer); // the offline padding: reflection at t = 0 (and at the end, for a whole short stream)
  }
  let xin = x;
  if (s) {
    xin = g.op("Concat", [s.input!, x], { axis: attr.int(2) }, `${layer.prefix}.with_ctx`);
    s.output(lastSamples(g, xin, p, `${layer.prefix}.ctx_out`));
  }
  if (layer.stride > 1) {
    // Offline pads the input's end by reflection up to a multiple of the stride; zero except on a last partial frame.
    const st = g.int64([layer.stride]);
    const extra = g.op("Mod", [g.op("Sub", [st, g.op("Mod", [timeLength(g, x), st], { fmod: attr.int(0) })]), st], { fmod: attr.int(0) }, `${layer.prefix}.extra`);
    const pads = g.op("Concat", [g.int64([0, 0, 0, 0, 0]), extra], { axis: attr.int(0) }, `${layer.prefix}.pads`);
    xin = g.op("Pad", [xin, pads], { mode: attr.str(w.ctx.config.padMode === "replicate" ? "edge" : w.ctx.config.padMode) }, `${layer.prefix}.end_pad`);
  }
  return addConvOp(w.ctx, xin, layer);
}

/**
 * Causal SConvTranspose1d (trim_right_ratio 1: all padding trimmed on the right). With k = m·s
 * (always in EnCodec) it is a polyphase convolution: a kernel-m Conv over the input producing
 * C_out·s channels, interleaved; its state is then the last m − 1 input frames, like any causal
 * convolution's left context. Otherwise a ConvTranspose whose overlap tail (k − s output
 * samples, without the bias) is carried and added to the next call's first samples.
 */
function streamConvTranspose(w: StreamWalk, x: string, layer: ConvTransposeLayer): string {
  const { g } = w.ctx;
  const { kernelSize: k, stride: s, inChannels: cin, outChannels: cout, prefix } = layer;
  if (k % s === 0) {
    const m = k / s;
    const st = m > 1 ? w.state(prefix, "conv-context", [1, cin, m - 1]) : null;
    if (w.phase === "first") {
      st?.output(w.storedContext(lastSamples(g, x, m - 1, `${prefix}.ctx_out`), `${prefix}.ctx_out`));
      return addConvTranspose1d(w.ctx, x, layer); // the offline computation (zero input before t = 0)
    }
    let xin = x;
    if (st) {
      xin = g.op("Concat", [st.input!, x], { axis: attr.int(2) }, `${prefix}.with_ctx`);
      st.output(lastSamples(g, xin, m - 1, `${prefix}.ctx_out`));
    }
    return addPolyphaseConv(w.ctx, xin, layer, [0, 0]);
  }
  const t = k - s;
  const st = t > 0 ? w.state(prefix, "convtr-tail", [1, cout, t]) : null;
  let y = g.op(
    "ConvTranspose",
    [x, weightInitializer(w.ctx, `${prefix}.conv.weight`)],
    { kernel_shape: attr.ints([k]), strides: attr.ints([s]), pads: attr.ints([0, 0]), group: attr.int(1) },
    `${prefix}.convtr_full`,
  ); // [1, C, L·stride + t], no bias
  if (st) {
    if (st.input) {
      const rest = g.op("Sub", [timeLength(g, y), g.int64([t])], {}, `${prefix}.rest`);
      const pads = g.op("Concat", [g.int64([0, 0, 0, 0, 0]), rest], { axis: attr.int(0) }, `${prefix}.tail_pads`);
      y = g.op("Add", [y, g.op("Pad", [st.input, pads], { mode: attr.str("constant") }, `${prefix}.tail_in`)], {}, `${prefix}.with_tail`);
    }
    st.output(lastSamples(g, y, t, `${prefix}.tail_out`));
    y = g.op("Slice", [y, g.int64([0]), g.int64([-t]), g.int64([2])], {}, `${prefix}.head`);
  }
  return g.op("Add", [y, weightInitializer(w.ctx, `${prefix}.conv.bias`, [cout, 1])], {}, `${prefix}.convtr`);
}

/** The stacked LSTM layers of an SLSTM with carried h and c, on `seq` `[T, 1, C]`; returns the last layer's output `[T, 1, C]`. */
function streamLstmLayers(w: StreamWalk, seq: string, layer: LstmLayer): string {
  const { g } = w.ctx;
  if (w.ctx.precision === "int4") {
    // One Scan for all layers (int4-graph.ts); h and c are read and written [1, H] (the body's layout).
    const states = Array.from({ length: layer.numLayers }, (_, l) => {
      const name = `${layer.prefix}.lstm.l${l}`;
      return [w.state(name, "lstm-h", [1, 1, layer.dim], [1, layer.dim]), w.state(name, "lstm-c", [1, 1, layer.dim], [1, layer.dim])] as const;
    });
    const initial = w.phase === "step" ? states.map(([sh, sc]) => [sh.input!, sc.input!] as const) : null;
    const weights = Array.from({ length: layer.numLayers }, (_, l) => onnxLstmWeights(w.ctx.weights, layer.prefix, l, layer.dim));
    const { y, finals } = addInt4LstmStack(g, seq, weights, layer.dim, initial, `${layer.prefix}.lstm`);
    states.forEach(([sh, sc], l) => {
      sh.output(finals[l]![0]);
      sc.output(finals[l]![1]);
    });
    return y;
  }
  let h = seq;
  for (let l = 0; l < layer.numLayers; l++) {
    const name = `${layer.prefix}.lstm.l${l}`;
    const sh = w.state(name, "lstm-h", [1, 1, layer.dim]);
    const sc = w.state(name, "lstm-c", [1, 1, layer.dim]);
    let y: string | undefined, yh: string | undefined, yc: string | undefined;
    if (w.ctx.precision === "int8") {
      const initial = sh.input && sc.input ? ([sh.input, sc.input] as const) : null;
      [y, yh, yc] = addInt8Lstm(g, h, onnxLstmWeights(w.ctx.weights, layer.prefix, l, layer.dim), layer.dim, initial, `${layer.prefix}.lstm${l}`);
    } else {
      const { W, R, B } = addLstmInitializers(w.ctx, layer, l);
      const inputs = sh.input && sc.input ? [h, W, R, B, "", sh.input, sc.input] : [h, W, R, B];
      [y, yh, yc] = g.opN("LSTM", inputs, 3, { hidden_size: attr.int(layer.dim), direction: attr.str("forward") }, `${layer.prefix}.lstm${l}`);
    }
    sh.output(yh!);
    sc.output(yc!);
    h = g.op("Squeeze", [y!, g.int64([1])], {}, `${layer.prefix}.lstm${l}.y`);
  }
  return h;
}

/** SLSTM with carried h and c: `[1, C, T]` → `[1, C, T]`. */
function streamLstm(w: StreamWalk, x: string, layer: LstmLayer): string {
  const { g } = w.ctx;
  const seq = g.op("Transpose", [x], { perm: attr.ints([2, 0, 1]) }, `${layer.prefix}.tbc`);
  const sum = g.op("Add", [streamLstmLayers(w, seq, layer), seq], {}, `${layer.prefix}.skip`);
  return g.op("Transpose", [sum], { perm: attr.ints([1, 2, 0]) }, `${layer.prefix}.out`);
}

function streamResnet(w: StreamWalk, x: string, layer: ResnetLayer): string {
  let h = x;
  for (const conv of layer.convs) h = streamConv(w, addElu(w.ctx, h), conv);
  const skip = layer.shortcut ? streamConv(w, x, layer.shortcut) : x;
  return w.ctx.g.op("Add", [skip, h], {}, `${layer.prefix}.out`);
}

function streamSeanet(w: StreamWalk, x: string, layers: readonly SeanetLayer[]): string {
  return applySeanetLayers(x, layers, {
    conv: (h, layer) => streamConv(w, h, layer),
    "conv-transpose": (h, layer) => streamConvTranspose(w, h, layer),
    resnet: (h, layer) => streamResnet(w, h, layer),
    lstm: (h, layer) => streamLstm(w, h, layer),
    elu: (h, layer) => addElu(w.ctx, h, `${layer.prefix}.elu`),
  });
}

/*
 * The quantized precisions' (int8, int4) step graphs are time-major: every value between the
 * input and the output is `[1, T, C]`. A convolution's unfolding then feeds its matrix product
 * directly (no transpose on either side of each, as the channel-major graphs need), a left
 * context is a prefix along the time axis (stored `[1, p, C]`, see
 * StreamWalk.timeMajorContexts), a strided convolution's frames are a reshape, a polyphase
 * transposed convolution's phases are already interleaved, the LSTM reads and writes its own
 * layout by reshapes, and the elementwise ELU broadcasts its constants over rows of C values
 * rather than over one value per channel.
 */

const lastSteps = (g: GraphBuilder, x: string, n: number, hint: string) =>
  g.op("Slice", [x, g.int64([-n]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])], {}, hint);

const swapLastAxes = (g: GraphBuilder, x: string, hint: string) => g.op("Transpose", [x], { perm: attr.ints([0, 2, 1]) }, hint);

/** Causal SConv1d with a carried left context, time-major: `[1, T, Cin]` → `[1, T / stride, Cout]` (step phase). */
function streamConvTimeMajor(w: StreamWalk, x: string, layer: ConvLayer): string {
  const { g } = w.ctx;
  const p = convPaddingTotal(layer);
  let xin = x;
  if (p > 0) {
    const s = w.state(layer.prefix, "conv-context", [1, layer.inChannels, p], [1, p, layer.inChannels]);
    xin = g.op("Concat", [s.input!, x], { axis: attr.int(1) }, `${layer.prefix}.with_ctx`);
    s.output(lastSteps(g, xin, p, `${layer.prefix}.ctx_out`));
  }
  if (layer.stride > 1) {
    // As streamConv: the end of a last partial frame padded like offline (zero samples otherwise).
    const st = g.int64([layer.stride]);
    const len = g.op("Shape", [x], { start: attr.int(1), end: attr.int(2) }, "steps");
    const extra = g.op("Mod", [g.op("Sub", [st, g.op("Mod", [len, st], { fmod: attr.int(0) })]), st], { fmod: attr.int(0) }, `${layer.prefix}.extra`);
    const pads = g.op("Concat", [g.int64([0, 0, 0, 0]), extra, g.int64([0])], { axis: attr.int(0) }, `${layer.prefix}.pads`);
    xin = g.op("Pad", [xin, pads], { mode: attr.str(w.ctx.config.padMode === "replicate" ? "edge" : w.ctx.config.padMode) }, `${layer.prefix}.end_pad`);
  }
  return addTimeMajorConvOp(w.ctx, xin, layer);
}

/** Causal SConvTranspose1d, time-major (step phase): polyphase with a left context of m − 1 frames when k = m·s; otherwise streamConvTranspose between transposes. */
function streamConvTransposeTimeMajor(w: StreamWalk, x: string, layer: ConvTransposeLayer): string {
  const { g } = w.ctx;
  const { kernelSize: k, stride: s, inChannels: cin, prefix } = layer;
  if (k % s !== 0) return swapLastAxes(g, streamConvTranspose(w, swapLastAxes(g, x, `${prefix}.ct`), layer), `${prefix}.tc`);
  const m = k / s;
  let xin = x;
  if (m > 1) {
    const st = w.state(prefix, "conv-context", [1, cin, m - 1], [1, m - 1, cin]);
    xin = g.op("Concat", [st.input!, x], { axis: attr.int(1) }, `${prefix}.with_ctx`);
    st.output(lastSteps(g, xin, m - 1, `${prefix}.ctx_out`));
  }
  return addTimeMajorPolyphaseConv(w.ctx, xin, layer);
}

/** SLSTM with carried h and c, time-major: `[1, T, C]` is `[T, 1, C]` for the LSTM, by reshapes. */
function streamLstmTimeMajor(w: StreamWalk, x: string, layer: LstmLayer): string {
  const { g } = w.ctx;
  const seq = g.op("Reshape", [x, g.int64([-1, 1, layer.dim])], {}, `${layer.prefix}.tbc`);
  const sum = g.op("Add", [streamLstmLayers(w, seq, layer), seq], {}, `${layer.prefix}.skip`);
  return g.op("Reshape", [sum, g.int64([1, -1, layer.dim])], {}, `${layer.prefix}.out`);
}

/** A whole SEANet side in the time-major layout (the quantized precisions' step graphs). */
function streamSeanetTimeMajor(w: StreamWalk, x: string, layers: readonly SeanetLayer[]): string {
  return applySeanetLayers(x, layers, {
    conv: (h, layer) => streamConvTimeMajor(w, h, layer),
    "conv-transpose": (h, layer) => streamConvTransposeTimeMajor(w, h, layer),
    resnet: (h, layer) => {
      let r = h;
      for (const conv of layer.convs) r = streamConvTimeMajor(w, addElu(w.ctx, r), conv);
      const skip = layer.shortcut ? streamConvTimeMajor(w, h, layer.shortcut) : h;
      return w.ctx.g.op("Add", [skip, r], {}, `${layer.prefix}.out`);
    },
    lstm: (h, layer) => streamLstmTimeMajor(w, h, layer),
    elu: (h, layer) => addElu(w.ctx, h, `${layer.prefix}.elu`),
  });
}

/** Whether a side's graph of `phase` is time-major (the quantized precisions' step graphs). */
const timeMajorGraph = (w: StreamWalk) => w.timeMajorContexts && w.phase === "step";

function finish(g: GraphBuilder, kind: string): Uint8Array {
  return g.toModelBytes({ producerVersion: `streaming-${STREAMING_GRAPH_VERSION}`, docString: `EnCodec ${kind}`, metadata: { "encstream.graph": kind } });
}

/**
 * Streaming encoder + residual vector quantizer in one graph: audio `[1, C, samples]` (a
 * multiple of the hop, or a last partial frame; the "first" graph takes any length) and, for
 * "step", the states → codes `[1, numQuantizers, frames]` int64 and the new states. `precision`
 * `"int8"` or `"int4"` builds an approximate quantized graph (int8-graph.ts, int4-graph.ts); the
 * states are the same.
 *
 * @throws CodecError `unsupported` for a model that cannot be streamed; RangeError for `numQuantizers` out of range
 */
export function buildStreamEncoderGraph(prepared: PreparedWeights, numQuantizers: number, phase: StreamGraphPhase, precision: CodecPrecision = "float32"): Uint8Array {
  const arch = prepared.architecture;
  if (!Number.isInteger(numQuantizers) || numQuantizers < 1 || numQuantizers > arch.numQuantizers) {
    throw new RangeError(`numQuantizers must be an integer in [1, ${arch.numQuantizers}], got ${numQuantizers}`);
  }
  const specs = describeStreamStates(arch, "encoder");
  const g = new GraphBuilder(`encodec_stream_encoder_${phase}_${numQuantizers}`);
  const w = new StreamWalk({ g, config: arch.config, weights: prepared.tensors, precision: checkPrecision(precision) }, phase, specs);
  const x = g.input(STREAM_GRAPH_IO.audio, OnnxDataType.FLOAT, [1, arch.config.audioChannels, "samples"]);
  const timeMajor = timeMajorGraph(w);
  const emb = timeMajor ? streamSeanetTimeMajor(w, swapLastAxes(g, x, "audio_tc"), arch.encoder) : streamSeanet(w, x, arch.encoder);
  w.finish();
  const codes = addRvqEncode(g, emb, prepared.tensors, numQuantizers, timeMajor, timeMajor && isQuantized(precision));
  g.output(codes, STREAM_GRAPH_IO.codes, OnnxDataType.INT64, [1, numQuantizers, "frames"]);
  return finish(g, `stream-encoder-${phase}-${numQuantizers}${precisionSuffix(precision)}`);
}

/**
 * Streaming RVQ decode + decoder in one graph: codes `[1, K, frames]` int64 (any K up to the
 * model's), a per-frame embedding gain `[1, 1, frames]` and, for "step", the states → audio
 * `[1, C, frames · hop]` and the new states. `precision` `"int8"` or `"int4"` builds an
 * approximate quantized graph (int8-graph.ts, int4-graph.ts); the states are the same.
 *
 * @throws CodecError `unsupported` for a model that cannot be streamed
 */
export function buildStreamDecoderGraph(prepared: PreparedWeights, phase: StreamGraphPhase, precision: CodecPrecision = "float32"): Uint8Array {
  const arch = prepared.architecture;
  const specs = describeStreamStates(arch, "decoder");
  const g = new GraphBuilder(`encodec_stream_decoder_${phase}`);
  const w = new StreamWalk({ g, config: arch.config, weights: prepared.tensors, precision: checkPrecision(precision) }, phase, specs);
  const codes = g.input(STREAM_GRAPH_IO.codes, OnnxDataType.INT64, [1, "codebooks", "frames"]);
  const gain = g.input(STREAM_GRAPH_IO.gain, OnnxDataType.FLOAT, [1, 1, "frames"]);
  let y: string;
  if (timeMajorGraph(w)) {
    const gainTc = g.op("Reshape", [gain, g.int64([1, -1, 1])], {}, "frame_gain_tc");
    const emb = g.op("Mul", [addRvqDecode(g, codes, prepared.tensors, arch.numQuantizers, true), gainTc], {}, "gained_embeddings");
    y = swapLastAxes(g, streamSeanetTimeMajor(w, emb, arch.decoder), "audio_ct");
  } else {
    const emb = g.op("Mul", [addRvqDecode(g, codes, prepared.tensors, arch.numQuantizers), gain], {}, "gained_embeddings");
    y = streamSeanet(w, emb, arch.decoder);
  }
  w.finish();
  g.output(y, STREAM_GRAPH_IO.audio, OnnxDataType.FLOAT, [1, arch.config.audioChannels, "samples"]);
  return finish(g, `stream-decoder-${phase}${precisionSuffix(precision)}`);
}
