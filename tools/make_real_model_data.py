#!/usr/bin/python3
"""Generates tests/data/real_models/: small versions of real architectures exported by
torch.onnx.export with random weights (fixed seed), their inputs and PyTorch's outputs.

    /usr/bin/python3 tools/make_real_model_data.py   # python3-torch, python3-torchvision, python3-onnx, python3-numpy

Models (each <name>_op<opset>_<batch>.onnx, batch = b1 | b4 (fixed, exported without dynamic_axes)
or dyn (dynamic_axes on the batch dimension)):
- resnet: a ResNet-style CNN from torchvision's BasicBlock (widths 8-16-32, 3x32x32 input, 10
  classes); inputs images.npy, outputs resnet_outputs.npy.
- mobilenet: torchvision mobilenet_v2(width_mult=0.25) on 3x32x32 with the last blocks and the
  1280-wide head cut so the file stays small; inputs images.npy, outputs mobilenet_outputs.npy.
- encoder: a one-layer transformer encoder (token ids int64 + attention mask + token types, Gather
  embeddings, LayerNorm, Softmax attention, GELU (Erf)); inputs encoder_inputs.npz keyed by the
  graph input names, outputs encoder_outputs.npy.
- masked_mlp: two float inputs (features, mask) into Mul, Gemm, Relu, Gemm; inputs
  masked_mlp_inputs.npz, outputs masked_mlp_outputs.npy.
Opsets 9, 11, 13 and 17 are exported for every model. Outputs are PyTorch's, in float32, over all
10 samples at once (the modules are batch-independent in eval mode).
"""

import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "real_models")
SEED = 2024
SAMPLES = 10
OPSETS = [9, 11, 13, 17]
BATCHES = {"b1": 1, "b4": 4, "dyn": None}


class TinyResNet(nn.Module):
    """ResNet-18's structure (stem, BasicBlock stages with strided downsampling, global pool, fc) at
    widths 8-16-32 and one block per stage."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2, downsample=nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False),
                                                                           nn.BatchNorm2d(16)))
        self.layer3 = BasicBlock(16, 32, stride=2, downsample=nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False),
                                                                            nn.BatchNorm2d(32)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def tiny_mobilenet(classes=10):
    # mobilenet_v2's own block list, the last two stages dropped; width 0.25.
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 2, 2]]
    model = torchvision.models.mobilenet_v2(num_classes=classes, width_mult=0.25, inverted_residual_setting=setting)
    # The 1280-wide last conv holds most of the weights; 128 keeps the structure at a small size.
    last_in = model.features[-1][0].in_channels
    model.features[-1] = torchvision.ops.misc.Conv2dNormActivation(last_in, 128, kernel_size=1,
                                                                   activation_layer=nn.ReLU6)
    model.classifier[1] = nn.Linear(128, classes)
    return model


class TinyEncoder(nn.Module):
    """One BERT-style encoder layer: word + position + token-type embeddings (Gather), LayerNorm,
    two-head self-attention with an additive mask and Softmax, a GELU feed-forward block, and a
    classifier on the first token."""

    def __init__(self, vocab=64, seq=16, hidden=32, heads=2, ffn=64, classes=2):
        super().__init__()
        self.seq, self.heads, self.head_dim = seq, heads, hidden // heads
        self.words = nn.Embedding(vocab, hidden)
        self.types = nn.Embedding(2, hidden)
        self.positions = nn.Parameter(torch.randn(seq, hidden) * 0.1)
        self.norm0 = nn.LayerNorm(hidden)
        self.q, self.k, self.v, self.o = (nn.Linear(hidden, hidden) for _ in range(4))
        self.norm1 = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, ffn), nn.GELU(), nn.Linear(ffn, hidden))
        self.norm2 = nn.LayerNorm(hidden)
        self.classifier = nn.Linear(hidden, classes)

    def split(self, x):
        return x.reshape(-1, self.seq, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.norm0(self.words(input_ids) + self.types(token_type_ids) + self.positions)
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        bias = (1.0 - attention_mask.to(torch.float32)).unsqueeze(1).unsqueeze(2) * -10000.0
        weights = torch.softmax(q @ k.transpose(2, 3) / float(self.head_dim) ** 0.5 + bias, dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(-1, self.seq, self.heads * self.head_dim)
        x = self.norm1(x + self.o(context))
        x = self.norm2(x + self.ffn(x))
        return self.classifier(x[:, 0])


class MaskedMlp(nn.Module):
    def __init__(self, features=16, hidden=24, classes=5):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(features, hidden), nn.Linear(hidden, classes)

    def forward(self, features, mask):
        return self.fc2(torch.relu(self.fc1(features * mask)))


def randomize_norms(model, generator):
    # Fresh BatchNorm layers are identities; random statistics make the folded Conv weights real.
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) * 0.5 + 0.75)
            module.weight.data.copy_(torch.rand(module.num_features, generator=generator) * 0.5 + 0.75)
            module.bias.data.copy_(torch.randn(module.num_features, generator=generator) * 0.1)


def export(model, name, inputs, input_names):
    """Exports every opset x batch variant; returns the files written."""
    written = []
    for opset in OPSETS:
        for tag, batch in BATCHES.items():
            example = tuple(t[: batch or 2] for t in inputs)
            path = os.path.join(OUT, f"{name}_op{opset}_{tag}.onnx")
            dynamic = {n: {0: "batch"} for n in input_names + ["output"]} if batch is None else None
            torch.onnx.export(model, example, path, opset_version=opset, input_names=input_names,
                              output_names=["output"], dynamic_axes=dynamic, do_constant_folding=True)
            onnx.checker.check_model(onnx.load(path))
            size = os.path.getsize(path)
            assert size <= 2 << 20, f"{path} is {size} bytes"
            written.append(path)
    return written


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    images = rng.standard_normal((SAMPLES, 3, 32, 32)).astype(np.float32)
    np.save(os.path.join(OUT, "images.npy"), images)
    for name, model in [("resnet", TinyResNet()), ("mobilenet", tiny_mobilenet())]:
        randomize_norms(model, generator)
        model.eval()
        with torch.no_grad():
            outputs = model(torch.from_numpy(images)).numpy().astype(np.float32)
            export(model, name, (torch.from_numpy(images),), ["input"])
        np.save(os.path.join(OUT, f"{name}_outputs.npy"), outputs)

    seq = 16
    lengths = rng.integers(4, seq + 1, SAMPLES)
    positions = np.arange(seq)[None, :]
    attention_mask = (positions < lengths[:, None]).astype(np.int64)
    input_ids = (rng.integers(1, 64, (SAMPLES, seq)) * attention_mask).astype(np.int64)
    token_type_ids = ((positions >= lengths[:, None] // 2) * attention_mask).astype(np.int64)
    np.savez(os.path.join(OUT, "encoder_inputs.npz"), input_ids=input_ids, attention_mask=attention_mask,
             token_type_ids=token_type_ids)
    encoder = TinyEncoder().eval()
    tensors = tuple(torch.from_numpy(a) for a in (input_ids, attention_mask, token_type_ids))
    with torch.no_grad():
        np.save(os.path.join(OUT, "encoder_outputs.npy"), encoder(*tensors).numpy().astype(np.float32))
        export(encoder, "encoder", tensors, ["input_ids", "attention_mask", "token_type_ids"])

    features = rng.standard_normal((SAMPLES, 16)).astype(np.float32)
    mask = (rng.random((SAMPLES, 16)) < 0.7).astype(np.float32)
    np.savez(os.path.join(OUT, "masked_mlp_inputs.npz"), features=features, mask=mask)
    mlp = MaskedMlp().eval()
    with torch.no_grad():
        np.save(os.path.join(OUT, "masked_mlp_outputs.npy"),
                mlp(torch.from_numpy(features), torch.from_numpy(mask)).numpy().astype(np.float32))
        export(mlp, "masked_mlp", (torch.from_numpy(features), torch.from_numpy(mask)), ["features", "mask"])


if __name__ == "__main__":
    main()
