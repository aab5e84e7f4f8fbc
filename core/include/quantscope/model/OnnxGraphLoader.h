#pragma once

#include "quantscope/model/Graph.h"

#include <string>

namespace quantscope {

// Reads an ONNX model into a Graph: every node with its attributes, the initializers (float16,
// int8 and other dtypes converted to float32; integer tensors also kept exactly), external data
// files, and the declared inputs and outputs. Throws Error naming the file on a truncated or
// non-ONNX file, an opset below 11, or a node reading a value nothing produces.
Graph loadOnnxGraph(const std::string& path);

} // namespace quantscope
