#pragma once

#include "quantscope/model/Graph.h"
#include "quantscope/model/Value.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace quantscope {

// Runs a Graph in float32: Gemm, MatMul and Conv on OpenBLAS sgemm, the other ops in plain C++.
// Construction checks that every op is supported (an Error names the op and the node otherwise),
// so a model is refused before any sample runs.
class Executor {
public:
    // Points where quantized execution and calibration step in.
    struct Hooks {
        // Called before a node runs; returning true means it wrote the node's outputs itself.
        std::function<bool(const Node& node, const std::vector<const Value*>& inputs, std::vector<Value>& outputs)>
            replaceNode;
        // Called with every value as it appears (graph inputs, then each node's outputs in order);
        // it may change the value, e.g. to quantize an activation.
        std::function<void(const std::string& name, Value& value)> onValue;
    };

    explicit Executor(Graph graph);

    const Graph& graph() const { return m_graph; }

    // Feeds the graph inputs (every declared input, with its declared fixed dimensions) and returns
    // the graph outputs by name. Intermediate values are freed after their last use.
    std::map<std::string, Value> run(std::map<std::string, Value> inputs, const Hooks& hooks = {}) const;

    // Runs one node with the fp32 implementation (used by quantized execution for the ops it does not
    // replace, and to compare one layer in isolation).
    std::vector<Value> runNode(const Node& node, const std::vector<const Value*>& inputs) const;

    // The supported op types, sorted (for messages and documentation).
    static std::vector<std::string> supportedOps();

    // Threads OpenBLAS may use for Gemm, MatMul and Conv (process-wide; 1 for single-thread figures).
    static void setBlasThreads(int threads);

private:
    Graph m_graph;
    std::map<std::string, std::size_t> m_lastUse; // value name -> index of the last node reading it
};

} // namespace quantscope
