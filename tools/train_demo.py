#!/usr/bin/python3
"""Builds Quantscope's bundled digits demo: data split, two trained models, reference outputs.

Run from the repository root with Debian's interpreter (python3-numpy, python3-onnx):

    /usr/bin/python3 tools/train_demo.py

Inputs:  resources/demo/digits.csv.gz (the UCI optical digits test set as shipped by Debian's
         python3-sklearn: 1,797 rows of 64 pixel counts 0..16 and a label 0..9).
Outputs: resources/demo/digits_{calib,test}.npy        float32 N x 64, pixels / 16 (range 0..1)
         resources/demo/digits_{calib,test}_labels.npy int64 N
         resources/demo/digits_{mlp,cnn}.onnx          opset 13, fp32
         resources/demo/digits_{mlp,cnn}.safetensors   the same weights, PyTorch layout and names
         tests/data/model/digits_{mlp,cnn}_test_logits.npy  fp32 logits of the test set (numpy)

Training is plain numpy (Adam, softmax cross-entropy), seeded, so the same machine reproduces the
same files. Nothing here runs during the build or the tests.
"""

import gzip
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "resources", "demo")
TEST_DATA = os.path.join(ROOT, "tests", "data", "model")
SEED = 20241126
TEST_FRACTION = 0.3


# ----------------------------------------------------------------------------- data

def load_digits():
    with gzip.open(os.path.join(DEMO, "digits.csv.gz"), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if table.shape != (1797, 65):
        sys.exit(f"digits.csv.gz: expected 1797 x 65 values, found {table.shape}")
    pixels = (table[:, :64] / 16.0).astype(np.float32)
    labels = table[:, 64].astype(np.int64)
    return pixels, labels


def stratified_split(labels, rng):
    """Per class, a seeded permutation; the first 30 % of each class go to the test set."""
    test = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        members = members[rng.permutation(len(members))]
        test.extend(members[: int(round(TEST_FRACTION * len(members)))])
    test = np.sort(np.array(test))
    calib = np.setdiff1d(np.arange(len(labels)), test)
    return calib, test


# ----------------------------------------------------------------------------- layers (numpy)

def im2col(x, kh, kw, pad):
    """x: N x C x H x W -> (N*H*W) x (C*kh*kw) for stride 1, 'same' padding."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, kh, kw, h, w), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * h * w, c * kh * kw)


def col2im(cols, shape, kh, kw, pad):
    n, c, h, w = shape
    cols = cols.reshape(n, h, w, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return xp[:, :, pad:pad + h, pad:pad + w]


class Conv:
    """3x3 convolution, stride 1, padding 1 (output size = input size)."""

    def __init__(self, cin, cout, rng):
        fan_in = cin * 9
        self.w = rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin, 3, 3))
        self.b = np.zeros(cout)

    def params(self):
        return [self.w, self.b]

    def forward(self, x):
        self.shape = x.shape
        n, _, h, w = x.shape
        self.cols = im2col(x, 3, 3, 1)
        out = self.cols @ self.w.reshape(len(self.w), -1).T + self.b
        return out.reshape(n, h, w, -1).transpose(0, 3, 1, 2)

    def backward(self, g):
        cout = len(self.w)
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, cout)
        self.grads = [(g2.T @ self.cols).reshape(self.w.shape), g2.sum(0)]
        return col2im(g2 @ self.w.reshape(cout, -1), self.shape, 3, 3, 1)


class Dense:
    def __init__(self, fin, fout, rng):
        self.w = rng.normal(0, np.sqrt(2.0 / fin), (fout, fin))  # PyTorch layout: out x in
        self.b = np.zeros(fout)

    def params(self):
        return [self.w, self.b]

    def forward(self, x):
        self.x = x
        return x @ self.w.T + self.b

    def backward(self, g):
        self.grads = [g.T @ self.x, g.sum(0)]
        return g @ self.w


class Relu:
    def params(self):
        return []

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, g):
        self.grads = []
        return g * self.mask


class MaxPool2:
    def params(self):
        return []

    def forward(self, x):
        n, c, h, w = x.shape
        blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
        out = blocks.max(axis=(3, 5))
        self.mask = blocks == out[:, :, :, None, :, None]
        return out

    def backward(self, g):
        self.grads = []
        n, c, h, w = g.shape
        # Ties (rare with float inputs) share the gradient; harmless for training.
        full = self.mask * g[:, :, :, None, :, None]
        return full.reshape(n, c, h * 2, w * 2)


class Flatten:
    def params(self):
        return []

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, g):
        self.grads = []
        return g.reshape(self.shape)


def forward(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def train(layers, x, y, epochs, rng, lr=2e-3, batch=64, weight_decay=1e-4):
    params = [p for layer in layers for p in layer.params()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            logits = forward(layers, x[idx])
            logits = logits - logits.max(1, keepdims=True)
            prob = np.exp(logits)
            prob /= prob.sum(1, keepdims=True)
            total += -np.log(prob[np.arange(len(idx)), y[idx]] + 1e-12).sum()
            g = prob
            g[np.arange(len(idx)), y[idx]] -= 1
            g /= len(idx)
            for layer in reversed(layers):
                g = layer.backward(g)
            grads = [gr for layer in layers for gr in layer.grads]
            step += 1
            for p, gr, mm, vv in zip(params, grads, m, v):
                gr = gr + weight_decay * p
                mm *= 0.9
                mm += 0.1 * gr
                vv *= 0.999
                vv += 0.001 * gr * gr
                p -= lr * (mm / (1 - 0.9 ** step)) / (np.sqrt(vv / (1 - 0.999 ** step)) + 1e-8)
        if epoch % 10 == 9 or epoch == epochs - 1:
            print(f"  epoch {epoch + 1}: mean loss {total / len(x):.4f}")


# ----------------------------------------------------------------------------- export

def write_safetensors(path, tensors, metadata):
    """The safetensors format: u64 little-endian header length, JSON header, raw data."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def initializer(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def export_mlp(layers, path):
    fc = [layer for layer in layers if isinstance(layer, Dense)]
    names = ["fc1", "fc2", "fc3"]
    nodes, inits = [], []
    current = "input"
    for i, (name, layer) in enumerate(zip(names, fc)):
        out = "logits" if i == len(fc) - 1 else f"{name}_out"
        nodes.append(helper.make_node("Gemm", [current, f"{name}.weight", f"{name}.bias"], [out],
                                      name=name, transB=1))
        inits += [initializer(f"{name}.weight", layer.w), initializer(f"{name}.bias", layer.b)]
        if i < len(fc) - 1:
            nodes.append(helper.make_node("Relu", [out], [f"{name}_relu"], name=f"{name}_relu"))
            current = f"{name}_relu"
    graph = helper.make_graph(
        nodes, "digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    save_model(graph, path, "MLP 64-256-128-10 on the UCI optical digits (pixels / 16)")
    return [(f"{n}.{k}", p) for n, layer in zip(names, fc) for k, p in zip(["weight", "bias"], layer.params())]


def export_cnn(layers, path):
    conv1, conv2, fc = layers[0], layers[3], layers[6]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1_out"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv1_out"], ["conv1_relu"], name="conv1_relu"),
        helper.make_node("MaxPool", ["conv1_relu"], ["pool1_out"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1_out", "conv2.weight", "conv2.bias"], ["conv2_out"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv2_out"], ["conv2_relu"], name="conv2_relu"),
        helper.make_node("Flatten", ["conv2_relu"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    params = [("conv1.weight", conv1.w), ("conv1.bias", conv1.b), ("conv2.weight", conv2.w),
              ("conv2.bias", conv2.b), ("fc.weight", fc.w), ("fc.bias", fc.b)]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [initializer(n, p) for n, p in params])
    save_model(graph, path, "CNN conv3x3(16)-maxpool-conv3x3(32)-fc(10) on the UCI optical digits (pixels / 16)")
    return params


def save_model(graph, path, doc):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="quantscope tools/train_demo.py")
    model.ir_version = 7
    model.doc_string = doc
    onnx.checker.check_model(model)
    onnx.save(model, path)


# ----------------------------------------------------------------------------- main

def main():
    rng = np.random.default_rng(SEED)
    pixels, labels = load_digits()
    calib_idx, test_idx = stratified_split(labels, rng)
    x_cal, y_cal = pixels[calib_idx], labels[calib_idx]
    x_test, y_test = pixels[test_idx], labels[test_idx]
    np.save(os.path.join(DEMO, "digits_calib.npy"), x_cal)
    np.save(os.path.join(DEMO, "digits_calib_labels.npy"), y_cal)
    np.save(os.path.join(DEMO, "digits_test.npy"), x_test)
    np.save(os.path.join(DEMO, "digits_test_labels.npy"), y_test)
    print(f"calibration/training set {len(x_cal)}, test set {len(x_test)}")

    xd, xt = x_cal.astype(np.float64), x_test.astype(np.float64)
    print("training MLP 64-256-128-10")
    mlp = [Dense(64, 256, rng), Relu(), Dense(256, 128, rng), Relu(), Dense(128, 10, rng)]
    train(mlp, xd, y_cal, 60, rng)
    print("training CNN")
    cnn = [Conv(1, 16, rng), Relu(), MaxPool2(), Conv(16, 32, rng), Relu(), Flatten(), Dense(512, 10, rng)]
    train(cnn, xd.reshape(-1, 1, 8, 8), y_cal, 30, rng)

    os.makedirs(TEST_DATA, exist_ok=True)
    for name, layers, export, shape in [("mlp", mlp, export_mlp, (-1, 64)),
                                        ("cnn", cnn, export_cnn, (-1, 1, 8, 8))]:
        for layer in layers:  # the files hold float32: evaluate exactly what was saved
            for p in layer.params():
                p[...] = p.astype(np.float32)
        params = export(layers, os.path.join(DEMO, f"digits_{name}.onnx"))
        write_safetensors(os.path.join(DEMO, f"digits_{name}.safetensors"), params,
                          {"model": f"digits_{name}", "source": "tools/train_demo.py"})
        logits = forward(layers, xt.reshape(shape))
        accuracy = (logits.argmax(1) == y_test).mean()
        np.save(os.path.join(TEST_DATA, f"digits_{name}_test_logits.npy"), logits.astype(np.float32))
        print(f"{name}: fp32 test accuracy {accuracy * 100:.2f} % ({len(y_test)} samples)")


if __name__ == "__main__":
    main()
