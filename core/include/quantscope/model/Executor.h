#pragma once

#include "quantscope/kernels/FloatDepthwisePlane.h"
#include "quantscope/model/Graph.h"
#include "quantscope/model/Value.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace quantscope {

// Runs a Graph of opset 7 to 21: Gemm, MatMul and Conv on OpenBLAS sgemm, the other ops in plain
// C++, float tensors in float32 and integer / Bool tensors exactly. Construction checks the whole
// graph (an Error lists every unsupported node, op and opset at once), so a model is refused
// before any sample runs, then folds the nodes whose inputs are all constant into initializers.
class Executor {
public:
    // Points where quantized execution and calibration step in.
    struct Hooks {
        // Called before a node runs; returning true means it wrote the node's outputs itself.
        std::function<bool(const Node& node, const std::vector<const Value*>& inputs,
                           std::vector<Value>& outputs)>
            replaceNode;
        // Called with every value as it appears (graph inputs, then each node's outputs in order);
        // it may change the value, e.g. to quantize an activation.
        std::function<void(const std::string& name, Value& value)> onValue;
    };

    explicit Executor(Graph graph);
    ~Executor();
    // The plan points into the graph: an Executor stays where it was built.
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    const Graph& graph() const { return m_graph; }

    // Feeds the graph inputs (every declared input, with its declared fixed dimensions) and returns
    // the graph outputs by name. Runs the plan compiled at construction: values live in slots by
    // index and each is freed after its last reader. Safe to call from several threads at once.
    std::map<std::string, Value> run(std::map<std::string, Value> inputs, const Hooks& hooks = {}) const;

    // The fed inputs checked against the declared ones (every input present, fixed dimensions,
    // element counts) and converted to the declared element types, in declaration order.
    std::vector<Value> checkedInputs(std::map<std::string, Value> inputs) const;

    // Runs one node with the fp32 implementation (used by quantized execution for the ops it does not
    // replace, and to compare one layer in isolation).
    std::vector<Value> runNode(const Node& node, const std::vector<const Value*>& inputs) const;

    // One supported op of the default domain and the opsets it runs at.
    struct SupportedOp {
        std::string op;
        int64_t since = 0;
        int64_t until = 0;
    };
    // The supported ops, sorted by name (for messages, documentation and `quantscope-cli ops`).
    static std::vector<SupportedOp> supportedOps();
    // The opsets of the default domain every supported op runs at. A graph of opset 1 to 6 runs
    // when each of its ops is listed from that opset (ops whose definition has not changed since).
    static constexpr int64_t kMinOpset = 7;
    static constexpr int64_t kMaxOpset = 21;
    // Every reason `graph` cannot run (an opset outside 1..21, each node whose op, domain or op
    // version is not supported), one line each; empty when it can run.
    static std::vector<std::string> unsupportedParts(const Graph& graph);

    // Threads OpenBLAS may use for Gemm, MatMul and Conv (process-wide; 1 for single-thread figures).
    static void setBlasThreads(int threads);

private:
    // Where a node input comes from: the slot of a value produced before the node, else the
    // initializer of that name; neither for an absent optional input (or a name with no value,
    // which run() reports).
    struct PlannedInput {
        int slot = -1;
        const Value* constant = nullptr;
    };
    // An op's implementation (ops::OpFunction), found once per node by the plan.
    using Implementation = std::vector<Value> (*)(const Node& node, const std::vector<const Value*>& inputs,
                                                  int64_t opset);
    struct PlannedNode {
        Implementation implementation = nullptr;
        std::vector<PlannedInput> inputs; // per node input
        std::vector<int> outputs;         // per node output (-1 when absent)
        std::vector<int> release;         // slots no later node reads, freed after this node
        // Input 0's slot when this node is its only and last reader and it is no graph output:
        // the op may take its storage (ops::DonatedInput).
        int lend = -1;
    };

    void foldConstants();
    void compilePlan();
    std::vector<Value> runNode(const Node& node, Implementation implementation,
                               const std::vector<const Value*>& inputs) const;
    std::vector<Value> runConvWithActivation(std::size_t convIndex,
                                             const std::vector<const Value*>& inputs) const;

    // A Relu / Clip that runs inside the Conv before it when run() has no hooks (nothing can then
    // see the Conv's own output): the activation's node index and what it computes.
    struct FusedActivation {
        std::size_t node = 0;
        kernels::FloatClamp clamp;
    };

    Graph m_graph;
    // The plan: one slot per value name (graph inputs and node outputs), per node what it reads,
    // writes and frees, and where the graph outputs are.
    std::size_t m_slotCount = 0;
    std::vector<int> m_inputSlots;                                 // per graph input
    std::vector<PlannedNode> m_plannedNodes;                       // per node
    std::vector<PlannedInput> m_outputs;                           // per graph output
    std::vector<std::optional<FusedActivation>> m_fusedActivation; // per node: set on such Convs
    std::vector<bool> m_runInConv;                                 // per node: true on their activations
};

} // namespace quantscope
