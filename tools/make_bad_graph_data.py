#!/usr/bin/python3
"""Generates tests/data/model/bad/: small ONNX graphs that the executor must refuse with a clear
error naming the node (unknown ops, a cycle, a missing value, impossible shapes, an index out of
range, an overflowing shape, an opset above 21).

    /usr/bin/python3 tools/make_bad_graph_data.py      # python3-onnx
"""

import os

import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "model", "bad")


def save(name, nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="quantscope-tests")
    model.ir_version = 8
    onnx.save(model, os.path.join(OUT, name + ".onnx"))


def tensor(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def main():
    os.makedirs(OUT, exist_ok=True)
    x = tensor("x", [2, 3])
    y = tensor("y", [2, 3])
    # Two unsupported ops (and one unknown domain) among supported ones: all three are listed.
    save("unknown_ops", [
        helper.make_node("Relu", ["x"], ["a"], name="fine_relu"),
        helper.make_node("FancyOp", ["a"], ["b"], name="fancy_one"),
        helper.make_node("Abs", ["b"], ["c"], name="fine_abs"),
        helper.make_node("OtherMadeUpOp", ["c"], ["d"], name="fancy_two"),
        helper.make_node("Custom", ["d"], ["y"], name="custom_domain", domain="com.example"),
    ], [x], [y])
    # a -> b -> a: neither node can run first.
    save("cycle", [
        helper.make_node("Relu", ["x"], ["start"], name="entry"),
        helper.make_node("Add", ["start", "loop_b"], ["loop_a"], name="cycle_first"),
        helper.make_node("Relu", ["loop_a"], ["loop_b"], name="cycle_second"),
        helper.make_node("Identity", ["loop_b"], ["y"], name="exit"),
    ], [x], [y])
    save("missing_value", [
        helper.make_node("Add", ["x", "nowhere"], ["y"], name="reads_nothing"),
    ], [x], [y])
    save("reshape_impossible", [
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="bad_reshape"),
    ], [x], [tensor("y", None)], [helper.make_tensor("shape", TensorProto.INT64, [2], [4, 2])])
    save("gather_out_of_range", [
        helper.make_node("Gather", ["x", "indices"], ["y"], name="bad_gather", axis=1),
    ], [x], [tensor("y", None)], [helper.make_tensor("indices", TensorProto.INT64, [2], [0, 3])])
    # ConstantOfShape of [2^40, 2^40] overflows the element count.
    save("shape_overflow", [
        helper.make_node("Shape", ["x"], ["s"], name="shape_of_x"),
        helper.make_node("Mul", ["s", "huge"], ["big"], name="scale_shape"),
        helper.make_node("ConstantOfShape", ["big"], ["y"], name="huge_fill"),
    ], [x], [tensor("y", None)], [helper.make_tensor("huge", TensorProto.INT64, [2], [1 << 40, 1 << 40])])
    save("opset_too_new", [
        helper.make_node("Relu", ["x"], ["y"], name="relu"),
    ], [x], [y], opset=22)


if __name__ == "__main__":
    main()
