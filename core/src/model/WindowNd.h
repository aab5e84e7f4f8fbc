#pragma once

// Internal to core: Conv, ConvTranspose and the pools over three or more spatial axes, which the
// 2-D paths hand over to (plain loops; 1-D and 2-D keep their faster paths).

#include "quantscope/model/Node.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// The window geometry of every spatial axis of an N x C x spatial... input, by the same rules as
// convGeometry (kernel_shape, or `kernelFromWeights` when the node has none).
struct WindowGeometry {
    std::vector<int64_t> input, kernel, strides, dilations, padBegin, padEnd, output;
};
WindowGeometry windowGeometry(const Node& node, const std::vector<int64_t>& inputShape,
                              const std::vector<int64_t>& kernelFromWeights, bool ceilMode);

// MaxPool (`wantMax`, with its Indices output) or AveragePool.
std::vector<Value> poolNd(const Node& node, const Value& x, bool wantMax);
std::vector<Value> convNd(const Node& node, const Value& x, const Value& w, const Value* bias);
std::vector<Value> convTransposeNd(const Node& node, const Value& x, const Value& w, const Value* bias);

} // namespace quantscope
