#!/usr/bin/python3
"""Writes tests/data/model/digits_mlp_batch4.onnx: the demo MLP with its batch fixed at 4 (as
torch.onnx.export writes a model without dynamic_axes), for the Learn lessons' fixed-batch tests.

Run with Debian's interpreter: /usr/bin/python3 tools/make_fixed_batch_demo.py
"""
import os

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
model = onnx.load(os.path.join(HERE, "..", "resources", "demo", "digits_mlp.onnx"))
for value in list(model.graph.input) + list(model.graph.output):
    dim = value.type.tensor_type.shape.dim[0]
    dim.ClearField("dim_param")
    dim.dim_value = 4
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, "..", "tests", "data", "model", "digits_mlp_batch4.onnx"))
print("wrote digits_mlp_batch4.onnx")
