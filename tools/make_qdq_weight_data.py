#!/usr/bin/python3
"""Writes tests/data/model/qdq_weights.onnx: a small model whose weights are stored the way ONNX
Runtime's quantizer stores them (an int8 / uint8 initializer read by DequantizeLinear with stored
scale and zero point initializers), and tests/data/model/qdq_weights_expected.npz with each
weight dequantized by numpy, (q - zero_point) * scale, for tst_io_onnx_qdq.

- fc.weight_quantized: int8 [4, 3], per-axis scale / zero point along axis 0 (opset 13)
- bias_quantized: uint8 [4], per-tensor scale 0.5 and zero point 128
- plain_int8: int8 [2] read by Add, not by DequantizeLinear (stays as stored)

Run with Debian's interpreter: /usr/bin/python3 tools/make_qdq_weight_data.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "model")

rng = np.random.default_rng(20261130)
weight_q = rng.integers(-128, 128, size=(4, 3), dtype=np.int8)
weight_scale = np.array([0.01, 0.02, 0.005, 0.1], dtype=np.float32)
weight_zero = np.array([0, 3, -2, 0], dtype=np.int8)
bias_q = np.array([0, 128, 200, 255], dtype=np.uint8)
bias_scale = np.array(0.5, dtype=np.float32)
bias_zero = np.array(128, dtype=np.uint8)
plain = np.array([7, -9], dtype=np.int8)

initializers = [
    numpy_helper.from_array(weight_q, "fc.weight_quantized"),
    numpy_helper.from_array(weight_scale, "fc.weight_scale"),
    numpy_helper.from_array(weight_zero, "fc.weight_zero_point"),
    numpy_helper.from_array(bias_q, "bias_quantized"),
    numpy_helper.from_array(bias_scale, "bias_scale"),
    numpy_helper.from_array(bias_zero, "bias_zero_point"),
    numpy_helper.from_array(plain, "plain_int8"),
]
nodes = [
    helper.make_node("DequantizeLinear", ["fc.weight_quantized", "fc.weight_scale", "fc.weight_zero_point"],
                     ["fc.weight"], name="fc.weight_DequantizeLinear", axis=0),
    helper.make_node("DequantizeLinear", ["bias_quantized", "bias_scale", "bias_zero_point"], ["bias"],
                     name="bias_DequantizeLinear"),
    helper.make_node("Gemm", ["x", "fc.weight", "bias"], ["y"], name="fc", transB=1),
    helper.make_node("Add", ["small", "plain_int8"], ["small_out"], name="plain_add"),
]
graph = helper.make_graph(
    nodes, "qdq_weights",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3]),
     helper.make_tensor_value_info("small", TensorProto.INT8, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4]),
     helper.make_tensor_value_info("small_out", TensorProto.INT8, [2])],
    initializers)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_qdq_weight_data")
onnx.checker.check_model(model)
onnx.save(model, os.path.join(OUT, "qdq_weights.onnx"))

weight = (weight_q.astype(np.float32) - weight_zero.astype(np.float32)[:, None]) * weight_scale[:, None]
bias = (bias_q.astype(np.float32) - np.float32(bias_zero)) * bias_scale
np.savez(os.path.join(OUT, "qdq_weights_expected.npz"), **{"fc.weight_quantized": weight, "bias_quantized": bias})
print("wrote qdq_weights.onnx and qdq_weights_expected.npz")
