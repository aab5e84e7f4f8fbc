#include "quantscope/model/Executor.h"

#include "model/ConvActivationFusion.h"
#include "model/FusedClampOffer.h"
#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/model/OpProfile.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <set>
#include <unordered_map>

namespace quantscope {
namespace {

static_assert(Executor::kMinOpset == ops::kMinOpset && Executor::kMaxOpset == ops::kMaxOpset);

bool defaultDomain(const Node& node) {
    return node.domain.empty() || node.domain == "ai.onnx";
}

// The implementation of a node at the graph's opset; com.microsoft.Gelu is the same function as
// the default domain's Gelu of opset 20.
ops::OpFunction implementationOf(const Node& node, int64_t opset) {
    if (defaultDomain(node))
        return ops::findOp(node.opType, opset);
    if (node.domain == "com.microsoft" && node.opType == "Gelu")
        return ops::findOp("Gelu", 20);
    return nullptr;
}

// A value fed as float32 (samples) converted to the integer type the graph declares for it.
void convertToDeclared(const GraphValueInfo& declared, Value& value) {
    if (declared.dtype == value.dtype)
        return;
    if (!dtypeIsFloat(declared.dtype) && !value.isInteger()) {
        value.ints.assign(value.data.begin(), value.data.end());
        for (auto& v : value.ints)
            v = ops::wrapInteger(declared.dtype, v);
        value.data.clear();
    } else if (dtypeIsFloat(declared.dtype) && value.isInteger()) {
        value.data.assign(value.ints.begin(), value.ints.end());
        value.ints.clear();
    }
    value.dtype = declared.dtype;
}

} // namespace

std::vector<Executor::SupportedOp> Executor::supportedOps() {
    std::vector<SupportedOp> result;
    for (const auto& entry : ops::opTable())
        result.push_back({entry.op, entry.since, entry.until});
    return result;
}

std::vector<std::string> Executor::unsupportedParts(const Graph& graph) {
    std::vector<std::string> problems;
    if (graph.opset < ops::kOldestOpset || graph.opset > kMaxOpset) {
        problems.push_back("opset " + std::to_string(graph.opset) +
                           " of the default domain is not supported (allowed: " + std::to_string(kMinOpset) +
                           " to " + std::to_string(kMaxOpset) +
                           "; older opsets for the ops unchanged since)");
        return problems; // no op can be judged at an unknown opset
    }
    for (const auto* list : {&graph.inputs, &graph.outputs}) {
        for (const auto& value : *list) {
            if (!value.isTensor)
                problems.push_back("graph " + std::string(list == &graph.inputs ? "input" : "output") + " '" +
                                   value.name +
                                   "' is not a tensor (sequences, maps and optionals are not supported)");
        }
    }
    for (const Node& node : graph.nodes) {
        if (implementationOf(node, graph.opset) != nullptr)
            continue;
        const std::string op = defaultDomain(node) ? node.opType : node.domain + "." + node.opType;
        std::string reason = "is not supported";
        if (defaultDomain(node)) {
            for (const auto& entry : ops::opTable()) {
                if (entry.op == node.opType)
                    reason = "is supported only at opsets " + std::to_string(entry.since) + " to " +
                             std::to_string(entry.until) + ", the model has " + std::to_string(graph.opset);
            }
        }
        problems.push_back("node '" + node.label() + "' uses op " + op + ", which " + reason);
    }
    return problems;
}

void Executor::setBlasThreads(int threads) {
    openblas_set_num_threads(threads);
}

Executor::Executor(Graph graph) : m_graph(std::move(graph)) {
    const auto problems = unsupportedParts(m_graph);
    if (!problems.empty()) {
        std::string message = "the executor cannot run this model (" + std::to_string(problems.size()) +
                              " problem" + (problems.size() == 1 ? "" : "s") + "):";
        for (const auto& problem : problems)
            message += "\n  " + problem;
        throw Error(m_graph.path, message);
    }
    foldConstants();
    compilePlan();
    m_fusedActivation.resize(m_graph.nodes.size());
    m_runInConv.assign(m_graph.nodes.size(), false);
    for (const ConvActivation& fused : findConvActivations(m_graph)) {
        m_fusedActivation[fused.conv] = FusedActivation{fused.activation, fused.clamp};
        m_runInConv[fused.activation] = true;
    }
}

Executor::~Executor() = default;

void Executor::compilePlan() {
    std::unordered_map<std::string, int> slotOf;
    std::vector<bool> defined; // per slot: a graph input or the output of an earlier node
    const auto slotFor = [&](const std::string& name) {
        const auto [found, added] = slotOf.try_emplace(name, static_cast<int>(defined.size()));
        if (added)
            defined.push_back(false);
        return found->second;
    };
    std::set<std::string> graphOutputs;
    for (const auto& output : m_graph.outputs)
        graphOutputs.insert(output.name);
    std::unordered_map<std::string, std::size_t> lastUse; // value name -> index of the last node reading it
    for (std::size_t i = 0; i < m_graph.nodes.size(); ++i)
        for (const auto& input : m_graph.nodes[i].inputs)
            lastUse[input] = i;

    for (const auto& input : m_graph.inputs) {
        m_inputSlots.push_back(slotFor(input.name));
        defined[static_cast<std::size_t>(m_inputSlots.back())] = true;
    }
    m_plannedNodes.resize(m_graph.nodes.size());
    for (std::size_t i = 0; i < m_graph.nodes.size(); ++i) {
        const Node& node = m_graph.nodes[i];
        PlannedNode& planned = m_plannedNodes[i];
        planned.implementation = implementationOf(node, m_graph.opset);
        // A name reads the value produced before this node, else the initializer of that name.
        for (const auto& name : node.inputs) {
            PlannedInput input;
            if (!name.empty()) {
                const auto slot = slotOf.find(name);
                if (slot != slotOf.end() && defined[static_cast<std::size_t>(slot->second)])
                    input.slot = slot->second;
                if (const auto init = m_graph.initializers.find(name); init != m_graph.initializers.end())
                    input.constant = &init->second;
            }
            planned.inputs.push_back(input);
        }
        for (const auto& name : node.inputs) {
            const auto slot = slotOf.find(name);
            if (slot != slotOf.end() && lastUse[name] == i && !graphOutputs.count(name) &&
                std::find(planned.release.begin(), planned.release.end(), slot->second) ==
                    planned.release.end())
                planned.release.push_back(slot->second);
        }
        if (!node.inputs.empty() && planned.inputs[0].slot >= 0 && lastUse[node.inputs[0]] == i &&
            !graphOutputs.count(node.inputs[0]) &&
            std::count(node.inputs.begin(), node.inputs.end(), node.inputs[0]) == 1)
            planned.lend = planned.inputs[0].slot;
        for (const auto& name : node.outputs) {
            const int slot = name.empty() ? -1 : slotFor(name);
            planned.outputs.push_back(slot);
            if (slot < 0)
                continue;
            defined[static_cast<std::size_t>(slot)] = true;
            // An output nothing reads (a Dropout mask, MaxPool's indices) is freed at once.
            if (!lastUse.count(name) && !graphOutputs.count(name))
                planned.release.push_back(slot);
        }
    }
    for (const auto& output : m_graph.outputs) {
        PlannedInput planned;
        if (const auto slot = slotOf.find(output.name);
            slot != slotOf.end() && defined[static_cast<std::size_t>(slot->second)])
            planned.slot = slot->second;
        if (const auto init = m_graph.initializers.find(output.name); init != m_graph.initializers.end())
            planned.constant = &init->second;
        m_outputs.push_back(planned);
    }
    m_slotCount = defined.size();
}

void Executor::foldConstants() {
    // Nodes whose inputs are all initializers (or absent) run once here and become initializers;
    // the graph is in topological order, so one pass folds whole constant chains.
    std::set<std::string> graphInputs;
    for (const auto& input : m_graph.inputs)
        graphInputs.insert(input.name);
    std::vector<Node> kept;
    for (Node& node : m_graph.nodes) {
        bool constant = !node.outputs.empty();
        std::vector<const Value*> inputs;
        for (const auto& name : node.inputs) {
            if (name.empty()) {
                inputs.push_back(nullptr);
                continue;
            }
            const auto found = m_graph.initializers.find(name);
            if (found == m_graph.initializers.end() || graphInputs.count(name)) {
                constant = false;
                break;
            }
            inputs.push_back(&found->second);
        }
        if (constant) {
            std::vector<Value> outputs = runNode(node, inputs);
            for (std::size_t o = 0; o < node.outputs.size(); ++o) {
                if (!node.outputs[o].empty())
                    m_graph.initializers[node.outputs[o]] = std::move(outputs[o]);
            }
            continue;
        }
        kept.push_back(std::move(node));
    }
    const bool folded = kept.size() != m_graph.nodes.size();
    m_graph.nodes = std::move(kept);
    if (!folded)
        return;
    // Drop the constants only folded nodes read (what is left is what runs, and what is counted).
    std::set<std::string> used;
    for (const auto& node : m_graph.nodes)
        used.insert(node.inputs.begin(), node.inputs.end());
    for (const auto& output : m_graph.outputs)
        used.insert(output.name);
    std::erase_if(m_graph.initializers, [&](const auto& entry) { return !used.count(entry.first); });
}

std::vector<Value> Executor::runNode(const Node& node, const std::vector<const Value*>& inputs) const {
    return runNode(node, implementationOf(node, m_graph.opset), inputs);
}

std::vector<Value> Executor::runNode(const Node& node, Implementation implementation,
                                     const std::vector<const Value*>& inputs) const {
    if (implementation == nullptr)
        throw Error(ops::nodeSubject(node), "is not supported at opset " + std::to_string(m_graph.opset));
    std::vector<Value> outputs;
    try {
        outputs = implementation(node, inputs, m_graph.opset);
    } catch (const Error& error) {
        // Helpers such as the shape checks do not know the node: name it.
        if (error.subject().rfind("node '", 0) == 0)
            throw;
        throw Error(ops::nodeSubject(node), error.what());
    } catch (const std::bad_alloc&) {
        throw Error(ops::nodeSubject(node), "not enough memory for the result");
    }
    if (outputs.size() < node.outputs.size())
        throw Error(ops::nodeSubject(node), "produces " + std::to_string(outputs.size()) +
                                                " outputs, the graph expects " +
                                                std::to_string(node.outputs.size()));
    return outputs;
}

std::vector<Value> Executor::runConvWithActivation(std::size_t convIndex,
                                                   const std::vector<const Value*>& inputs) const {
    const FusedActivation& fused = *m_fusedActivation[convIndex];
    std::vector<Value> convOutputs;
    {
        const ops::FusedClampOffer offer(fused.clamp);
        convOutputs = runNode(m_graph.nodes[convIndex], m_plannedNodes[convIndex].implementation, inputs);
        if (offer.taken())
            return convOutputs;
    }
    // This Conv did not apply the clamp (another element type, three spatial axes): run the
    // activation node on its output, lent so that it may work in place. Its other inputs are
    // constants (findConvActivations).
    const Node& activation = m_graph.nodes[fused.node];
    const PlannedNode& planned = m_plannedNodes[fused.node];
    std::vector<const Value*> activationInputs{&convOutputs[0]};
    for (std::size_t i = 1; i < planned.inputs.size(); ++i)
        activationInputs.push_back(planned.inputs[i].constant);
    const ops::DonatedInput lend(&convOutputs[0]);
    return runNode(activation, planned.implementation, activationInputs);
}

std::vector<Value> Executor::checkedInputs(std::map<std::string, Value> inputs) const {
    std::vector<Value> checked;
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
                throw Error("input '" + declared.name + "'",
                            "shape " + shapeToString(value.shape) + " does not match the model's " +
                                shapeToString(declared.shape) + " (-1 = any size)");
            }
        }
        if (static_cast<uint64_t>(value.size()) != static_cast<uint64_t>(ops::elementCount(value.shape)))
            throw Error("input '" + declared.name + "'", "holds " + std::to_string(value.size()) +
                                                             " values but its shape " +
                                                             shapeToString(value.shape) + " needs " +
                                                             std::to_string(ops::elementCount(value.shape)));
        convertToDeclared(declared, value);
        checked.push_back(std::move(value));
    }
    return checked;
}

std::map<std::string, Value> Executor::run(std::map<std::string, Value> inputs, const Hooks& hooks) const {
    // The values of this run by slot (local: run() may be called from several threads at once).
    std::vector<Value> values(m_slotCount);
    std::vector<char> present(m_slotCount, 0);
    const auto release = [&](int slot) {
        values[static_cast<std::size_t>(slot)] = Value();
        present[static_cast<std::size_t>(slot)] = 0;
    };
    std::vector<Value> fed = checkedInputs(std::move(inputs));
    for (std::size_t i = 0; i < fed.size(); ++i) {
        if (hooks.onValue)
            hooks.onValue(m_graph.inputs[i].name, fed[i]);
        const auto slot = static_cast<std::size_t>(m_inputSlots[i]);
        values[slot] = std::move(fed[i]);
        present[slot] = 1;
    }

    // Without hooks nobody sees a Conv's own output, so a Relu / Clip after it runs inside it.
    const bool fuse = !hooks.replaceNode && !hooks.onValue;
    OpProfile* const profile = OpProfile::active();
    std::vector<const Value*> nodeInputs;
    for (std::size_t i = 0; i < m_graph.nodes.size(); ++i) {
        if (fuse && m_runInConv[i])
            continue; // ran with its Conv
        const Node& node = m_graph.nodes[i];
        const PlannedNode& planned = m_plannedNodes[i];
        const std::size_t activationIndex = fuse && m_fusedActivation[i] ? m_fusedActivation[i]->node : i;
        const Node* const activation = activationIndex != i ? &m_graph.nodes[activationIndex] : nullptr;
        const auto started =
            profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        nodeInputs.clear();
        for (std::size_t k = 0; k < planned.inputs.size(); ++k) {
            const PlannedInput& input = planned.inputs[k];
            if (input.slot >= 0 && present[static_cast<std::size_t>(input.slot)])
                nodeInputs.push_back(&values[static_cast<std::size_t>(input.slot)]);
            else if (input.constant != nullptr || node.inputs[k].empty())
                nodeInputs.push_back(input.constant);
            else
                throw Error(ops::nodeSubject(node), "input '" + node.inputs[k] + "' has no value");
        }
        std::vector<Value> outputs;
        if (!hooks.replaceNode || !hooks.replaceNode(node, nodeInputs, outputs)) {
            const ops::DonatedInput lend(planned.lend >= 0 ? &values[static_cast<std::size_t>(planned.lend)]
                                                           : nullptr);
            outputs = activation ? runConvWithActivation(i, nodeInputs)
                                 : runNode(node, planned.implementation, nodeInputs);
        } else if (outputs.size() < node.outputs.size()) // a replaced (quantized) node: as runNode checks
            throw Error(ops::nodeSubject(node), "produces " + std::to_string(outputs.size()) +
                                                    " outputs, the graph expects " +
                                                    std::to_string(node.outputs.size()));
        if (profile)
            profile->add(activation ? node.opType + "+" + activation->opType : node.opType,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        const Node& producer = m_graph.nodes[activationIndex];
        const std::vector<int>& outputSlots = m_plannedNodes[activationIndex].outputs;
        for (std::size_t o = 0; o < producer.outputs.size(); ++o) {
            if (outputSlots[o] < 0)
                continue;
            if (hooks.onValue)
                hooks.onValue(producer.outputs[o], outputs[o]);
            values[static_cast<std::size_t>(outputSlots[o])] = std::move(outputs[o]);
            present[static_cast<std::size_t>(outputSlots[o])] = 1;
        }
        for (int slot : planned.release)
            release(slot);
        if (activation)
            for (int slot : m_plannedNodes[activationIndex].release)
                release(slot);
    }
    std::map<std::string, Value> result;
    for (std::size_t i = 0; i < m_outputs.size(); ++i) {
        const std::string& name = m_graph.outputs[i].name;
        const PlannedInput& output = m_outputs[i];
        if (output.slot >= 0 && present[static_cast<std::size_t>(output.slot)])
            result[name] = std::move(values[static_cast<std::size_t>(output.slot)]);
        else if (output.constant != nullptr)
            result[name] = *output.constant;
        else
            throw Error(m_graph.path, "graph output '" + name + "' was not produced");
    }
    return result;
}

} // namespace quantscope
