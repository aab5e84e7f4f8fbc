#pragma once

#include "quantscope/model/Graph.h"

#include <string>

namespace quantscope {

// Reads an ONNX model into a Graph: every node with its attributes, the initializers (floating
// types as float32, integer and bool types exactly, each keeping its element type), external
// data files, and the declared inputs and outputs. Nodes are put in topological order. Throws
// Error naming the file on a truncated or non-ONNX file, a node reading a value nothing
// produces, or nodes that form a cycle (naming them). Opsets are judged by the Executor.
Graph loadOnnxGraph(const std::string& path);

// Reads one serialized ONNX TensorProto (the `.pb` files of ONNX's test data) as a Value.
Value loadOnnxTensor(const std::string& path);

} // namespace quantscope
