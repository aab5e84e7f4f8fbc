#!/usr/bin/python3
"""Writes a small Llama/Qwen-named safetensors file for looking at the model map.

    /usr/bin/python3 tools/make_llm_map_demo.py OUT.safetensors [--layers 24] [--width 64]

Per layer: input norm, q, k, v (with Qwen2's biases), o, post-attention norm, gate, up, down; then
embeddings, the final norm and the head. Values are Gaussian with a few outlier channels whose size
grows with depth and peaks in the MLP's down projection (as in real LLMs), so the map shows a
pattern. Nothing is committed from its output: the file is made on the fly for screenshots.
"""
import argparse
import json
import struct

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    w = args.width
    tensors = {}

    def matrix(rows, cols, outlier):
        x = rng.standard_normal((rows, cols)).astype(np.float32) * 0.02
        channels = rng.choice(cols, size=2, replace=False)
        x[:, channels] *= outlier
        return x

    tensors["model.embed_tokens.weight"] = matrix(4 * w, w, 3.0)
    for layer in range(args.layers):
        depth = layer / max(1, args.layers - 1)
        p = f"model.layers.{layer}."
        norm = lambda: (1.0 + 0.1 * rng.standard_normal(w)).astype(np.float32)
        tensors[p + "input_layernorm.weight"] = norm()
        for name, scale in (("q_proj", 2.0), ("k_proj", 6.0), ("v_proj", 1.5)):
            tensors[p + f"self_attn.{name}.weight"] = matrix(w, w, scale + 4.0 * depth)
            tensors[p + f"self_attn.{name}.bias"] = (0.01 * rng.standard_normal(w)).astype(np.float32)
        tensors[p + "self_attn.o_proj.weight"] = matrix(w, w, 2.0)
        tensors[p + "post_attention_layernorm.weight"] = norm()
        tensors[p + "mlp.gate_proj.weight"] = matrix(2 * w, w, 2.0 + 2.0 * depth)
        tensors[p + "mlp.up_proj.weight"] = matrix(2 * w, w, 1.5)
        tensors[p + "mlp.down_proj.weight"] = matrix(w, 2 * w, 4.0 + 40.0 * depth * depth)
    tensors["model.norm.weight"] = (1.0 + 0.2 * rng.standard_normal(w)).astype(np.float32)
    tensors["lm_head.weight"] = matrix(4 * w, w, 5.0)

    header = {}
    offset = 0
    for name, value in tensors.items():
        size = value.nbytes
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(args.out, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for value in tensors.values():
            f.write(np.ascontiguousarray(value).tobytes())


if __name__ == "__main__":
    main()
