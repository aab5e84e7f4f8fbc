"""A ResNet-18-shaped model and samples for bench_live_compare (not committed: ~85 MB).

torchvision's resnet18 with random weights (seed 0), exported with a symbolic batch, and 64
standard-normal 3x224x224 samples. Run with /usr/bin/python3 (Debian's python3-torch,
python3-torchvision, python3-onnx and python3-numpy):
    /usr/bin/python3 tools/make_resnet18_bench.py /tmp/lc
    build/release/bench/bench_live_compare /tmp/lc/resnet18.onnx /tmp/lc/resnet18_samples.npy
"""
import os
import sys

import numpy as np
import torch
import torchvision

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
torch.onnx.export(model, torch.randn(1, 3, 224, 224), os.path.join(out, "resnet18.onnx"),
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}}, opset_version=13)
rng = np.random.default_rng(0)
np.save(os.path.join(out, "resnet18_samples.npy"),
        rng.standard_normal((64, 3, 224, 224)).astype(np.float32))
