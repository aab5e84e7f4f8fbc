#include "quantscope/model/SampleIndependence.h"

#include <algorithm>
#include <set>
#include <string>

namespace quantscope {
namespace {

// Ops whose every output row is computed from the same row of their inputs whatever their
// attributes (broadcasting against constants included).
const std::set<std::string>& rowWiseOps() {
    static const std::set<std::string> ops{
        // element-wise
        "Abs", "Add", "Cast", "Ceil", "Clip", "Div", "Dropout", "Elu", "Erf", "Exp", "Floor", "Gelu",
        "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "Log", "Max", "Min", "Mish", "Mul", "Neg", "Pow",
        "PRelu", "Reciprocal", "Relu", "Round", "Selu", "Sigmoid", "Sign", "Softplus", "Softsign", "Sqrt",
        "Sub", "Sum", "Tanh", "ThresholdedRelu",
        // windows over the spatial axes, normalizations per sample or with constant statistics
        "AveragePool", "BatchNormalization", "Conv", "ConvTranspose", "GlobalAveragePool", "GlobalLpPool",
        "GlobalMaxPool", "InstanceNormalization", "LpPool", "LRN", "MaxPool",
        // quantization with constant parameters
        "DequantizeLinear", "QuantizeLinear"};
    return ops;
}

// The op's axis attribute (default `fallback`) is not the leading one. Negative axes count from
// the end: -1 is never the batch axis of a batched tensor of rank 2 or more.
bool offLeadingAxis(const Node& node, int64_t fallback) {
    return node.intAttribute("axis", fallback) != 0;
}

bool constant(const Graph& graph, const std::string& name) {
    return name.empty() || graph.initializers.count(name) > 0;
}

bool keepsRowsApart(const Graph& graph, const Node& node) {
    if (!node.domain.empty() && node.domain != "ai.onnx")
        return false;
    const std::string& op = node.opType;
    if (rowWiseOps().count(op) > 0)
        return true;
    if (op == "Flatten")
        return node.intAttribute("axis", 1) >= 1;
    if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax")
        return offLeadingAxis(node, graph.opset >= 13 ? -1 : 1);
    if (op == "Concat" || op == "LayerNormalization")
        return offLeadingAxis(node, -1);
    if (op == "Gemm") // row i of A (not transposed) times constant B, plus constant C
        return node.intAttribute("transA", 0) == 0 && node.inputs.size() >= 2 &&
               constant(graph, node.inputs[1]) && (node.inputs.size() < 3 || constant(graph, node.inputs[2]));
    if (op == "MatMul")
        return node.inputs.size() == 2 && constant(graph, node.inputs[1]);
    if (op == "Transpose") {
        const std::vector<int64_t> perm = node.intsAttribute("perm", {});
        return !perm.empty() && perm.front() == 0;
    }
    return false;
}

} // namespace

bool keepsSamplesApart(const Graph& graph) {
    return std::all_of(graph.nodes.begin(), graph.nodes.end(),
                       [&graph](const Node& node) { return keepsRowsApart(graph, node); });
}

} // namespace quantscope
