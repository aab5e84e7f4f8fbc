#include "model/IntegerPipeline.h"

#include "model/ActivationCodes.h"
#include "model/ConvGeometry.h"
#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/kernels/Int8Conv.h"
#include "quantscope/kernels/Int8ConvHelpers.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/PackedInt8Weights.h"
#include "quantscope/kernels/QLinearElementwise.h"
#include "quantscope/kernels/ThreadPool.h"
#include "quantscope/model/Int8Linear.h"
#include "quantscope/model/OpProfile.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <set>
#include <unordered_map>

namespace quantscope {
namespace {

enum class StepKind {
    Float,
    Linear,
    Table,
    Add,
    Mul,
    AveragePool,
    GlobalAveragePool,
    CodeMove,
    Concat,
    Fused
};

// Element-wise functions of their first input (the others, if any, constant): one table each.
const std::set<std::string>& tableOps() {
    static const std::set<std::string> ops{"Relu",        "Clip",
                                           "LeakyRelu",   "Sigmoid",
                                           "HardSigmoid", "HardSwish",
                                           "Tanh",        "Gelu",
                                           "Elu",         "Selu",
                                           "Celu",        "Softplus",
                                           "Softsign",    "Mish",
                                           "Neg",         "Abs",
                                           "Exp",         "Log",
                                           "Sqrt",        "Erf",
                                           "Floor",       "Ceil",
                                           "Round",       "Sign",
                                           "Reciprocal",  "ThresholdedRelu",
                                           "PRelu"};
    return ops;
}

// Ops whose fp32 version only moves, repeats or selects elements of input 0 (MaxPool selects the
// largest, and ordering is the same on codes).
const std::set<std::string>& codeMoveOps() {
    static const std::set<std::string> ops{"Reshape",      "Flatten",     "Squeeze", "Unsqueeze", "Transpose",
                                           "Identity",     "Pad",         "Resize",  "Upsample",  "Slice",
                                           "Gather",       "Split",       "MaxPool", "Tile",      "Expand",
                                           "DepthToSpace", "SpaceToDepth"};
    return ops;
}

// applyCodeTable on the kernels' vector lookup (the same bytes; in place is fine).
void lookupCodes(const CodeTable& table, const uint8_t* x, std::size_t count, uint8_t* y) {
    kernels::lookupU8(kernels::KernelRegistry::active(), table.data(), x, count, y);
}

bool isZeroConstant(const Value* v) {
    if (v == nullptr)
        return true;
    for (int64_t i = 0; i < v->size(); ++i) {
        if (v->number(i) != 0.0)
            return false;
    }
    return true;
}

} // namespace

struct IntegerPipeline::Slot {
    std::string name;
    std::optional<QuantLevels> levels;   // stored as codes
    const QParamsEntry* entry = nullptr; // an activation with parameters (codes or simulated in float)
    const Value* constant = nullptr;
    bool graphOutput = false;
};

struct IntegerPipeline::Step {
    StepKind kind = StepKind::Float;
    const Node* node = nullptr;
    std::vector<int> inputs;  // one slot per node input (-1 when absent)
    std::vector<int> outputs; // one slot per node output (-1 when absent)
    // Linear
    const QuantizedModel::Layer* layer = nullptr;
    std::vector<kernels::FixedPointMultiplier> multipliers;
    std::vector<int32_t> bias; // empty: none
    int32_t lo = 0, hi = 255;
    int target = -1; // the slot a Linear step writes (a fused Relu's / Clip's output)
    bool depthwise = false;
    bool symmetricDepthwise = false; // every weight zero point is 0: the SIMD depthwise kernel
    std::vector<int8_t> depthwiseWeights;
    std::vector<int32_t> weightZeroPoints;
    // A one-group Conv with packed weights: the same weights in (kh, kw, c) order for
    // kernels::int8ConvRequantizeU8 (no im2col matrix), packed once here.
    std::shared_ptr<const kernels::PackedInt8Weights> hwcWeights;
    // Table, CodeMove (requantize the result) and Concat (one per input)
    CodeTable table{};
    bool requantize = false;
    std::vector<CodeTable> inputTables;
    std::vector<bool> inputRequantize;
    std::vector<int> release; // slots no later step reads
};

// Leaves new elements uninitialised: every op writes all of its output codes, so zero-filling
// them first is wasted work.
template <typename T> struct UninitialisedAllocator : std::allocator<T> {
    template <typename U> struct rebind { using other = UninitialisedAllocator<U>; };
    UninitialisedAllocator() = default;
    template <typename U> UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
    template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
    template <typename U, typename... Args> void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

// A value during one run: codes (an activation with levels) or a Value (everything else, and the
// dequantized copy of codes an fp32 op needs).
struct IntegerPipeline::Held {
    std::vector<int64_t> shape;
    std::vector<uint8_t, UninitialisedAllocator<uint8_t>> codes;
    bool hasCodes = false;
    Value value;
    bool hasValue = false;
};

IntegerPipeline::IntegerPipeline(const Executor& executor,
                                 const std::map<std::string, QParamsEntry>& activations,
                                 const std::vector<QuantizedModel::Layer>& layers, FloatRunner floatRunner)
    : m_executor(executor), m_floatRunner(std::move(floatRunner)) {
    plan(activations, layers);
}

IntegerPipeline::~IntegerPipeline() = default;

void IntegerPipeline::plan(const std::map<std::string, QParamsEntry>& activations,
                           const std::vector<QuantizedModel::Layer>& layers) {
    const Graph& graph = m_executor.graph();
    std::unordered_map<std::string, int> slotOf;
    auto slotFor = [&](const std::string& name) {
        const auto found = slotOf.find(name);
        if (found != slotOf.end())
            return found->second;
        Slot slot;
        slot.name = name;
        if (const auto init = graph.initializers.find(name); init != graph.initializers.end())
            slot.constant = &init->second;
        if (const auto act = activations.find(name);
            act != activations.end() && act->second.params && !slot.constant) {
            slot.entry = &act->second;
            slot.levels = quantLevels(act->second.spec, *act->second.params);
        }
        m_slots.push_back(std::move(slot));
        slotOf[name] = static_cast<int>(m_slots.size() - 1);
        return static_cast<int>(m_slots.size() - 1);
    };
    for (const auto& input : graph.inputs)
        m_inputSlots.push_back(slotFor(input.name));
    for (const auto& node : graph.nodes) {
        m_steps.emplace_back();
        Step& step = m_steps.back();
        step.node = &node;
        for (const auto& name : node.inputs)
            step.inputs.push_back(name.empty() ? -1 : slotFor(name));
        for (const auto& name : node.outputs)
            step.outputs.push_back(name.empty() ? -1 : slotFor(name));
    }
    for (const auto& output : graph.outputs) {
        m_outputSlots.push_back(slotFor(output.name));
        m_slots[static_cast<std::size_t>(m_outputSlots.back())].graphOutput = true;
    }
    // Readers of each slot (step indices).
    std::vector<std::vector<int>> readers(m_slots.size());
    for (std::size_t s = 0; s < m_steps.size(); ++s) {
        for (int in : m_steps[s].inputs) {
            if (in >= 0 && (readers[in].empty() || readers[in].back() != static_cast<int>(s)))
                readers[in].push_back(static_cast<int>(s));
        }
    }
    std::map<std::size_t, const QuantizedModel::Layer*> layerOfNode;
    for (const auto& layer : layers)
        layerOfNode[layer.nodeIndex] = &layer;

    auto isCodes = [&](int slot) {
        return slot >= 0 && !m_slots[slot].constant && m_slots[slot].levels.has_value();
    };
    auto allOutputsCodes = [&](const Step& step) {
        return !step.outputs.empty() && std::all_of(step.outputs.begin(), step.outputs.end(),
                                                    [&](int s) { return s < 0 || isCodes(s); });
    };
    auto othersNotCodes = [&](const Step& step) { // inputs after the first are constants / integers
        for (std::size_t i = 1; i < step.inputs.size(); ++i) {
            if (step.inputs[i] >= 0 && m_slots[step.inputs[i]].entry)
                return false;
        }
        return true;
    };

    for (std::size_t s = 0; s < m_steps.size(); ++s) {
        Step& step = m_steps[s];
        const Node& node = *step.node;
        const std::string& op = node.opType;
        if (step.kind == StepKind::Fused)
            continue;
        const bool firstIsCodes = !step.inputs.empty() && isCodes(step.inputs[0]);
        if (const auto layer = layerOfNode.find(s);
            layer != layerOfNode.end() && firstIsCodes && layer->second->integerPath) {
            if (planLinear(step, *layer->second, readers[step.outputs[0]]))
                step.kind = StepKind::Linear;
        } else if (tableOps().count(op) && firstIsCodes && othersNotCodes(step) && step.outputs.size() == 1 &&
                   isCodes(step.outputs[0]) && (op != "PRelu" || step.inputs.size() > 1)) {
            if (const auto table = elementwiseTable(step, *m_slots[step.inputs[0]].levels)) {
                step.table = *table;
                step.kind = StepKind::Table;
            }
        } else if ((op == "Add" || op == "Mul") && step.inputs.size() == 2 && firstIsCodes &&
                   isCodes(step.inputs[1]) && isCodes(step.outputs[0])) {
            step.kind = op == "Add" ? StepKind::Add : StepKind::Mul;
        } else if (op == "AveragePool" && firstIsCodes && isCodes(step.outputs[0]) &&
                   node.intsAttribute("kernel_shape", {}).size() == 2 &&
                   node.intsAttribute("dilations", {1, 1}) == std::vector<int64_t>({1, 1})) {
            step.kind = StepKind::AveragePool;
        } else if (op == "GlobalAveragePool" && firstIsCodes && isCodes(step.outputs[0])) {
            step.kind = StepKind::GlobalAveragePool;
        } else if (op == "Concat" && allOutputsCodes(step) &&
                   std::all_of(step.inputs.begin(), step.inputs.end(), [&](int in) { return isCodes(in); })) {
            step.kind = StepKind::Concat;
            const QuantLevels& out = *m_slots[step.outputs[0]].levels;
            for (int in : step.inputs) {
                const QuantLevels& levels = *m_slots[in].levels;
                step.inputRequantize.push_back(!(levels == out));
                step.inputTables.push_back(makeCodeTable(levels, out, [](float v) { return v; }));
            }
        } else if (codeMoveOps().count(op) && firstIsCodes && othersNotCodes(step) && allOutputsCodes(step) &&
                   planCodeMove(step)) {
            step.kind = StepKind::CodeMove;
        }
    }

    // Release each slot after its last reader (graph outputs are kept).
    std::vector<int> lastReader(m_slots.size(), -1);
    for (std::size_t s = 0; s < m_steps.size(); ++s) {
        for (int in : m_steps[s].inputs) {
            if (in >= 0)
                lastReader[in] = static_cast<int>(s);
        }
    }
    for (std::size_t slot = 0; slot < m_slots.size(); ++slot) {
        if (lastReader[slot] >= 0 && !m_slots[slot].graphOutput && !m_slots[slot].constant)
            m_steps[static_cast<std::size_t>(lastReader[slot])].release.push_back(static_cast<int>(slot));
    }

    for (const Step& step : m_steps) {
        QuantizedModel::NodeExecution placement;
        placement.node = step.node->label();
        placement.opType = step.node->opType;
        placement.integer = step.kind != StepKind::Float;
        m_placements.push_back(std::move(placement));
    }
    for (std::size_t s = 0; s < m_steps.size(); ++s) {
        if (m_steps[s].kind == StepKind::Linear && m_steps[s].target != m_steps[s].outputs[0]) {
            for (std::size_t f = s + 1; f < m_steps.size(); ++f) {
                if (m_steps[f].kind == StepKind::Fused && m_steps[f].outputs[0] == m_steps[s].target)
                    m_placements[f].fusedInto = m_placements[s].node;
            }
        }
    }
}

bool IntegerPipeline::planLinear(Step& step, const QuantizedModel::Layer& layer,
                                 const std::vector<int>& readers) {
    const Node& node = *step.node;
    const Graph& graph = m_executor.graph();
    if (step.outputs.size() != 1 || step.outputs[0] < 0)
        return false;
    const int64_t n = std::accumulate(layer.int8.begin(), layer.int8.end(), int64_t{0},
                                      [](int64_t sum, const auto& part) { return sum + part->n(); });
    const Value* bias =
        step.inputs.size() > 2 && step.inputs[2] >= 0 ? m_slots[step.inputs[2]].constant : nullptr;
    if (step.inputs.size() > 2 && step.inputs[2] >= 0 && bias == nullptr)
        return false; // a bias computed at run time
    if (node.opType == "Gemm") {
        if (node.floatAttribute("alpha", 1.0f) != 1.0f || (bias && node.floatAttribute("beta", 1.0f) != 1.0f))
            return false;
        if (bias && (bias->size() != n || bias->rank() > 2 || (bias->rank() == 2 && bias->shape[0] != 1)))
            return false; // C broadcast over rows or columns other than one value per output
    } else if (node.opType == "Conv") {
        if (bias && bias->size() != n)
            return false;
    }
    if (bias && bias->isInteger())
        return false;

    // Fuse a following Relu / Clip (any table op) that is the only reader. The GEMM requantizes
    // to the producer's own parameters, as the simulation rounds, and the fused op's table maps
    // those codes to its output; when both have the same parameters and the table is a clamp
    // (Relu, Clip), the clamp alone does it.
    const int produced = step.outputs[0];
    if (!m_slots[produced].levels)
        return false;
    const QuantLevels& x = *m_slots[step.inputs[0]].levels;
    const QuantLevels& y = *m_slots[produced].levels;
    int target = produced;
    int32_t lo = 0, hi = y.maxCode;
    bool fusedTable = false;
    CodeTable table{};
    if (readers.size() == 1 && !m_slots[produced].graphOutput) {
        Step& next = m_steps[static_cast<std::size_t>(readers[0])];
        const std::string& op = next.node->opType;
        const auto nextTable = (op == "Relu" || op == "Clip") && next.inputs[0] == produced &&
                                       next.outputs.size() == 1 && next.outputs[0] >= 0 &&
                                       m_slots[next.outputs[0]].levels && !m_slots[next.outputs[0]].constant
                                   ? elementwiseTable(next, y)
                                   : std::nullopt;
        if (nextTable) {
            table = *nextTable;
            const int32_t low = table[0], high = table[static_cast<std::size_t>(y.maxCode)];
            bool isClamp = *m_slots[next.outputs[0]].levels == y;
            for (int32_t q = 0; isClamp && q <= y.maxCode; ++q)
                isClamp = table[static_cast<std::size_t>(q)] == std::clamp(q, low, high);
            if (isClamp) {
                lo = low;
                hi = high;
            } else {
                fusedTable = true;
            }
            target = next.outputs[0];
            next.kind = StepKind::Fused;
        }
    }
    // Per output channel: M = s_x s_w / s_y, bias in accumulator units.
    std::vector<kernels::FixedPointMultiplier> multipliers;
    std::vector<int32_t> bias32;
    try {
        for (int64_t c = 0; c < n; ++c) {
            const double accScale = static_cast<double>(x.scale) * static_cast<double>(layer.rowScales[c]);
            multipliers.emplace_back(accScale / static_cast<double>(y.scale));
            if (bias) {
                const double b = std::nearbyint(static_cast<double>(bias->data[c]) / accScale);
                if (!(std::abs(b) < 1073741824.0))
                    throw Error("bias", "does not fit the accumulator");
                bias32.push_back(static_cast<int32_t>(b));
            }
        }
    } catch (const Error&) {
        if (target != step.outputs[0])
            m_steps[static_cast<std::size_t>(readers[0])].kind = StepKind::Float;
        return false;
    }
    step.layer = &layer;
    step.multipliers = std::move(multipliers);
    step.bias = std::move(bias32);
    step.target = target;
    step.lo = lo;
    step.hi = hi;
    step.requantize = fusedTable;
    step.table = table;
    const Value& w = graph.initializers.at(layer.weightName);
    if (node.opType == "Conv" && layer.groups > 1 && w.shape[0] == layer.groups && w.shape[1] == 1) {
        step.depthwise = true; // one filter per channel: its own loop, not N = 1 GEMMs
        for (const auto& part : layer.int8) {
            step.depthwiseWeights.insert(step.depthwiseWeights.end(), part->weights().begin(),
                                         part->weights().end());
            step.weightZeroPoints.push_back(part->zeroPoints()[0]);
        }
        step.symmetricDepthwise = std::all_of(step.weightZeroPoints.begin(), step.weightZeroPoints.end(),
                                              [](int32_t z) { return z == 0; });
    } else if (node.opType == "Conv" && layer.groups == 1 && w.rank() == 4 && layer.int8.size() == 1 &&
               layer.int8[0]->packed()) {
        const kernels::PackedInt8Weights& packed = *layer.int8[0]->packed();
        const std::vector<int8_t> hwc = kernels::convWeightsToHwc(
            layer.int8[0]->weights().data(), static_cast<int>(w.shape[0]), static_cast<int>(w.shape[1]),
            static_cast<int>(w.shape[2]), static_cast<int>(w.shape[3]));
        step.hwcWeights = std::make_shared<const kernels::PackedInt8Weights>(
            *kernels::KernelRegistry::table(packed.path()), hwc.data(), packed.n(), packed.k(),
            packed.zeroPoint());
    }
    return true;
}

std::optional<CodeTable> IntegerPipeline::elementwiseTable(const Step& step, const QuantLevels& in) const {
    // The fp32 op itself on every level: the table is dequantize, op, quantize exactly.
    Value levels;
    levels.shape = {256};
    for (int q = 0; q < 256; ++q)
        levels.data.push_back(in.dequantize(std::min(q, in.maxCode)));
    // Other inputs (Clip's bounds, PRelu's slope) must be absent or one constant value.
    std::vector<const Value*> inputs{&levels};
    for (std::size_t i = 1; i < step.inputs.size(); ++i) {
        const Value* constant = step.inputs[i] < 0 ? nullptr : m_slots[step.inputs[i]].constant;
        if (step.inputs[i] >= 0 && (!constant || constant->size() != 1))
            return std::nullopt;
        inputs.push_back(constant);
    }
    try {
        const std::vector<Value> out = m_executor.runNode(*step.node, inputs);
        if (out.size() != 1 || out[0].size() != 256 || out[0].isInteger())
            return std::nullopt;
        const QuantLevels& outLevels = *m_slots[step.outputs[0]].levels;
        CodeTable table{};
        for (int q = 0; q < 256; ++q)
            table[static_cast<std::size_t>(q)] = outLevels.quantize(out[0].data[q]);
        return table;
    } catch (const Error&) {
        return std::nullopt; // not element-wise with these inputs: fp32
    }
}

bool IntegerPipeline::planCodeMove(Step& step) const {
    const Node& node = *step.node;
    const Graph& graph = m_executor.graph();
    if (node.opType == "Pad" && node.stringAttribute("mode", "constant") == "constant") {
        // The fp32 op pads (code - zero point) with the constant: only a real zero is a code.
        if (graph.opset < 11) {
            if (node.floatAttribute("value", 0.0f) != 0.0f)
                return false;
        } else if (step.inputs.size() > 2 && step.inputs[2] >= 0 &&
                   !isZeroConstant(m_slots[step.inputs[2]].constant)) {
            return false;
        }
    }
    if ((node.opType == "Resize" || node.opType == "Upsample") &&
        node.stringAttribute("mode", "nearest") != "nearest")
        return false;
    if (node.opType == "MaxPool" && step.outputs.size() > 1)
        return false; // the Indices output is no activation
    const QuantLevels& in = *m_slots[step.inputs[0]].levels;
    for (int out : step.outputs) {
        if (out < 0)
            continue;
        const QuantLevels& levels = *m_slots[out].levels;
        if (!(levels == in)) {
            if (step.outputs.size() > 1)
                return false; // Split to outputs with other parameters: fp32
            step.requantize = true;
            step.table = makeCodeTable(in, levels, [](float v) { return v; });
        }
    }
    return true;
}

const Value& IntegerPipeline::floatOf(int slot, std::vector<Held>& held) const {
    const Slot& info = m_slots[slot];
    if (info.constant)
        return *info.constant;
    Held& h = held[slot];
    if (!h.hasValue && h.hasCodes) {
        const QuantLevels& levels = *info.levels;
        h.value = Value();
        h.value.shape = h.shape;
        h.value.data.resize(h.codes.size());
        for (std::size_t i = 0; i < h.codes.size(); ++i)
            h.value.data[i] = levels.dequantize(h.codes[i]);
        h.hasValue = true;
    }
    if (!h.hasValue)
        throw Error("value '" + info.name + "'", "has no value");
    return h.value;
}

void IntegerPipeline::store(int slot, Value value, std::vector<Held>& held) const {
    const Slot& info = m_slots[slot];
    Held& h = held[slot];
    h = Held();
    if (info.levels && !value.isInteger()) {
        h.shape = value.shape;
        h.codes.resize(value.data.size());
        quantizeToCodes(value.data.data(), value.data.size(), info.entry->spec, *info.entry->params,
                        h.codes.data());
        h.hasCodes = true;
        return;
    }
    if (info.entry && !value.isInteger())
        fakeQuantize(value.data, info.entry->spec, *info.entry->params); // a format the codes cannot hold
    h.value = std::move(value);
    h.hasValue = true;
}

void IntegerPipeline::runFloat(const Step& step, std::vector<Held>& held) const {
    std::vector<const Value*> inputs;
    for (int in : step.inputs)
        inputs.push_back(in < 0 ? nullptr : &floatOf(in, held));
    std::vector<Value> outputs = m_floatRunner(*step.node, inputs);
    if (outputs.size() < step.outputs.size())
        throw Error(ops::nodeSubject(*step.node), "produces " + std::to_string(outputs.size()) +
                                                      " outputs, the graph expects " +
                                                      std::to_string(step.outputs.size()));
    for (std::size_t o = 0; o < step.outputs.size(); ++o) {
        if (step.outputs[o] >= 0)
            store(step.outputs[o], std::move(outputs[o]), held);
    }
}

namespace {

// The pools' and depthwise convolution's window from an op's geometry (one plane per image and
// channel).
Window2d windowOf(const ConvGeometry& g) {
    Window2d window;
    window.planes = g.batch * g.channels;
    window.height = g.height;
    window.width = g.width;
    window.kernelH = g.kernelH;
    window.kernelW = g.kernelW;
    window.strideH = g.strideH;
    window.strideW = g.strideW;
    window.dilationH = g.dilationH;
    window.dilationW = g.dilationW;
    window.padTop = g.padTop;
    window.padLeft = g.padLeft;
    window.padBottom = g.padBottom;
    window.padRight = g.padRight;
    window.outH = g.outH;
    window.outW = g.outW;
    return window;
}

// Below this many bytes per thread, splitting an element-wise step costs more than it saves.
constexpr std::size_t kElementsPerThread = 1 << 14;

// work(begin, end) over [0, count) in one call, or in ranges of at least `minimumPerThread` items
// on the pool's threads when there is enough work to share.
void forRanges(kernels::ThreadPool* pool, std::size_t count, std::size_t minimumPerThread,
               const std::function<void(std::size_t begin, std::size_t end)>& work) {
    const int threads = pool ? pool->threadCount() : 1;
    if (threads <= 1 || count < 2 * minimumPerThread) {
        work(0, count);
        return;
    }
    const int parts =
        static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads), count / minimumPerThread));
    pool->parallelFor(parts, [&](int first, int last) {
        for (int part = first; part < last; ++part)
            work(count * static_cast<std::size_t>(part) / static_cast<std::size_t>(parts),
                 count * static_cast<std::size_t>(part + 1) / static_cast<std::size_t>(parts));
    });
}

// out = clamp(M[c](A W^T + bias) + zy, lo, hi) for M x K codes: the SIMD requantizing GEMM when
// the weights are packed, else the exact int32 product and the reference epilogue.
void linearToCodes(const Int8Linear& linear, const uint8_t* a, int64_t m, const QuantLevels& x,
                   const kernels::FixedPointMultiplier* multipliers, const int32_t* bias, int32_t zy,
                   int32_t lo, int32_t hi, uint8_t* out, kernels::ThreadPool* pool) {
    if (m < 1)
        return;
    if (const kernels::PackedInt8Weights* packed = linear.packed()) {
        kernels::QuantizedActivations activations;
        activations.data = a;
        activations.m = static_cast<int>(m);
        activations.k = static_cast<int>(linear.k());
        activations.zeroPoint = x.zeroPoint;
        activations.scale = x.scale;
        kernels::int8GemmRequantizeU8(*kernels::KernelRegistry::table(packed->path()), activations, *packed,
                                      multipliers, true, bias, zy, out, pool, lo, hi);
        return;
    }
    std::vector<int32_t> acc(static_cast<std::size_t>(m * linear.n()));
    linear.run(a, m, x.zeroPoint, acc.data());
    requantizeAccumulators(acc.data(), m, linear.n(), multipliers, bias, zy, lo, hi, out);
}

} // namespace

bool IntegerPipeline::runConv(const Step& step, std::vector<Held>& held, kernels::ThreadPool* pool) const {
    const Node& node = *step.node;
    const Held& in = held[step.inputs[0]];
    if (in.shape.size() != 4)
        return false; // 1-D convolution: fp32
    const QuantizedModel::Layer& layer = *step.layer;
    const Value& w = m_executor.graph().initializers.at(layer.weightName);
    const ConvGeometry g = convGeometry(node, in.shape, w.shape[2], w.shape[3], false);
    const int64_t groups = layer.groups;
    checkConvWeights(node, g, w.shape, groups, nullptr); // the bias was checked when planned
    const QuantLevels& x = *m_slots[step.inputs[0]].levels;
    const QuantLevels& y = *m_slots[step.outputs[0]].levels; // the producer's: a fused table follows
    const int32_t* bias = step.bias.empty() ? nullptr : step.bias.data();
    const int64_t outChannels = w.shape[0];
    Held& out = held[step.target];
    out = Held();
    out.shape = {g.batch, outChannels, g.outH, g.outW};
    out.codes.resize(static_cast<std::size_t>(ops::checkedProduct(node, out.shape)));
    out.hasCodes = true;
    if (step.depthwise) {
        if (step.symmetricDepthwise) { // the SIMD kernel takes zero-point-free weights
            const kernels::DepthwiseConvShape shape = kernelDepthwiseShape(node, g, g.batch);
            const kernels::PackedInt8Weights* packed = layer.int8[0]->packed();
            const kernels::KernelTable& path =
                packed ? *kernels::KernelRegistry::table(packed->path()) : kernels::KernelRegistry::active();
            kernels::int8DepthwiseConv(path, shape, in.codes.data(), x.zeroPoint,
                                       step.depthwiseWeights.data(), bias, step.multipliers.data(), true,
                                       y.zeroPoint, out.codes.data(), pool, step.lo, step.hi);
        } else {
            const Window2d window = windowOf(g);
            depthwiseConvU8(in.codes.data(), x.zeroPoint, window, g.channels, step.depthwiseWeights.data(),
                            step.weightZeroPoints.data(), bias, step.multipliers.data(), y.zeroPoint, step.lo,
                            step.hi, out.codes.data());
        }
        if (step.requantize)
            lookupCodes(step.table, out.codes.data(), out.codes.size(), out.codes.data());
        return true;
    }
    const int64_t groupIn = g.channels / groups, groupOut = outChannels / groups;
    const int64_t patch = ops::checkedProduct(node, {groupIn, g.kernelH, g.kernelW});
    const int64_t spatial = ops::checkedProduct(node, {g.outH, g.outW});
    if (patch != layer.int8[0]->k())
        throw Error(ops::nodeSubject(node), "a window of " + std::to_string(patch) +
                                                " values does not match the weights' " +
                                                std::to_string(layer.int8[0]->k()));
    const kernels::Conv2dGeometry geometry = kernelConvGeometry(node, g, groupIn);
    if (step.hwcWeights && g.batch <= INT32_MAX) {
        const kernels::PackedInt8Weights& packed = *step.hwcWeights;
        kernels::int8ConvRequantizeU8(*kernels::KernelRegistry::table(packed.path()), geometry,
                                      static_cast<int>(g.batch), in.codes.data(), x.zeroPoint, packed,
                                      step.multipliers.data(), true, bias, y.zeroPoint, out.codes.data(),
                                      pool, step.lo, step.hi);
        if (step.requantize)
            lookupCodes(step.table, out.codes.data(), out.codes.size(), out.codes.data());
        return true;
    }
    // All images of a chunk in one GEMM (M = images x output pixels); chunks bound the memory. The
    // scratch buffers live as long as the thread, so a run allocates nothing for them.
    const int64_t chunk = std::max<int64_t>(
        1, std::min<int64_t>(g.batch, (int64_t{16} << 20) / std::max<int64_t>(1, spatial * patch)));
    const bool pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 &&
                           g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0;
    thread_local std::vector<uint8_t> rows, pixels;
    if (rows.size() < static_cast<std::size_t>(chunk * spatial * patch))
        rows.resize(static_cast<std::size_t>(chunk * spatial * patch));
    if (pixels.size() < static_cast<std::size_t>(chunk * spatial * groupOut))
        pixels.resize(static_cast<std::size_t>(chunk * spatial * groupOut));
    for (int64_t first = 0; first < g.batch; first += chunk) {
        const int64_t images = std::min(chunk, g.batch - first);
        for (int64_t grp = 0; grp < groups; ++grp) {
            for (int64_t i = 0; i < images; ++i) {
                const uint8_t* image =
                    in.codes.data() + ((first + i) * g.channels + grp * groupIn) * g.height * g.width;
                uint8_t* imageRows = rows.data() + i * spatial * patch;
                if (pointwise) // the pixels of a 1 x 1 convolution are the columns of C x HW
                    kernels::transposeU8(image, static_cast<int>(groupIn), static_cast<int>(spatial),
                                         imageRows);
                else // padding is a real zero
                    kernels::im2rowU8(geometry, image, static_cast<uint8_t>(x.zeroPoint), imageRows);
            }
            linearToCodes(*layer.int8[grp], rows.data(), images * spatial, x,
                          step.multipliers.data() + grp * groupOut, bias ? bias + grp * groupOut : nullptr,
                          y.zeroPoint, step.lo, step.hi, pixels.data(), pool);
            // pixels x channels -> NCHW
            for (int64_t i = 0; i < images; ++i) {
                uint8_t* planes = out.codes.data() + ((first + i) * outChannels + grp * groupOut) * spatial;
                kernels::transposeU8(pixels.data() + i * spatial * groupOut, static_cast<int>(spatial),
                                     static_cast<int>(groupOut), planes);
                if (step.requantize)
                    lookupCodes(step.table, planes, static_cast<std::size_t>(spatial * groupOut), planes);
            }
        }
    }
    return true;
}

void IntegerPipeline::runLinear(const Step& step, std::vector<Held>& held, kernels::ThreadPool* pool) const {
    const Node& node = *step.node;
    const Int8Linear& linear = *step.layer->int8[0];
    const Held& in = held[step.inputs[0]];
    const int64_t k = linear.k(), n = linear.n();
    if (in.shape.empty() || in.shape.back() != k)
        throw Error(ops::nodeSubject(node), "input " + shapeToString(in.shape) +
                                                " does not end in the weights' " + std::to_string(k) +
                                                " inputs");
    if (node.opType == "Gemm" && in.shape.size() != 2)
        throw Error(ops::nodeSubject(node), "A must be 2-D, found " + shapeToString(in.shape));
    const int64_t m = static_cast<int64_t>(in.codes.size()) / k;
    Held result;
    result.shape = in.shape;
    result.shape.back() = n;
    result.codes.resize(static_cast<std::size_t>(ops::checkedProduct(node, {m, n})));
    result.hasCodes = true;
    linearToCodes(linear, in.codes.data(), m, *m_slots[step.inputs[0]].levels, step.multipliers.data(),
                  step.bias.empty() ? nullptr : step.bias.data(), m_slots[step.outputs[0]].levels->zeroPoint,
                  step.lo, step.hi, result.codes.data(), pool);
    if (step.requantize) // a fused Relu / Clip with its own parameters
        lookupCodes(step.table, result.codes.data(), result.codes.size(), result.codes.data());
    held[step.target] = std::move(result);
}

bool IntegerPipeline::tryInteger(const Step& step, std::vector<Held>& held, kernels::ThreadPool* pool) const {
    const Node& node = *step.node;
    auto levelsOf = [&](int slot) -> const QuantLevels& { return *m_slots[slot].levels; };
    switch (step.kind) {
    case StepKind::Float:
        return false;
    case StepKind::Fused: // written by the Linear step before it, unless that one ran in fp32
        return held[step.outputs[0]].hasCodes;
    case StepKind::Linear:
        if (node.opType == "Conv")
            return runConv(step, held, pool);
        runLinear(step, held, pool);
        return true;
    case StepKind::Table: {
        const Held& in = held[step.inputs[0]];
        Held out;
        out.shape = in.shape;
        out.codes.resize(in.codes.size());
        out.hasCodes = true;
        lookupCodes(step.table, in.codes.data(), in.codes.size(), out.codes.data());
        held[step.outputs[0]] = std::move(out);
        return true;
    }
    case StepKind::Add:
    case StepKind::Mul: {
        const Held& a = held[step.inputs[0]];
        const Held& b = held[step.inputs[1]];
        Held out;
        out.shape = ops::broadcastShape(node, {&a.shape, &b.shape});
        out.codes.resize(static_cast<std::size_t>(ops::checkedProduct(node, out.shape)));
        out.hasCodes = true;
        std::vector<int64_t> aIndex, bIndex;
        if (a.shape != out.shape)
            aIndex = ops::broadcastIndex(a.shape, out.shape);
        if (b.shape != out.shape)
            bIndex = ops::broadcastIndex(b.shape, out.shape);
        const auto binary = step.kind == StepKind::Add ? qlinearAdd : qlinearMul;
        // Element i depends on nothing else: ranges of elements go to the pool's threads.
        forRanges(pool, out.codes.size(), kElementsPerThread, [&](std::size_t begin, std::size_t end) {
            binary(aIndex.empty() ? a.codes.data() + begin : a.codes.data(), levelsOf(step.inputs[0]),
                   aIndex.empty() ? nullptr : aIndex.data() + begin,
                   bIndex.empty() ? b.codes.data() + begin : b.codes.data(), levelsOf(step.inputs[1]),
                   bIndex.empty() ? nullptr : bIndex.data() + begin, end - begin, out.codes.data() + begin,
                   levelsOf(step.outputs[0]));
        });
        held[step.outputs[0]] = std::move(out);
        return true;
    }
    case StepKind::AveragePool: {
        const Held& in = held[step.inputs[0]];
        if (in.shape.size() != 4)
            return false;
        const ConvGeometry g = convGeometry(node, in.shape, 0, 0, node.intAttribute("ceil_mode", 0) != 0);
        const Window2d window = windowOf(g);
        Held out;
        out.shape = {g.batch, g.channels, g.outH, g.outW};
        out.codes.resize(static_cast<std::size_t>(ops::checkedProduct(node, out.shape)));
        out.hasCodes = true;
        qlinearAveragePool(in.codes.data(), levelsOf(step.inputs[0]), window,
                           node.intAttribute("count_include_pad", 0) != 0, out.codes.data(),
                           levelsOf(step.outputs[0]));
        held[step.outputs[0]] = std::move(out);
        return true;
    }
    case StepKind::GlobalAveragePool: {
        const Held& in = held[step.inputs[0]];
        if (in.shape.size() < 3)
            return false;
        const int64_t planes = ops::checkedProduct(node, {in.shape[0], in.shape[1]});
        const int64_t spatial =
            ops::checkedProduct(node, std::vector<int64_t>(in.shape.begin() + 2, in.shape.end()));
        Held out;
        out.shape = {in.shape[0], in.shape[1]};
        out.shape.resize(in.shape.size(), 1);
        out.codes.resize(static_cast<std::size_t>(planes));
        out.hasCodes = true;
        qlinearGlobalAveragePool(in.codes.data(), levelsOf(step.inputs[0]), planes, spatial, out.codes.data(),
                                 levelsOf(step.outputs[0]));
        held[step.outputs[0]] = std::move(out);
        return true;
    }
    case StepKind::Concat:
    case StepKind::CodeMove: {
        if (step.kind == StepKind::CodeMove && node.opType == "MaxPool" &&
            held[step.inputs[0]].shape.size() == 4) {
            // Straight on the codes: the fp32 op on (code - zero point) picks the same element.
            const Held& in = held[step.inputs[0]];
            const ConvGeometry g = convGeometry(node, in.shape, 0, 0, node.intAttribute("ceil_mode", 0) != 0);
            const Window2d window = windowOf(g);
            Held out;
            out.shape = {g.batch, g.channels, g.outH, g.outW};
            out.codes.resize(static_cast<std::size_t>(ops::checkedProduct(node, out.shape)));
            out.hasCodes = true;
            // Planes go to the pool's threads; a window wholly in the padding shows in every plane.
            std::atomic<bool> allInside{true};
            const auto planeBytes =
                static_cast<std::size_t>(std::max<int64_t>(1, window.height * window.width));
            forRanges(pool, static_cast<std::size_t>(window.planes),
                      std::max<std::size_t>(1, kElementsPerThread / planeBytes),
                      [&](std::size_t begin, std::size_t end) {
                          Window2d part = window;
                          part.planes = static_cast<int64_t>(end - begin);
                          const auto first = static_cast<int64_t>(begin);
                          if (!maxPoolU8(in.codes.data() + first * window.height * window.width, part,
                                         out.codes.data() + first * window.outH * window.outW))
                              allInside = false;
                      });
            if (allInside) {
                if (step.requantize)
                    lookupCodes(step.table, out.codes.data(), out.codes.size(), out.codes.data());
                held[step.outputs[0]] = std::move(out);
                return true;
            } // a window wholly in the padding: the fp32 op below decides
        }
        if (step.kind == StepKind::CodeMove && node.opType == "Flatten") {
            // The same codes in the same order, as a matrix.
            const Held& in = held[step.inputs[0]];
            const int64_t rank = static_cast<int64_t>(in.shape.size());
            int64_t axis = node.intAttribute("axis", 1);
            if (axis < 0)
                axis += rank;
            if (axis >= 0 && axis <= rank) {
                Held out;
                out.shape = {
                    ops::checkedProduct(node,
                                        std::vector<int64_t>(in.shape.begin(), in.shape.begin() + axis)),
                    ops::checkedProduct(node, std::vector<int64_t>(in.shape.begin() + axis, in.shape.end()))};
                out.codes.resize(in.codes.size());
                out.hasCodes = true;
                if (step.requantize)
                    lookupCodes(step.table, in.codes.data(), in.codes.size(), out.codes.data());
                else
                    std::copy(in.codes.begin(), in.codes.end(), out.codes.begin());
                held[step.outputs[0]] = std::move(out);
                return true;
            }
        }
        // The fp32 op on (code - zero point): moving values around is exact on small integers.
        const bool concat = step.kind == StepKind::Concat;
        const QuantLevels& base = concat ? levelsOf(step.outputs[0]) : levelsOf(step.inputs[0]);
        std::vector<Value> shifted;
        shifted.reserve(step.inputs.size());
        std::vector<const Value*> inputs;
        for (std::size_t i = 0; i < step.inputs.size(); ++i) {
            const int slot = step.inputs[i];
            if (!concat && i > 0) {
                inputs.push_back(slot < 0 ? nullptr : &floatOf(slot, held));
                continue;
            }
            const Held& h = held[slot];
            Value v;
            v.shape = h.shape;
            v.data.resize(h.codes.size());
            const bool table = concat && step.inputRequantize[i];
            for (std::size_t e = 0; e < h.codes.size(); ++e)
                v.data[e] = static_cast<float>((table ? step.inputTables[i][h.codes[e]] : h.codes[e]) -
                                               base.zeroPoint);
            shifted.push_back(std::move(v));
            inputs.push_back(&shifted.back());
        }
        std::vector<Value> outputs = m_executor.runNode(node, inputs);
        for (std::size_t o = 0; o < step.outputs.size(); ++o) {
            if (step.outputs[o] < 0)
                continue;
            Held out;
            out.shape = outputs[o].shape;
            out.codes.resize(outputs[o].data.size());
            out.hasCodes = true;
            for (std::size_t e = 0; e < out.codes.size(); ++e)
                out.codes[e] =
                    static_cast<uint8_t>(static_cast<int32_t>(outputs[o].data[e]) + base.zeroPoint);
            if (step.requantize)
                lookupCodes(step.table, out.codes.data(), out.codes.size(), out.codes.data());
            held[step.outputs[o]] = std::move(out);
        }
        return true;
    }
    }
    return false;
}

std::string IntegerPipeline::profileLabel(const Step& step, bool integer) const {
    std::string label = step.node->opType;
    if (step.kind == StepKind::Linear &&
        step.node->opType == "Conv") { // the kernel shape tells the convs apart
        const Value& w = m_executor.graph().initializers.at(step.layer->weightName);
        if (w.rank() == 4)
            label += " " + std::to_string(w.shape[2]) + "x" + std::to_string(w.shape[3]) +
                     (step.depthwise ? " depthwise" : "");
    }
    return label + (step.kind == StepKind::Fused ? " (fused)" : integer ? " (int8)" : " (fp32)");
}

std::map<std::string, Value> IntegerPipeline::run(std::map<std::string, Value> inputs,
                                                  kernels::ThreadPool* pool) const {
    std::vector<Held> held(m_slots.size());
    std::vector<Value> fed = m_executor.checkedInputs(std::move(inputs));
    for (std::size_t i = 0; i < fed.size(); ++i)
        store(m_inputSlots[i], std::move(fed[i]), held);
    OpProfile* const profile = OpProfile::active();
    for (const Step& step : m_steps) {
        const auto started =
            profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        bool done = false;
        try {
            done = tryInteger(step, held, pool);
        } catch (const Error& error) {
            if (error.subject().rfind("node '", 0) == 0)
                throw;
            throw Error(ops::nodeSubject(*step.node), error.what());
        }
        if (!done)
            runFloat(step, held);
        if (profile)
            profile->add(profileLabel(step, done),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        for (int slot : step.release)
            held[slot] = Held();
    }
    std::map<std::string, Value> result;
    for (int slot : m_outputSlots) {
        const Slot& info = m_slots[slot];
        if (info.constant) {
            result[info.name] = *info.constant;
            continue;
        }
        if (!held[slot].hasCodes && !held[slot].hasValue)
            throw Error(m_executor.graph().path, "graph output '" + info.name + "' was not produced");
        result[info.name] = floatOf(slot, held);
    }
    return result;
}

} // namespace quantscope
