#include "quantscope/model/Executor.h"

#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cblas.h>

#include <set>

namespace quantscope {
namespace {

bool domainSupported(const Node& node)
{
    return node.domain.empty() || node.domain == "ai.onnx" || (node.domain == "com.microsoft" && node.opType == "Gelu");
}

} // namespace

std::vector<std::string> Executor::supportedOps()
{
    return {"Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "Div", "Dropout",
            "Erf", "Flatten", "Gelu", "Gemm", "GlobalAveragePool", "Identity", "LeakyRelu", "MatMul", "MaxPool",
            "Mul", "Relu", "Reshape", "Sigmoid", "Softmax", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze"};
}

void Executor::setBlasThreads(int threads)
{
    openblas_set_num_threads(threads);
}

Executor::Executor(Graph graph)
    : m_graph(std::move(graph))
{
    for (std::size_t i = 0; i < m_graph.nodes.size(); ++i) {
        const Node& node = m_graph.nodes[i];
        if (!domainSupported(node) || ops::findOp(node.opType) == nullptr) {
            std::string list;
            for (const auto& op : supportedOps())
                list += (list.empty() ? "" : ", ") + op;
            const std::string op = node.domain.empty() || node.domain == "ai.onnx" ? node.opType : node.domain + "." + node.opType;
            throw Error(m_graph.path, "node '" + node.label() + "' uses op " + op +
                                          ", which the executor does not support (supported: " + list + ")");
        }
        for (const auto& input : node.inputs)
            m_lastUse[input] = i;
    }
}

std::vector<Value> Executor::runNode(const Node& node, const std::vector<const Value*>& inputs) const
{
    auto outputs = ops::findOp(node.opType)(node, inputs, m_graph.opset);
    if (outputs.size() < node.outputs.size())
        throw Error(ops::nodeSubject(node), "produces " + std::to_string(outputs.size()) + " outputs, the graph expects " +
                                                std::to_string(node.outputs.size()));
    return outputs;
}

std::map<std::string, Value> Executor::run(std::map<std::string, Value> inputs, const Hooks& hooks) const
{
    std::map<std::string, Value> values;
    for (const auto& declared : m_graph.inputs) {
        auto found = inputs.find(declared.name);
        if (found == inputs.end())
            throw Error("input '" + declared.name + "'", "the model needs this input but none was given");
        Value& value = found->second;
        if (declared.hasShape) {
            bool matches = declared.shape.size() == value.shape.size();
            for (std::size_t d = 0; matches && d < declared.shape.size(); ++d)
                matches = declared.shape[d] < 0 || declared.shape[d] == value.shape[d];
            if (!matches) {
                std::vector<int64_t> shown = declared.shape; // -1 = any size
                throw Error("input '" + declared.name + "'", "shape " + shapeToString(value.shape) +
                                                                 " does not match the model's " + shapeToString(shown) +
                                                                 " (-1 = any size)");
            }
        }
        if (static_cast<uint64_t>(value.data.size()) != static_cast<uint64_t>(ops::elementCount(value.shape)))
            throw Error("input '" + declared.name + "'", "holds " + std::to_string(value.data.size()) +
                                                             " values but its shape " + shapeToString(value.shape) + " needs " +
                                                             std::to_string(ops::elementCount(value.shape)));
        if (hooks.onValue)
            hooks.onValue(declared.name, value);
        values[declared.name] = std::move(value);
    }
    std::set<std::string> graphOutputs;
    for (const auto& output : m_graph.outputs)
        graphOutputs.insert(output.name);

    for (std::size_t i = 0; i < m_graph.nodes.size(); ++i) {
        const Node& node = m_graph.nodes[i];
        std::vector<const Value*> nodeInputs;
        for (const auto& name : node.inputs) {
            if (name.empty()) {
                nodeInputs.push_back(nullptr);
                continue;
            }
            auto v = values.find(name);
            if (v != values.end()) {
                nodeInputs.push_back(&v->second);
                continue;
            }
            auto init = m_graph.initializers.find(name);
            if (init == m_graph.initializers.end())
                throw Error(ops::nodeSubject(node), "input '" + name + "' has no value");
            nodeInputs.push_back(&init->second);
        }
        std::vector<Value> outputs;
        if (!hooks.replaceNode || !hooks.replaceNode(node, nodeInputs, outputs))
            outputs = runNode(node, nodeInputs);
        else if (outputs.size() < node.outputs.size()) // a replaced (quantized) node: as runNode checks
            throw Error(ops::nodeSubject(node), "produces " + std::to_string(outputs.size()) + " outputs, the graph expects " +
                                                    std::to_string(node.outputs.size()));
        for (std::size_t o = 0; o < node.outputs.size(); ++o) {
            if (node.outputs[o].empty())
                continue;
            if (hooks.onValue)
                hooks.onValue(node.outputs[o], outputs[o]);
            values[node.outputs[o]] = std::move(outputs[o]);
        }
        // Free what no later node reads.
        for (const auto& name : node.inputs) {
            const auto last = m_lastUse.find(name);
            if (last != m_lastUse.end() && last->second == i && !graphOutputs.count(name))
                values.erase(name);
        }
    }
    std::map<std::string, Value> result;
    for (const auto& output : m_graph.outputs) {
        auto v = values.find(output.name);
        if (v != values.end()) {
            result[output.name] = std::move(v->second);
        } else if (auto init = m_graph.initializers.find(output.name); init != m_graph.initializers.end()) {
            result[output.name] = init->second;
        } else {
            throw Error(m_graph.path, "graph output '" + output.name + "' was not produced");
        }
    }
    return result;
}

} // namespace quantscope
