#include "quantscope/model/BatchPlan.h"

#include "quantscope/Error.h"

namespace quantscope {

BatchPlan::BatchPlan(const Graph& graph, int64_t requestedBatch)
    : m_graph(graph), m_requested(requestedBatch) {
    if (requestedBatch < 1)
        throw Error("--batch-size", "must be 1 or more");
    std::string fixedInput;
    for (const auto& input : graph.inputs) {
        if (!input.hasShape || input.shape.empty() || input.shape[0] < 1)
            continue;
        if (m_fixed && *m_fixed != input.shape[0])
            throw Error(graph.path, "input '" + fixedInput + "' has a fixed batch of " +
                                        std::to_string(*m_fixed) + " but input '" + input.name + "' one of " +
                                        std::to_string(input.shape[0]) + "; the inputs must agree");
        m_fixed = input.shape[0];
        fixedInput = input.name;
    }
    for (const auto& node : graph.nodes) {
        if (node.opType == "Constant")
            m_constants.insert(node.outputs.begin(), node.outputs.end());
    }
}

std::map<std::string, Value> BatchPlan::inputs(const SampleSet& samples, int64_t first, int64_t n) const {
    return samples.feed(m_graph.inputs, first, n, rowsFor(n));
}

bool BatchPlan::followsBatch(const std::string& name, const Value& value, int64_t rows) const {
    return !value.shape.empty() && value.shape[0] == rows && !m_constants.count(name);
}

std::span<const float> BatchPlan::realValues(const std::string& name, const Value& value, int64_t rows,
                                             int64_t realRows) const {
    std::span<const float> all = value.data;
    if (realRows >= rows || !followsBatch(name, value, rows))
        return all;
    return all.first(all.size() / static_cast<std::size_t>(rows) * static_cast<std::size_t>(realRows));
}

void BatchPlan::dropPadding(const std::string& name, Value& value, int64_t rows, int64_t realRows) const {
    if (realRows >= rows || !followsBatch(name, value, rows))
        return;
    const std::size_t rowSize = value.data.size() / static_cast<std::size_t>(rows);
    value.data.resize(rowSize * static_cast<std::size_t>(realRows));
    if (!value.ints.empty())
        value.ints.resize(rowSize * static_cast<std::size_t>(realRows));
    value.shape[0] = realRows;
}

} // namespace quantscope
