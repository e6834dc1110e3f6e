#!/usr/bin/env python3
"""Build the official EnCodec implementation's ONNX export and time PyTorch, for bench/reference.ts.

Uses a user-provided checkout of facebookresearch/encodec (not part of this repository) and a
Hugging Face style config (bench/configs/encodec_24khz.json): the model is built with the
reference's own constructor (`EncodecModel._get_model`) and seeded random weights (PyTorch's
default initialization, codebooks filled with standard normal entries so codes vary), then
exported with `torch.onnx.export` the way a user would: `encode` (encoder + residual quantizer,
audio -> codes) and `decode` (codes -> audio), opset 17, traced at the input length each is run at.

Commands:
  reference-export.py export --encodec-src DIR --config FILE --out DIR --bandwidth 6
  reference-export.py time-torch --encodec-src DIR --config FILE --bandwidth 6 --threads N
      --audio FILE.f32 --rounds R   (prints JSON: offline and frame medians in ms)

`einops` is replaced by a small shim covering the patterns the inference path uses, and
`torchaudio` (imported by encodec.utils, unused here) by an empty module.
"""
import argparse
import json
import math
import sys
import time
import types


def install_shims():
    import torch

    def rearrange(x, pattern, **_):
        patterns = {
            "... d -> (...) d": lambda t: t.reshape(-1, t.shape[-1]),
            "b d n -> b n d": lambda t: t.transpose(1, 2),
            "b n d -> b d n": lambda t: t.transpose(1, 2),
            "b ... t -> b t ...": lambda t: t.movedim(-1, 1),
            "b t ... -> b ... t": lambda t: t.movedim(1, -1),
        }
        if pattern not in patterns:
            raise NotImplementedError(f"einops shim: {pattern}")
        return patterns[pattern](x)

    def repeat(x, pattern, **kw):
        if pattern == "n -> n d":
            return x.unsqueeze(-1).expand(-1, kw["d"])
        raise NotImplementedError(f"einops shim: {pattern}")

    einops = types.ModuleType("einops")
    einops.rearrange = rearrange
    einops.repeat = repeat
    sys.modules["einops"] = einops
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    return torch


def build_model(args):
    torch = install_shims()
    sys.path.insert(0, args.encodec_src)
    from encodec.model import EncodecModel  # noqa: E402

    with open(args.config) as f:
        cfg = json.load(f)
    torch.manual_seed(24)
    model = EncodecModel._get_model(
        [float(b) for b in cfg["target_bandwidths"]],
        sample_rate=cfg["sampling_rate"],
        channels=cfg["audio_channels"],
        causal=cfg["use_causal_conv"],
        model_norm=cfg["norm_type"],
        audio_normalize=cfg["normalize"],
        segment=cfg.get("chunk_length_s"),
    )
    with torch.no_grad():
        for layer in model.quantizer.vq.layers:
            cb = layer._codebook
            cb.embed.copy_(torch.randn_like(cb.embed))
            cb.inited.fill_(1)
    model.eval()
    model.set_target_bandwidth(args.bandwidth)
    return torch, model


def wrappers(torch, model, bandwidth):
    class Encode(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, audio):
            emb = self.model.encoder(audio)
            return self.model.quantizer.encode(emb, self.model.frame_rate, bandwidth)

    class Decode(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, codes):
            return self.model.decoder(self.model.quantizer.decode(codes))

    return Encode().eval(), Decode().eval()


def export(args):
    """Two exports, each traced at the length it is used at (the tracer bakes the end padding in as constants):
    `encode-offline.onnx` / `decode-offline.onnx` at 10 s, `encode-frame.onnx` / `decode-frame.onnx` at one 320-sample frame."""
    torch, model = build_model(args)
    enc, dec = wrappers(torch, model, args.bandwidth)
    info = {"parameters": sum(p.numel() for p in model.parameters())}
    for name, samples in (("offline", 10 * model.sample_rate), ("frame", model.sample_rate // model.frame_rate)):
        audio = torch.randn(1, model.channels, samples)
        with torch.no_grad():
            codes = enc(audio)  # [n_q, 1, frames]
            torch.onnx.export(enc, (audio,), f"{args.out}/encode-{name}.onnx", input_names=["audio"], output_names=["codes"], opset_version=17)
            torch.onnx.export(dec, (codes,), f"{args.out}/decode-{name}.onnx", input_names=["codes"], output_names=["audio"], opset_version=17)
        info[name] = {"samples": samples, "codes_shape": list(codes.shape)}
    print(json.dumps(info))


def time_torch(args):
    torch, model = build_model(args)
    torch.set_num_threads(args.threads)
    enc, dec = wrappers(torch, model, args.bandwidth)
    import array
    samples = array.array("f")
    with open(args.audio, "rb") as f:
        samples.frombytes(f.read())
    audio = torch.tensor(samples, dtype=torch.float32).reshape(1, 1, -1)
    frame = audio[:, :, :320].contiguous()
    out = {"offline": [], "frame": []}
    with torch.inference_mode():
        dec(enc(audio))
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            dec(enc(audio))
            out["offline"].append((time.perf_counter() - t0) * 1000)
            times = []
            for i in range(60):
                t0 = time.perf_counter()
                dec(enc(frame))
                if i >= 10:
                    times.append((time.perf_counter() - t0) * 1000)
            out["frame"].extend(times)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(json.dumps({"offline": med(out["offline"]), "frame": med(out["frame"])}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["export", "time-torch"])
    p.add_argument("--encodec-src", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--bandwidth", type=float, default=6.0)
    p.add_argument("--out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--audio")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    export(args) if args.command == "export" else time_torch(args)


if __name__ == "__main__":
    main()
