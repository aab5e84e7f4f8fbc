"""PyTorch's throughput on the ResNet-18 and MobileNetV2 shapes beside quantscope-cli bench-model.

Measures, in one run and on one thread:
  * PyTorch fp32 (torchvision's resnet18 / mobilenet_v2, random weights, batch norm folded into the
    convolutions as for inference) at batch 8 and at batch 32;
  * PyTorch static int8 (FX graph mode quantization, the engine's default qconfig, calibrated on two
    random batches) at batch 32 on every quantized engine the build has (onednn, fbgemm, qnnpack);
  * quantscope-cli bench-model --json for the same shapes at batch 8 and 32 (fp32, static, dynamic);
then prints one table of samples/s with ratios: quantscope fp32 / PyTorch fp32 at the same batch,
and quantscope static / each PyTorch int8 engine at batch 32.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision), after a Release build:
    /usr/bin/python3 tools/bench_pytorch.py --cli build/ci/app/quantscope-cli
Not part of the build or the tests. The machine's load changes the figures: read the ratios, which
are measured in the same run.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torch.fx.experimental.optimization import fuse

MODELS = {"resnet18": torchvision.models.resnet18, "mobilenetv2": torchvision.models.mobilenet_v2}


def fastest_seconds(run, min_time):
    """The fastest of repeated runs (at least two, for at least min_time), after one warm-up."""
    run()
    best = float("inf")
    start = time.perf_counter()
    repeats = 0
    while repeats < 2 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
        repeats += 1
    return best


def samples_per_second(model, batch, resolution, min_time):
    x = torch.rand(batch, 3, resolution, resolution)
    with torch.inference_mode():
        return batch / fastest_seconds(lambda: model(x), min_time)


def pytorch_int8(name, engine, batch, resolution, min_time):
    torch.backends.quantized.engine = engine
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    example = torch.rand(batch, 3, resolution, resolution)
    prepared = prepare_fx(model, get_default_qconfig_mapping(engine), (example,))
    with torch.inference_mode():
        for _ in range(2):
            prepared(torch.rand(batch, 3, resolution, resolution))
    quantized = convert_fx(prepared)
    return samples_per_second(quantized, batch, resolution, min_time)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default="build/ci/app/quantscope-cli", help="the quantscope-cli to run")
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--fp32-batch", type=int, default=8)
    parser.add_argument("--int8-batch", type=int, default=32)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds each measurement repeats for")
    parser.add_argument("--model", action="append", choices=sorted(MODELS), help="default: both")
    args = parser.parse_args()
    models = args.model or ["resnet18", "mobilenetv2"]
    batches = sorted({args.fp32_batch, args.int8_batch})
    torch.set_num_threads(1)
    engines = [e for e in ("onednn", "fbgemm", "qnnpack") if e in torch.backends.quantized.supported_engines]

    rows = []  # (model, batch, who, samples/s)
    for name in models:
        torch.manual_seed(0)
        fp32 = fuse(MODELS[name](weights=None).eval())  # batch norm folded, as in our shaped models
        for batch in batches:
            print(f"pytorch {name} fp32 batch {batch}", file=sys.stderr)
            rows.append((name, batch, "pytorch fp32", samples_per_second(fp32, batch, args.resolution, args.min_time)))
        for engine in engines:
            print(f"pytorch {name} int8 {engine} batch {args.int8_batch}", file=sys.stderr)
            try:
                sps = pytorch_int8(name, engine, args.int8_batch, args.resolution, args.min_time)
            except Exception as error:  # an engine without a kernel for an op of the model
                print(f"  {engine} failed: {error}", file=sys.stderr)
                continue
            rows.append((name, args.int8_batch, f"pytorch int8 {engine}", sps))

    command = [args.cli, "bench-model", "--json", "-", "--resolution", str(args.resolution),
               "--min-time", str(args.min_time)]
    for name in models:
        command += ["--model", name]
    for batch in batches:
        command += ["--batch", str(batch)]
    print(" ".join(command), file=sys.stderr)
    ours = json.loads(subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout)
    for entry in ours["results"]:
        if entry["mode"] in ("fp32", "static", "dynamic"):
            rows.append((entry["model"], entry["batch"], "quantscope " + entry["mode"], entry["throughput_sps"]))

    def find(model, batch, who):
        return next((sps for m, b, w, sps in rows if m == model and b == batch and w == who), None)

    print(f"one thread, {args.resolution}x{args.resolution}, quantscope int8 path {ours['isa']}, "
          f"torch {torch.__version__}, load {os.getloadavg()[0]:.2f}")
    print(f"{'model':<12} {'batch':>5}  {'runtime':<22} {'samples/s':>10}  ratio")
    for model, batch, who, sps in rows:
        if who == "quantscope static":
            baselines = [w for m, b, w, _ in rows if m == model and b == batch and w.startswith("pytorch int8")]
        elif who.startswith("quantscope"):
            baselines = ["pytorch fp32"]
        else:
            baselines = []
        ratios = []
        for baseline in baselines:
            reference = find(model, batch, baseline)
            if reference:
                ratios.append(f"{sps / reference:.2f}x {baseline}")
        print(f"{model:<12} {batch:>5}  {who:<22} {sps:>10.1f}  {', '.join(ratios)}")


if __name__ == "__main__":
    main()
