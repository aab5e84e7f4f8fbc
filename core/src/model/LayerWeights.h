#pragma once

// Internal to core: how QuantizedModel finds its layers and quantizes and packs each layer's
// weights for every kernel route that can run it.

#include "quantscope/model/Graph.h"
#include "quantscope/model/ModelQuantConfig.h"
#include "quantscope/model/QuantizedModel.h"

#include <optional>
#include <utility>
#include <vector>

namespace quantscope {

// How a layer's weight is laid out: the 2-D view it is quantized as, and which axis of the stored
// tensor holds the outputs and which the inputs.
struct WeightView {
    std::vector<int64_t> view;
    int outAxis = 0;
    int inAxis = 1;
    bool transposed = false; // stored K x N rather than N x K
};

// The view of a Gemm / MatMul (2-D weights) or Conv (4-D weights); nullopt for other ranks.
std::optional<WeightView> weightViewOf(const Node& node, const Value& weights);

// Whether `node` is a layer QuantizedModel quantizes: a Gemm, MatMul or Conv whose weights
// (input 1) are a float initializer of a shape weightViewOf() takes. Weights computed at run
// time stay fp32.
bool isQuantizedLayer(const Graph& graph, const Node& node);

// The spec and fixed parameters the layer's weight gets: its entry in config.params when there
// is one, else config.weight with the axis on the layer's outputs (per channel) or inputs (per
// group). Throws Error when the spec does not fit the weight.
std::pair<QuantSpec, std::optional<QParams>>
weightSettings(const Graph& graph, const QuantizedModel::Layer& layer, const ModelQuantConfig& config);

// Quantizes the layer's weight with its requestedSpec / requestedParams and packs it for every
// route that can run it: int8 rows per group (integerPath), the direct convolution's HWC order,
// depthwise rows, int4 blocks along K. Returns the dequantized weights in the stored shape (what
// fp32 ops see).
Value quantizeLayerWeights(const Graph& graph, QuantizedModel::Layer& layer);

} // namespace quantscope
