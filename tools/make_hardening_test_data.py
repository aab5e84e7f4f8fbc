#!/usr/bin/python3
"""Generates tests/data/hardening/: small hostile ONNX graphs for the loader's and the executor's
checks (tests/core/tst_hardening_cli.cpp, tst_hardening_model.cpp).

    /usr/bin/python3 tools/make_hardening_test_data.py      # python3-numpy, python3-onnx

Each graph is valid protobuf but breaks a rule of ONNX graphs that the loader or an op must refuse
with an error naming the value or the node. The ONNX checker would refuse most of them, so they are
saved unchecked.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "hardening")


def save(graph, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, os.path.join(OUT, name))


def x_input():
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])


def weights():
    return numpy_helper.from_array((np.arange(12, dtype=np.float32) / 10 - 0.5).reshape(4, 3), "W")


def duplicate_outputs():
    """x [N, 4] -> MatMul W [4, 3] -> y, and the graph lists y twice as an output."""
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], "duplicate_output",
                              [x_input()], [y, y], [weights()])
    save(graph, "duplicate_graph_output.onnx")


def produced_twice():
    """Two nodes write the value h: the second would silently replace the first."""
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
                               helper.make_node("Relu", ["x"], ["h"], name="relu_again")],
                              "produced_twice", [x_input()],
                              [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, 3])], [weights()])
    save(graph, "value_produced_twice.onnx")


def empty(name, shape):
    """An initializer with a zero dimension: no data, but dimensions whose product overflows."""
    return helper.make_tensor(name, TensorProto.FLOAT, list(shape), [])


def overflow_cases():
    """Zero-element operands whose output size overflows int64 (the fp32 ops must refuse them):
    Gemm [2^40, 0] x [0, 2^40]; MatMul with batch 2^21 x 2^21 of 2^21 x 2^21 results;
    GlobalAveragePool of [1, 0, 2^40, 2^40] (2^80 spatial positions). The graph input x is unused."""
    big = 1 << 40
    cases = {
        "gemm_overflow.onnx": ([empty("A", (big, 0)), empty("B", (0, big))], "Gemm", ["A", "B"]),
        "matmul_overflow.onnx": ([empty("A", (1 << 21, 1, 1 << 21, 0)), empty("B", (1, 1 << 21, 0, 1 << 21))],
                                 "MatMul", ["A", "B"]),
        "pool_overflow.onnx": ([empty("A", (1, 0, big, big))], "GlobalAveragePool", ["A"]),
    }
    for name, (inits, op, inputs) in cases.items():
        graph = helper.make_graph([helper.make_node(op, inputs, ["y"], name="big")], name[:-5], [x_input()],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        save(graph, name)


def conv_cases():
    """Convs on x [N, 1, 4, 4] whose attributes disagree with their weights W [2, 1, 3, 3]: the fp32
    Conv refuses them, and the quantized (static) Conv must refuse them too rather than read past
    its buffers. conv_kernel_mismatch: kernel_shape [2, 2]; conv_bias_mismatch: 3 bias values for 2
    output channels; conv_two_outputs: the node lists a second output no Conv produces."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])
    w = numpy_helper.from_array((np.arange(18, dtype=np.float32) / 9 - 1).reshape(2, 1, 3, 3), "W")
    b2 = numpy_helper.from_array(np.array([0.5, -0.5], np.float32), "B")
    b3 = numpy_helper.from_array(np.array([0.5, -0.5, 0.25], np.float32), "B")
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    cases = {
        "conv_kernel_mismatch.onnx": (helper.make_node("Conv", ["x", "W", "B"], ["y"], name="conv",
                                                       kernel_shape=[2, 2]), b2, [y]),
        "conv_bias_mismatch.onnx": (helper.make_node("Conv", ["x", "W", "B"], ["y"], name="conv"), b3, [y]),
        "conv_two_outputs.onnx": (helper.make_node("Conv", ["x", "W", "B"], ["y", "extra"], name="conv"), b2,
                                  [y, helper.make_tensor_value_info("extra", TensorProto.FLOAT, None)]),
    }
    for name, (node, bias, outputs) in cases.items():
        save(helper.make_graph([node], name[:-5], [x], outputs, [w, bias]), name)


def matmul_two_outputs():
    """x [N, 4] -> MatMul W [4, 3] listing two outputs: dynamic mode replaces the node by its
    integer version, which must be refused like the fp32 MatMul (it produces one output)."""
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y", "extra"], name="mm")], "two_outputs",
                              [x_input()], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              [weights()])
    save(graph, "matmul_two_outputs.onnx")


def main():
    os.makedirs(OUT, exist_ok=True)
    duplicate_outputs()
    produced_twice()
    overflow_cases()
    conv_cases()
    matmul_two_outputs()


if __name__ == "__main__":
    main()
