#!/usr/bin/python3
"""Writes the fuzzers' seed corpora under fuzz/corpus/<target>/: small valid files of each format,
copied from tests/data or generated here (numpy, torch and onnx from Debian's /usr/bin/python3).
Run from anywhere: /usr/bin/python3 tools/make_fuzz_corpus.py"""
import io
import json
import pathlib
import shutil
import struct
import zipfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

root = pathlib.Path(__file__).resolve().parents[1]
data = root / "tests" / "data"
corpus = root / "fuzz" / "corpus"
MAX_SEED = 64 << 10  # larger seeds slow every mutation down


def target(name: str) -> pathlib.Path:
    path = corpus / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def copy(name: str, sources) -> None:
    out = corpus / name
    for source in sources:
        if source.stat().st_size <= MAX_SEED:
            shutil.copy(source, out / (source.parent.name + "_" + source.name))


def safetensors_bytes(tensors: dict, metadata=None) -> bytes:
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


rng = np.random.default_rng(14)

# safetensors
out = target("fuzz_safetensors")
copy("fuzz_safetensors", [data / "io" / "all_dtypes.safetensors"])
(out / "small.safetensors").write_bytes(safetensors_bytes(
    {"w": ("F32", rng.standard_normal((4, 3)).astype("<f4")),
     "h": ("F16", rng.standard_normal(5).astype("<f2")),
     "i": ("I8", np.arange(-3, 3, dtype=np.int8))}, {"format": "pt"}))
(out / "empty.safetensors").write_bytes(safetensors_bytes({"e": ("F32", np.zeros((0, 2), "<f4"))}))

# packed checkpoints (safetensors with GPTQ / AWQ / compressed-tensors / fp8 / nvfp4 tensors)
target("fuzz_packed")
copy("fuzz_packed", sorted((data / "io" / "packed").glob("*/model.safetensors")))

# npy
out = target("fuzz_npy")
copy("fuzz_npy", sorted((data / "io").glob("*.npy")))
for name, array in {"f2": rng.standard_normal((2, 3)).astype("<f2"), "i8": np.arange(6, dtype="<i8"),
                    "f4_3d": rng.standard_normal((2, 2, 2)).astype("<f4")}.items():
    buffer = io.BytesIO()
    np.save(buffer, array)
    (out / f"{name}.npy").write_bytes(buffer.getvalue())

# npz (stored and deflated)
out = target("fuzz_npz")
copy("fuzz_npz", sorted((data / "io").glob("*.npz")))
arrays = {"x": rng.standard_normal((3, 4)).astype("<f4"), "labels": np.arange(3, dtype="<i8")}
np.savez(out / "stored.npz", **arrays)
np.savez_compressed(out / "deflated.npz", **arrays)

# GGUF (version 3): metadata of several types, F32 / F16 / Q8_0 / Q4_0 tensors
def gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf_bytes() -> bytes:
    kv = [("general.architecture", 8, gguf_string("llama")), ("general.alignment", 4, struct.pack("<I", 32)),
          ("llama.context_length", 4, struct.pack("<I", 16)),
          ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0.5, -1.0, 2.0))]
    f32 = rng.standard_normal((2, 4)).astype("<f4").tobytes()
    f16 = rng.standard_normal((2, 4)).astype("<f2").tobytes()
    # Q8_0: per 32 values an f16 scale then 32 int8; Q4_0: an f16 scale then 16 bytes of nibbles.
    q8 = np.float16(0.05).tobytes() + bytes((i * 7) % 256 for i in range(32))
    q4 = np.float16(0.1).tobytes() + bytes((i * 37) % 256 for i in range(16))
    tensors = [("a.weight", [4, 2], 0, f32), ("b.weight", [4, 2], 1, f16), ("c.weight", [32], 8, q8),
               ("d.weight", [32], 2, q4)]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for key, kind, value in kv:
        head += gguf_string(key) + struct.pack("<I", kind) + value
    blob, offsets = b"", []
    for _, _, _, raw in tensors:
        blob += b"\0" * (-len(blob) % 32)
        offsets.append(len(blob))
        blob += raw
    for (name, dims, kind, _), offset in zip(tensors, offsets):
        head += gguf_string(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        head += struct.pack("<IQ", kind, offset)
    head += b"\0" * (-len(head) % 32)
    return head + blob


out = target("fuzz_gguf")
(out / "small.gguf").write_bytes(gguf_bytes())

# PyTorch checkpoints (the zip format; a transposed view and plain values beside the tensors)
out = target("fuzz_torch")
state = {"fc.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3),
         "fc.bias": torch.tensor([0.5, -0.5], dtype=torch.float16),
         "t": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(), "epoch": 3}
torch.save(state, out / "state.pt")
torch.save({"model": {"w": torch.ones(2, 2, dtype=torch.bfloat16)}, "lr": 0.1}, out / "nested.pt")

# quantscope-qparams documents
out = target("fuzz_qparams")
copy("fuzz_qparams", [data / "interop" / "digits_cnn.qparams.json"])
(out / "one.json").write_text(json.dumps({
    "format": "quantscope-qparams", "version": 1, "generator": "quantscope 0.1.0",
    "source": {"path": "w.safetensors", "sha256": "00", "bytes": 8}, "calibration": None,
    "tensors": [{"name": "w", "kind": "weight", "shape": [2, 2], "dtype": "int8", "bits": 8, "signed": True,
                 "scheme": "symmetric", "granularity": "channel", "axis": 0, "group_size": None,
                 "qmin": -128, "qmax": 127, "narrow_range": False, "reduce_range": False,
                 "calib": {"method": "minmax", "percentile": None}, "min": [-1, -2], "max": [1, 2],
                 "scale": [0.0078, 0.0157], "zero_point": [0, 0]}]}))

# the converters' inputs
target("fuzz_paramfiles")
copy("fuzz_paramfiles", sorted((data / "interop").glob("small.*")))

# image folder sidecars
out = target("fuzz_image_sidecar")
for name, sidecar in {"gray": {"width": 8, "height": 8, "channels": 1},
                      "rgb": {"width": 32, "height": 16, "channels": 3, "scale": 0.00392,
                              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}.items():
    (out / f"{name}.json").write_text(json.dumps(sidecar))

# ONNX models: single ops, the hardening cases, the bad models, and a small real one
out = target("fuzz_onnx_model")
copy("fuzz_onnx_model", sorted((data / "model" / "ops").glob("*.onnx")) + sorted((data / "hardening").glob("*.onnx")) +
     sorted((data / "model" / "bad").glob("*.onnx")) + [data / "real_models" / "masked_mlp_op13_b4.onnx"])
weight = helper.make_tensor("W", TensorProto.FLOAT, [4, 3], rng.standard_normal(12).astype(np.float32).tolist())
bias = helper.make_tensor("B", TensorProto.FLOAT, [3], [0.1, -0.2, 0.3])
graph = helper.make_graph(
    [helper.make_node("Gemm", ["x", "W", "B"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
     helper.make_node("Softmax", ["r"], ["y"], axis=1)], "mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [weight, bias])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), out / "gemm_relu_softmax.onnx")

for path in sorted(corpus.iterdir()):
    files = list(path.iterdir())
    print(f"{path.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
