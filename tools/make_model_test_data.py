#!/usr/bin/python3
"""Generates tests/data/model/: single-op ONNX graphs with independent fp32 reference outputs, and
ONNX files for the reader's tests (float16 / int8 initializers, Constant nodes, subgraphs, external
data, hostile files).

    /usr/bin/python3 tools/make_model_test_data.py      # python3-numpy, python3-onnx, python3-torch

For every op case <case>: ops/<case>.onnx, ops/<case>_input_<k>.npy (one per graph input, in
order) and ops/<case>_output.npy. References are computed in float64 by numpy from the float32
inputs; where PyTorch has the same op, its result must agree too (a check of the numpy code).
"""

import math
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "model")
OPS = os.path.join(OUT, "ops")
SEED = 4242
rng = np.random.default_rng(SEED)


def rand(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape).astype(np.float32)


def save(model, path, check=True):
    model.ir_version = 7
    if check:
        onnx.checker.check_model(model)
    onnx.save(model, path)


def single_op_case(name, op, inputs, inits, attrs, reference, opset=13, torch_reference=None,
                   check=True, extra_nodes=()):
    """inputs: list of (name, array) fed at run time; inits: list of (name, array) initializers.
    The node reads the inputs then the initializers in the order given by `order` (all of them)."""
    input_names = [n for n, _ in inputs]
    node_inputs = attrs.pop("_inputs", input_names + [n for n, _ in inits])
    node = helper.make_node(op, node_inputs, ["y"], name=f"{name}_node", **attrs)
    arrays = {n: a for n, a in inputs + inits}
    expected = np.asarray(reference(arrays), dtype=np.float64)
    if torch_reference is not None:
        check_torch = np.asarray(torch_reference({k: torch.from_numpy(np.asarray(v, np.float64))
                                                  if v.dtype != np.int64 else torch.from_numpy(v)
                                                  for k, v in arrays.items()}))
        assert check_torch.shape == expected.shape, (name, check_torch.shape, expected.shape)
        assert np.allclose(check_torch, expected, rtol=1e-9, atol=1e-9), name
    graph = helper.make_graph(
        list(extra_nodes) + [node], name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(expected.shape))],
        [numpy_helper.from_array(a, n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    save(model, os.path.join(OPS, f"{name}.onnx"), check)
    for k, (_, a) in enumerate(inputs):
        np.save(os.path.join(OPS, f"{name}_input_{k}.npy"), a)
    np.save(os.path.join(OPS, f"{name}_output.npy"), expected.astype(np.float32))
    print(f"{name}: output {list(expected.shape)}")


def f64(a):
    return np.asarray(a, dtype=np.float64)


# ----------------------------------------------------------------------------- numpy references

def conv_ref(x, w, b, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1):
    x, w = f64(x), f64(w)
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, m, oh, ow))
    mg = m // group
    for g in range(group):
        for oc in range(g * mg, (g + 1) * mg):
            for i in range(oh):
                for j in range(ow):
                    patch = xp[:, g * cg:(g + 1) * cg,
                               i * strides[0]: i * strides[0] + dilations[0] * (kh - 1) + 1: dilations[0],
                               j * strides[1]: j * strides[1] + dilations[1] * (kw - 1) + 1: dilations[1]]
                    out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
            if b is not None:
                out[:, oc] += f64(b)[oc]
    return out


def pool_ref(x, kernel, strides, pads, mode, count_include_pad=0, ceil_mode=0):
    x = f64(x)
    n, c, h, w = x.shape
    fill = -np.inf if mode == "max" else 0.0
    def out_size(size, k, s, p0, p1):
        span = size + p0 + p1 - k
        return (math.ceil(span / s) if ceil_mode else span // s) + 1
    oh = out_size(h, kernel[0], strides[0], pads[0], pads[2])
    ow = out_size(w, kernel[1], strides[1], pads[1], pads[3])
    # Extra padding on the far side so ceil-mode windows exist; such cells never count.
    xp = np.full((n, c, h + pads[0] + pads[2] + kernel[0], w + pads[1] + pads[3] + kernel[1]), fill)
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    inside_pad = np.zeros(xp.shape[2:], dtype=bool)  # counted by count_include_pad
    inside_pad[:h + pads[0] + pads[2], :w + pads[1] + pads[3]] = True
    real = np.zeros(xp.shape[2:], dtype=bool)
    real[pads[0]:pads[0] + h, pads[1]:pads[1] + w] = True
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rs = slice(i * strides[0], i * strides[0] + kernel[0])
            cs = slice(j * strides[1], j * strides[1] + kernel[1])
            window = xp[:, :, rs, cs]
            if mode == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
            else:
                count = (inside_pad if count_include_pad else real)[rs, cs].sum()
                out[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return out


def softmax_ref(x, axis):
    x = f64(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def erf_ref(x):
    return np.vectorize(math.erf)(f64(x))


# ----------------------------------------------------------------------------- op cases

def op_cases():
    a, b, c = rand(3, 5), rand(5, 4), rand(4)
    single_op_case("gemm_basic", "Gemm", [("a", a)], [("b", b), ("c", c)], {},
                   lambda t: f64(t["a"]) @ f64(t["b"]) + f64(t["c"]))
    a, b, c = rand(5, 3), rand(4, 5), rand(3, 1)
    single_op_case("gemm_trans", "Gemm", [("a", a)], [("b", b), ("c", c)],
                   {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0},
                   lambda t: 0.5 * f64(t["a"]).T @ f64(t["b"]).T + 2.0 * f64(t["c"]))
    a, b = rand(2, 6), rand(6, 3)
    single_op_case("gemm_no_bias", "Gemm", [("a", a)], [("b", b)], {},
                   lambda t: f64(t["a"]) @ f64(t["b"]))

    single_op_case("matmul_2d", "MatMul", [("a", rand(4, 6))], [("b", rand(6, 3))], {},
                   lambda t: f64(t["a"]) @ f64(t["b"]),
                   torch_reference=lambda t: torch.matmul(t["a"], t["b"]))
    single_op_case("matmul_batched", "MatMul", [("a", rand(2, 3, 4, 5))], [("b", rand(5, 6))], {},
                   lambda t: f64(t["a"]) @ f64(t["b"]))
    single_op_case("matmul_broadcast", "MatMul", [("a", rand(2, 1, 4, 5)), ("b", rand(3, 5, 2))], [], {},
                   lambda t: f64(t["a"]) @ f64(t["b"]),
                   torch_reference=lambda t: torch.matmul(t["a"], t["b"]))
    single_op_case("matmul_vector", "MatMul", [("a", rand(3, 4, 5))], [("b", rand(5))], {},
                   lambda t: f64(t["a"]) @ f64(t["b"]))

    single_op_case("add_broadcast", "Add", [("a", rand(2, 3, 4))], [("b", rand(4))], {},
                   lambda t: f64(t["a"]) + f64(t["b"]))
    single_op_case("sub_broadcast", "Sub", [("a", rand(2, 3, 4)), ("b", rand(3, 1))], [], {},
                   lambda t: f64(t["a"]) - f64(t["b"]))
    single_op_case("mul_broadcast", "Mul", [("a", rand(2, 1, 4)), ("b", rand(1, 3, 1))], [], {},
                   lambda t: f64(t["a"]) * f64(t["b"]))
    single_op_case("div_broadcast", "Div", [("a", rand(2, 3, 4))],
                   [("b", rand(2, 1, 4, low=0.5, high=2.0))], {},
                   lambda t: f64(t["a"]) / f64(t["b"]))

    x = rand(3, 7, low=-4, high=4)
    single_op_case("relu", "Relu", [("x", x)], [], {}, lambda t: np.maximum(f64(t["x"]), 0))
    single_op_case("leaky_relu", "LeakyRelu", [("x", x)], [], {"alpha": 0.1},
                   lambda t: np.where(f64(t["x"]) > 0, f64(t["x"]), 0.1 * f64(t["x"])),
                   torch_reference=lambda t: F.leaky_relu(t["x"], 0.1))
    single_op_case("sigmoid", "Sigmoid", [("x", x)], [], {}, lambda t: 1 / (1 + np.exp(-f64(t["x"]))),
                   torch_reference=lambda t: torch.sigmoid(t["x"]))
    single_op_case("tanh", "Tanh", [("x", x)], [], {}, lambda t: np.tanh(f64(t["x"])))
    single_op_case("erf", "Erf", [("x", x)], [], {}, lambda t: erf_ref(t["x"]),
                   torch_reference=lambda t: torch.erf(t["x"]))
    # Gelu is in the default domain from opset 20; onnx 1.12's checker predates it.
    single_op_case("gelu", "Gelu", [("x", x)], [], {},
                   lambda t: 0.5 * f64(t["x"]) * (1 + erf_ref(f64(t["x"]) / math.sqrt(2))), opset=20,
                   torch_reference=lambda t: F.gelu(t["x"]), check=False)
    single_op_case("gelu_tanh", "Gelu", [("x", x)], [], {"approximate": "tanh"},
                   lambda t: 0.5 * f64(t["x"]) * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                                           (f64(t["x"]) + 0.044715 * f64(t["x"]) ** 3))),
                   opset=20, torch_reference=lambda t: F.gelu(t["x"], approximate="tanh"), check=False)
    single_op_case("clip", "Clip", [("x", x)],
                   [("lo", np.array(-1.5, np.float32)), ("hi", np.array(2.25, np.float32))], {},
                   lambda t: np.clip(f64(t["x"]), -1.5, 2.25))
    single_op_case("clip_max_only", "Clip", [("x", x)], [("hi", np.array(0.5, np.float32))],
                   {"_inputs": ["x", "", "hi"]}, lambda t: np.minimum(f64(t["x"]), 0.5))

    x = rand(2, 3, 7, 7)
    w = rand(4, 3, 3, 3, low=-0.5, high=0.5)
    bias = rand(4)
    single_op_case("conv_basic", "Conv", [("x", x)], [("w", w), ("b", bias)],
                   {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]},
                   lambda t: conv_ref(t["x"], t["w"], t["b"], pads=(1, 1, 1, 1)),
                   torch_reference=lambda t: F.conv2d(t["x"], t["w"], t["b"], padding=1))
    x = rand(2, 3, 11, 10)
    w = rand(5, 3, 3, 2, low=-0.5, high=0.5)
    single_op_case("conv_stride_dilation", "Conv", [("x", x)], [("w", w)],
                   {"strides": [2, 3], "dilations": [2, 1], "pads": [0, 1, 2, 1]},
                   lambda t: conv_ref(t["x"], t["w"], None, strides=(2, 3), pads=(0, 1, 2, 1),
                                      dilations=(2, 1)),
                   torch_reference=lambda t: F.conv2d(F.pad(t["x"], (1, 1, 0, 2)), t["w"], stride=(2, 3),
                                                      dilation=(2, 1)))
    x = rand(1, 4, 6, 6)
    w = rand(6, 2, 3, 3, low=-0.5, high=0.5)
    single_op_case("conv_groups", "Conv", [("x", x)], [("w", w), ("b", rand(6))], {"group": 2},
                   lambda t: conv_ref(t["x"], t["w"], t["b"], group=2),
                   torch_reference=lambda t: F.conv2d(t["x"], t["w"], t["b"], groups=2))
    x = rand(2, 3, 5, 5)
    w = rand(3, 1, 3, 3, low=-0.5, high=0.5)
    single_op_case("conv_depthwise_same", "Conv", [("x", x)], [("w", w)],
                   {"group": 3, "auto_pad": "SAME_UPPER"},
                   lambda t: conv_ref(t["x"], t["w"], None, pads=(1, 1, 1, 1), group=3))

    x = rand(2, 3, 7, 6)
    single_op_case("maxpool", "MaxPool", [("x", x)], [],
                   {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
                   lambda t: pool_ref(t["x"], (3, 3), (2, 2), (1, 1, 1, 1), "max"),
                   torch_reference=lambda t: F.max_pool2d(t["x"], 3, 2, 1))
    single_op_case("maxpool_ceil", "MaxPool", [("x", x)], [],
                   {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
                   lambda t: pool_ref(t["x"], (2, 2), (2, 2), (0, 0, 0, 0), "max", ceil_mode=1),
                   torch_reference=lambda t: F.max_pool2d(t["x"], 2, 2, ceil_mode=True))
    single_op_case("avgpool_exclude_pad", "AveragePool", [("x", x)], [],
                   {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [1, 0, 1, 1]},
                   lambda t: pool_ref(t["x"], (3, 2), (2, 1), (1, 0, 1, 1), "avg"))
    single_op_case("avgpool_include_pad", "AveragePool", [("x", x)], [],
                   {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
                   lambda t: pool_ref(t["x"], (3, 3), (2, 2), (1, 1, 1, 1), "avg", count_include_pad=1),
                   torch_reference=lambda t: F.avg_pool2d(t["x"], 3, 2, 1, count_include_pad=True))
    single_op_case("global_average_pool", "GlobalAveragePool", [("x", x)], [], {},
                   lambda t: f64(t["x"]).mean(axis=(2, 3), keepdims=True))

    x = rand(2, 3, 4, 4)
    scale, shift, mean, var = rand(3), rand(3), rand(3), rand(3, low=0.2, high=2.0)
    single_op_case("batch_norm", "BatchNormalization", [("x", x)],
                   [("scale", scale), ("shift", shift), ("mean", mean), ("var", var)], {"epsilon": 1e-3},
                   lambda t: (f64(t["x"]) - f64(t["mean"])[:, None, None]) /
                   np.sqrt(f64(t["var"])[:, None, None] + 1e-3) * f64(t["scale"])[:, None, None] +
                   f64(t["shift"])[:, None, None],
                   torch_reference=lambda t: F.batch_norm(t["x"], t["mean"], t["var"], t["scale"], t["shift"],
                                                          eps=1e-3))

    x = rand(2, 3, 4, 5)
    single_op_case("flatten", "Flatten", [("x", x)], [], {"axis": 2}, lambda t: f64(t["x"]).reshape(6, 20))
    single_op_case("reshape", "Reshape", [("x", x)], [("shape", np.array([0, -1, 10], np.int64))], {},
                   lambda t: f64(t["x"]).reshape(2, 6, 10))
    single_op_case("transpose", "Transpose", [("x", x)], [], {"perm": [0, 2, 3, 1]},
                   lambda t: f64(t["x"]).transpose(0, 2, 3, 1))
    single_op_case("transpose_default", "Transpose", [("x", x)], [], {},
                   lambda t: f64(t["x"]).transpose())
    single_op_case("concat", "Concat", [("a", rand(2, 3, 4)), ("b", rand(2, 1, 4))], [("c", rand(2, 2, 4))],
                   {"axis": -2}, lambda t: np.concatenate([f64(t["a"]), f64(t["b"]), f64(t["c"])], axis=1))
    x = rand(2, 3, 5, low=-6, high=6)
    single_op_case("softmax", "Softmax", [("x", x)], [], {}, lambda t: softmax_ref(t["x"], -1),
                   torch_reference=lambda t: torch.softmax(t["x"], -1))
    single_op_case("softmax_axis1", "Softmax", [("x", x)], [], {"axis": 1}, lambda t: softmax_ref(t["x"], 1))
    # Before opset 13 Softmax flattens to 2-D at `axis` and normalises each row.
    single_op_case("softmax_opset11", "Softmax", [("x", x)], [], {"axis": 1},
                   lambda t: softmax_ref(f64(t["x"]).reshape(2, 15), 1).reshape(2, 3, 5), opset=11)
    x = rand(3, 1, 4)
    single_op_case("identity", "Identity", [("x", x)], [], {}, lambda t: f64(t["x"]))
    single_op_case("dropout", "Dropout", [("x", x)], [], {}, lambda t: f64(t["x"]))
    single_op_case("squeeze", "Squeeze", [("x", x)], [("axes", np.array([1], np.int64))], {},
                   lambda t: f64(t["x"]).reshape(3, 4))
    single_op_case("squeeze_all", "Squeeze", [("x", x)], [], {}, lambda t: f64(t["x"]).reshape(3, 4))
    single_op_case("squeeze_opset11", "Squeeze", [("x", x)], [], {"axes": [-2]},
                   lambda t: f64(t["x"]).reshape(3, 4), opset=11)
    single_op_case("unsqueeze", "Unsqueeze", [("x", x)], [("axes", np.array([0, -1], np.int64))], {},
                   lambda t: f64(t["x"]).reshape(1, 3, 1, 4, 1))
    single_op_case("unsqueeze_opset11", "Unsqueeze", [("x", x)], [], {"axes": [1]},
                   lambda t: f64(t["x"]).reshape(3, 1, 1, 4), opset=11)
    const = rand(3, 1, 4)
    single_op_case("constant", "Add", [("x", x)], [], {"_inputs": ["x", "k"]},
                   lambda t: f64(t["x"]) + f64(const),
                   extra_nodes=[helper.make_node("Constant", [], ["k"], name="k_node",
                                                 value=numpy_helper.from_array(const, "k"))])


# ----------------------------------------------------------------------------- reader files

def reader_cases():
    """reader_mixed.onnx: initializers of several dtypes, a Constant node, a subgraph initializer.
    Values are simple formulas the C++ test recomputes: w32 = arange(6)/4 - 0.5 (2x3),
    w16 = float16(arange(12)*0.125 - 0.75) (3x4), w8 = int8(arange(5)*3 - 7), shape = [2, 3]
    (int64), k = [1.5, -2.5, 4] from a Constant node, then_w = [7] inside the If's then-branch."""
    w32 = (np.arange(6, dtype=np.float32) / 4 - 0.5).reshape(2, 3)
    w16 = (np.arange(12) * 0.125 - 0.75).astype(np.float16).reshape(3, 4)
    w8 = (np.arange(5) * 3 - 7).astype(np.int8)
    then_graph = helper.make_graph(
        [helper.make_node("Identity", ["then_w"], ["then_out"])], "then",
        [], [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.array([7.0], np.float32), "then_w")])
    else_graph = helper.make_graph(
        [helper.make_node("Constant", [], ["else_out"],
                          value=numpy_helper.from_array(np.array([-7.0], np.float32), "ev"))],
        "else", [], [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [1])])
    nodes = [
        helper.make_node("Constant", [], ["k"], name="k_node",
                         value=numpy_helper.from_array(np.array([1.5, -2.5, 4.0], np.float32), "kv")),
        helper.make_node("If", ["cond"], ["branch"], name="if_node", then_branch=then_graph,
                         else_branch=else_graph),
    ]
    graph = helper.make_graph(
        nodes, "reader_mixed", [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("branch", TensorProto.FLOAT, [1]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [3])],
        [numpy_helper.from_array(w32, "w32"), numpy_helper.from_array(w16, "w16"),
         numpy_helper.from_array(w8, "w8"), numpy_helper.from_array(np.array([2, 3], np.int64), "shape")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
         os.path.join(OUT, "reader_mixed.onnx"))

    # External data: ext_w (2x3 float32) at offset 16 of ext_weights.bin; the first 16 bytes and
    # the tail are filler that must not be read.
    values = (np.arange(6, dtype=np.float32) - 2.5).reshape(2, 3)
    with open(os.path.join(OUT, "ext_weights.bin"), "wb") as f:
        f.write(b"\xAB" * 16 + values.tobytes() + b"\xCD" * 8)

    def external_model(file_name, location, offset, length):
        tensor = onnx.TensorProto()
        tensor.name = "ext_w"
        tensor.data_type = TensorProto.FLOAT
        tensor.dims.extend([2, 3])
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in [("location", location), ("offset", str(offset)), ("length", str(length))]:
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        graph = helper.make_graph(
            [helper.make_node("Relu", ["ext_w"], ["y"], name="relu")], "external", [],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], [tensor])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 7
        onnx.save(model, os.path.join(OUT, file_name))  # no checker: it would open the data file

    external_model("external.onnx", "ext_weights.bin", 16, 24)
    external_model("external_offset_past_end.onnx", "ext_weights.bin", 40, 24)
    external_model("external_huge_offset.onnx", "ext_weights.bin", 2 ** 63 - 8, 24)
    external_model("external_wrong_length.onnx", "ext_weights.bin", 16, 20)
    external_model("external_escape.onnx", "../../../etc/passwd", 0, 24)
    external_model("external_missing.onnx", "no_such_file.bin", 0, 24)

    # An op the executor does not implement (a Hardmax of a custom domain), between two it does.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="first_relu"),
         helper.make_node("Hardmax", ["r"], ["h"], name="suspicious_hardmax", domain="com.example"),
         helper.make_node("Relu", ["h"], ["y"], name="last_relu")], "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)]),
         os.path.join(OUT, "unsupported_op.onnx"))

    # A truncated model (half the MLP) and a file that is not ONNX at all.
    with open(os.path.join(ROOT, "resources", "demo", "digits_mlp.onnx"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(OUT, "not_onnx.onnx"), "wb") as f:
        f.write(b"This is a text file that happens to end in .onnx\n" * 4)


def sample_cases():
    """samples_and_labels.npz: the first 20 test images as x (20 x 64) and their labels as y."""
    x = np.load(os.path.join(ROOT, "resources", "demo", "digits_test.npy"))[:20]
    y = np.load(os.path.join(ROOT, "resources", "demo", "digits_test_labels.npy"))[:20]
    np.savez(os.path.join(OUT, "samples_and_labels.npz"), y=y, x=x)


def main():
    if os.path.isdir(OPS):
        shutil.rmtree(OPS)
    os.makedirs(OPS)
    op_cases()
    reader_cases()
    sample_cases()


if __name__ == "__main__":
    main()
