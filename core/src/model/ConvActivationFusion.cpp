#include "model/ConvActivationFusion.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace quantscope {
namespace {

bool defaultDomain(const Node& node) {
    return node.domain.empty() || node.domain == "ai.onnx";
}

// The clamp of a Relu or a Clip node as its op computes it (ElementwiseOps' clipOp, ActivationOps'
// relu), or nothing when it is another op or a bound is not one constant float value.
std::optional<kernels::FloatClamp> clampOf(const Node& node, const Graph& graph,
                                           const std::set<std::string>& graphInputs) {
    if (!defaultDomain(node))
        return std::nullopt;
    kernels::FloatClamp clamp;
    if (node.opType == "Relu") {
        clamp.low = 0.0f;
        clamp.reluRule = true;
        return clamp;
    }
    if (node.opType != "Clip")
        return std::nullopt;
    if (graph.opset < 11) {
        clamp.low = node.floatAttribute("min", -std::numeric_limits<float>::max());
        clamp.high = node.floatAttribute("max", std::numeric_limits<float>::max());
        return clamp;
    }
    for (std::size_t i : {1, 2}) {
        if (i >= node.inputs.size() || node.inputs[i].empty())
            continue;
        const auto bound = graph.initializers.find(node.inputs[i]);
        if (bound == graph.initializers.end() || graphInputs.count(node.inputs[i]) ||
            bound->second.isInteger() || bound->second.size() != 1)
            return std::nullopt;
        (i == 1 ? clamp.low : clamp.high) = static_cast<float>(bound->second.number(0));
    }
    return clamp;
}

} // namespace

std::vector<ConvActivation> findConvActivations(const Graph& graph) {
    std::set<std::string> graphInputs, graphOutputs;
    for (const auto& input : graph.inputs)
        graphInputs.insert(input.name);
    for (const auto& output : graph.outputs)
        graphOutputs.insert(output.name);
    // Every reader of every value (a node reading a value twice counts twice).
    std::map<std::string, std::vector<std::size_t>> readers;
    for (std::size_t i = 0; i < graph.nodes.size(); ++i)
        for (const auto& name : graph.nodes[i].inputs)
            if (!name.empty())
                readers[name].push_back(i);

    std::vector<ConvActivation> found;
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const Node& conv = graph.nodes[i];
        if (conv.opType != "Conv" || !defaultDomain(conv) || conv.outputs.size() != 1 ||
            conv.outputs[0].empty() || graphOutputs.count(conv.outputs[0]))
            continue;
        const auto reading = readers.find(conv.outputs[0]);
        if (reading == readers.end() || reading->second.size() != 1)
            continue;
        const std::size_t next = reading->second.front();
        const Node& activation = graph.nodes[next];
        if (next <= i || activation.inputs.empty() || activation.inputs[0] != conv.outputs[0] ||
            activation.outputs.size() != 1)
            continue;
        if (const auto clamp = clampOf(activation, graph, graphInputs))
            found.push_back({i, next, *clamp});
    }
    return found;
}

} // namespace quantscope
