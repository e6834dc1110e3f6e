import { numQuantizers, type EncodecConfig } from "../config.js";

/** A SEANet `Conv1d` with EnCodec's own padding (see `onnx/seanet-graph.ts`). `prefix` is its Hugging Face module path. */
export interface ConvLayer {
  readonly kind: "conv";
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly dilation: number;
}

/** A SEANet `ConvTranspose1d` (decoder upsampling, kernel = 2 × stride). Weight layout `[in, out, k]`. */
export interface ConvTransposeLayer {
  readonly kind: "conv-transpose";
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
}

/** Residual block: `shortcut(x) + conv(elu(conv(elu(x))))`, the shortcut a 1×1 conv or the identity. */
export interface ResnetLayer {
  readonly kind: "resnet";
  readonly prefix: string;
  readonly dim: number;
  /** The block's convolutions, each preceded by an ELU (`block.1`, `block.3`). */
  readonly convs: readonly ConvLayer[];
  /** The 1×1 shortcut convolution, or null for the identity. */
  readonly shortcut: ConvLayer | null;
}

/** Stacked unidirectional LSTM with a skip connection: `y = lstm(x) + x`, hidden size = input size. */
export interface LstmLayer {
  readonly kind: "lstm";
  readonly prefix: string;
  readonly dim: number;
  readonly numLayers: number;
}

/** ELU with α = 1 (no weights). */
export interface EluLayer {
  readonly kind: "elu";
  readonly prefix: string;
}

/** One entry of a SEANet encoder or decoder, in execution order. */
export type SeanetLayer = ConvLayer | ConvTransposeLayer | ResnetLayer | LstmLayer | EluLayer;

/** Why a tensor is expected: a parameter inference needs, or a training buffer that is allowed and ignored. */
export type TensorRole = "parameter" | "ignored-buffer";

/** One tensor a weights file must (or may) hold, with its Hugging Face name and shape. */
export interface ExpectedTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly role: TensorRole;
}

/** Everything the graph builders and the weight checker need, derived from a config alone. */
export interface EncodecArchitecture {
  readonly config: EncodecConfig;
  readonly encoder: readonly SeanetLayer[];
  readonly decoder: readonly SeanetLayer[];
  /** Quantizer layers in the model. */
  readonly numQuantizers: number;
  /** Every tensor of a Hugging Face `model.safetensors`, in model order. */
  readonly tensors: readonly ExpectedTensor[];
}

function conv(prefix: string, inChannels: number, outChannels: number, kernelSize: number, stride = 1, dilation = 1): ConvLayer {
  return { kind: "conv", prefix, inChannels, outChannels, kernelSize, stride, dilation };
}

function resnet(prefix: string, dim: number, config: EncodecConfig, j: number): ResnetLayer {
  const hidden = Math.floor(dim / config.compress);
  const kernels = [config.residualKernelSize, 1];
  const dilations = [config.dilationGrowthRate ** j, 1];
  const convs = kernels.map((k, i) => {
    const inCh = i === 0 ? dim : hidden;
    const outCh = i === kernels.length - 1 ? dim : hidden;
    return conv(`${prefix}.block.${2 * i + 1}`, inCh, outCh, k, 1, dilations[i]);
  });
  return { kind: "resnet", prefix, dim, convs, shortcut: config.useConvShortcut ? conv(`${prefix}.shortcut`, dim, dim, 1) : null };
}

/** The SEANet encoder's layers (`encoder.layers.N`), as Hugging Face and the reference order them. */
function encoderLayers(c: EncodecConfig): SeanetLayer[] {
  const layers: SeanetLayer[] = [];
  const name = () => `encoder.layers.${layers.length}`;
  let mult = 1;
  layers.push(conv(name(), c.audioChannels, c.numFilters, c.kernelSize));
  for (const ratio of [...c.upsamplingRatios].reverse()) {
    for (let j = 0; j < c.numResidualLayers; j++) layers.push(resnet(name(), mult * c.numFilters, c, j));
    layers.push({ kind: "elu", prefix: name() });
    layers.push(conv(name(), mult * c.numFilters, mult * c.numFilters * 2, ratio * 2, ratio));
    mult *= 2;
  }
  if (c.numLstmLayers > 0) layers.push({ kind: "lstm", prefix: name(), dim: mult * c.numFilters, numLayers: c.numLstmLayers });
  layers.push({ kind: "elu", prefix: name() });
  layers.push(conv(name(), mult * c.numFilters, c.hiddenSize, c.lastKernelSize));
  return layers;
}

/** The SEANet decoder's layers (`decoder.layers.N`). */
function decoderLayers(c: EncodecConfig): SeanetLayer[] {
  const layers: SeanetLayer[] = [];
  const name = () => `decoder.layers.${layers.length}`;
  let mult = 2 ** c.upsamplingRatios.length;
  layers.push(conv(name(), c.hiddenSize, mult * c.numFilters, c.kernelSize));
  if (c.numLstmLayers > 0) layers.push({ kind: "lstm", prefix: name(), dim: mult * c.numFilters, numLayers: c.numLstmLayers });
  for (const ratio of c.upsamplingRatios) {
    layers.push({ kind: "elu", prefix: name() });
    layers.push({
      kind: "conv-transpose",
      prefix: name(),
      inChannels: mult * c.numFilters,
      outChannels: (mult * c.numFilters) / 2,
      kernelSize: ratio * 2,
      stride: ratio,
    });
    for (let j = 0; j < c.numResidualLayers; j++) layers.push(resnet(name(), (mult * c.numFilters) / 2, c, j));
    mult /= 2;
  }
  layers.push({ kind: "elu", prefix: name() });
  layers.push(conv(name(), c.numFilters, c.audioChannels, c.lastKernelSize));
  return layers;
}

function convTensors(c: EncodecConfig, prefix: string, weightDims: readonly number[], outChannels: number, out: ExpectedTensor[]): void {
  const p = (name: string, dims: readonly number[]) => out.push({ name: `${prefix}.${name}`, dims, role: "parameter" });
  if (c.normType === "weight_norm") {
    p("conv.weight_g", [weightDims[0]!, 1, 1]);
    p("conv.weight_v", weightDims);
    p("conv.bias", [outChannels]);
  } else {
    p("conv.weight", weightDims);
    p("conv.bias", [outChannels]);
    p("norm.weight", [outChannels]);
    p("norm.bias", [outChannels]);
  }
}

function layerTensors(c: EncodecConfig, layer: SeanetLayer, out: ExpectedTensor[]): void {
  switch (layer.kind) {
    case "conv":
      convTensors(c, layer.prefix, [layer.outChannels, layer.inChannels, layer.kernelSize], layer.outChannels, out);
      break;
    case "conv-transpose":
      convTensors(c, layer.prefix, [layer.inChannels, layer.outChannels, layer.kernelSize], layer.outChannels, out);
      break;
    case "resnet":
      for (const cv of layer.convs) layerTensors(c, cv, out);
      if (layer.shortcut) layerTensors(c, layer.shortcut, out);
      break;
    case "lstm":
      for (let l = 0; l < layer.numLayers; l++) {
        const h4 = 4 * layer.dim;
        out.push({ name: `${layer.prefix}.lstm.weight_ih_l${l}`, dims: [h4, layer.dim], role: "parameter" });
        out.push({ name: `${layer.prefix}.lstm.weight_hh_l${l}`, dims: [h4, layer.dim], role: "parameter" });
        out.push({ name: `${layer.prefix}.lstm.bias_ih_l${l}`, dims: [h4], role: "parameter" });
        out.push({ name: `${layer.prefix}.lstm.bias_hh_l${l}`, dims: [h4], role: "parameter" });
      }
      break;
    case "elu":
      break;
  }
}

/**
 * Derive the full architecture (layers of the encoder and decoder, quantizer size, every expected
 * tensor with its Hugging Face name and shape) from a config. Pure and cheap; no weights needed.
 */
export function describeArchitecture(config: EncodecConfig): EncodecArchitecture {
  const encoder = encoderLayers(config);
  const decoder = decoderLayers(config);
  const tensors: ExpectedTensor[] = [];
  for (const l of encoder) layerTensors(config, l, tensors);
  const nq = numQuantizers(config);
  const n = config.codebookSize;
  const d = config.codebookDim;
  for (let i = 0; i < nq; i++) {
    const p = `quantizer.layers.${i}.codebook`;
    tensors.push({ name: `${p}.inited`, dims: [1], role: "ignored-buffer" });
    tensors.push({ name: `${p}.cluster_size`, dims: [n], role: "ignored-buffer" });
    tensors.push({ name: `${p}.embed`, dims: [n, d], role: "parameter" });
    tensors.push({ name: `${p}.embed_avg`, dims: [n, d], role: "ignored-buffer" });
  }
  for (const l of decoder) layerTensors(config, l, tensors);
  return { config, encoder, decoder, numQuantizers: nq, tensors };
}
