#pragma once

#include "quantscope/model/Graph.h"

namespace quantscope {

// Whether every node of `graph` keeps the rows of a batch apart: each output row depends only on
// the same row of the inputs (and on constants), so a sample's outputs do not depend on its batch
// mates and the samples may be run in batches of any size, in any split, with the same results.
// Conservative: true only when every node is an op known to work row by row with attributes that
// leave the leading (batch) axis alone (element-wise ops, Conv, pools, normalizations over the
// other axes, Flatten / Softmax / Concat off axis 0, Gemm and MatMul with constant weights).
// Any other op (a Reshape, a reduction, an unknown op) makes it false.
bool keepsSamplesApart(const Graph& graph);

} // namespace quantscope
