#include "quantscope/model/QuantizedModel.h"

#include "quantscope/model/BatchPlan.h"

#include "model/ActivationCodes.h"
#include "model/ConvGeometry.h"
#include "model/IntegerPipeline.h"
#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/kernels/ElementwiseKernels.h"
#include "quantscope/kernels/Int4Gemv.h"
#include "quantscope/kernels/Int8Conv.h"
#include "quantscope/kernels/Int8DepthwiseConv.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/PackedInt4Weights.h"
#include "quantscope/kernels/PackedInt8Weights.h"
#include "quantscope/model/Int8Linear.h"
#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/StorageSize.h"
#include "quantscope/quant/ValueQuantizer.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>

namespace quantscope {
namespace {

bool fitsUint8(const QuantSpec& spec) {
    return spec.format.isInteger() && spec.granularity == Granularity::Tensor &&
           spec.qmax() - spec.qmin() <= 255;
}

bool fitsInt8Weights(const QuantSpec& spec) {
    return spec.format.isInteger() && spec.format.isSigned && spec.format.bits <= 8 &&
           spec.granularity != Granularity::Group;
}

QParams perTensorParams(std::span<const float> values, const QuantSpec& spec) {
    const auto observer = makeObserver(spec);
    observer->observe(values);
    const Range range = observer->range();
    QParams params = computeQParams(std::span<const Range>(&range, 1), spec);
    params.min = {range.min};
    params.max = {range.max};
    return params;
}

// Gemm's y = alpha * product + beta * C, C broadcast to M x N from [], [N], [1, N], [M, 1] or
// [M, N] as in the fp32 Gemm.
void applyGemmEpilogue(const Node& node, const Value& a, const Value* c, int64_t m, int64_t n,
                       std::vector<float>& y) {
    if (a.rank() != 2)
        throw Error(ops::nodeSubject(node), "A must be 2-D, found " + shapeToString(a.shape));
    const float alpha = node.floatAttribute("alpha", 1.0f);
    const float beta = node.floatAttribute("beta", 1.0f);
    if (alpha != 1.0f) {
        for (float& v : y)
            v *= alpha;
    }
    if (c == nullptr || beta == 0.0f)
        return;
    const auto& cs = c->shape;
    const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
    if (cs.size() > 2 || (rows != 1 && rows != m) || (cols != 1 && cols != n))
        throw Error(ops::nodeSubject(node),
                    "C of shape " + shapeToString(cs) + " does not broadcast to the output");
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j)
            y[i * n + j] += beta * c->data[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
    }
}

bool isQuantizableOp(const std::string& op) {
    return op == "Gemm" || op == "MatMul" || op == "Conv";
}

// How a layer's weight is laid out: the 2-D view it is quantized as, and which axis of the stored
// tensor holds the outputs and which the inputs.
struct WeightView {
    std::vector<int64_t> view;
    int outAxis = 0;
    int inAxis = 1;
    bool transposed = false; // stored K x N rather than N x K
};

std::optional<WeightView> weightViewOf(const Node& node, const Value& w) {
    WeightView result;
    result.view = w.shape;
    if (node.opType == "Conv") {
        if (w.rank() != 4)
            return std::nullopt;
        result.view = {w.shape[0], ops::checkedProduct(node, {w.shape[1], w.shape[2], w.shape[3]})};
    } else {
        if (w.rank() != 2)
            return std::nullopt;
        result.transposed = node.opType == "MatMul" || node.intAttribute("transB", 0) == 0;
        if (result.transposed) {
            result.outAxis = 1;
            result.inAxis = 0;
        }
    }
    return result;
}

// The checks the fp32 Conv makes, which every integer Conv route trusts: the kernel shape against
// the weights, input channels = the weights' channels x groups, one bias value per output channel.
void checkConvWeights(const Node& node, const ConvGeometry& g, const Value& w, int64_t groups,
                      const Value* bias) {
    if (g.kernelH != w.shape[2] || g.kernelW != w.shape[3])
        throw Error(ops::nodeSubject(node),
                    "kernel_shape disagrees with the weights " + shapeToString(w.shape));
    if (g.channels != ops::checkedProduct(node, {w.shape[1], groups}))
        throw Error(ops::nodeSubject(node), "input channels " + std::to_string(g.channels) +
                                                " do not match the weights " + shapeToString(w.shape));
    if (bias != nullptr && bias->size() != w.shape[0])
        throw Error(ops::nodeSubject(node), "bias needs " + std::to_string(w.shape[0]) + " values");
}

} // namespace

// The observers calibrate() kept, per activation: one per calibration method seen, so that new
// settings with a method already observed need no second pass over the samples.
struct QuantizedModel::CalibrationState {
    struct Activation {
        std::vector<std::unique_ptr<Observer>> observers;
        std::vector<int64_t> shape;
        bool batched = true; // the leading dimension followed the batch size every time
    };
    std::map<std::string, Activation> activations;
    std::vector<std::string> order; // as first produced
    int64_t samples = 0;
    std::string path;

    Observer* observerFor(const std::string& name, const QuantSpec& spec) {
        auto found = activations.find(name);
        if (found == activations.end())
            return nullptr;
        for (auto& observer : found->second.observers)
            if (observer->canServe(spec))
                return observer.get();
        return nullptr;
    }
};

QuantizedModel::QuantizedModel(const Executor& executor, ModelQuantConfig config)
    : m_executor(executor), m_config(std::move(config)) {
    if (m_config.activation.format.isGgml())
        throw Error("--dtype", m_config.activation.format.name() +
                                   " is one of llama.cpp's weight formats; activations take intN, uintN or a "
                                   "float format (fp16, bf16, fp8_e4m3, fp8_e5m2)");
    m_config.activation.validate();
    if (m_config.activation.granularity != Granularity::Tensor)
        throw Error("--granularity",
                    "activations are quantized per tensor (weights take --weight-granularity)");
    m_config.weight.validate();

    const Graph& graph = executor.graph();
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const Node& node = graph.nodes[i];
        if (!isQuantizableOp(node.opType) || node.inputs.size() < 2)
            continue;
        const auto init = graph.initializers.find(node.inputs[1]);
        if (init == graph.initializers.end() || init->second.isInteger())
            continue; // weights computed at run time stay fp32
        if (!weightViewOf(node, init->second))
            continue;
        Layer layer;
        layer.nodeIndex = i;
        layer.name = node.label();
        layer.weightName = node.inputs[1];
        layer.groups = node.opType == "Conv" ? node.intAttribute("group", 1) : 1;
        std::tie(layer.requestedSpec, layer.requestedParams) = weightSettingsFor(layer);
        quantizeLayer(layer);
        m_layerOfNode[i] = m_layers.size();
        m_layers.push_back(std::move(layer));
    }
}

std::pair<QuantSpec, std::optional<QParams>> QuantizedModel::weightSettingsFor(const Layer& layer) const {
    const Node& node = m_executor.graph().nodes[layer.nodeIndex];
    const WeightView w = *weightViewOf(node, m_executor.graph().initializers.at(layer.weightName));
    QuantSpec spec = m_config.weight;
    std::optional<QParams> fixed;
    const QParamsEntry* entry = m_config.params ? m_config.params->find(layer.weightName) : nullptr;
    if (entry) {
        spec = entry->spec;
        fixed = entry->params;
    } else {
        spec.axis = spec.granularity == Granularity::Channel
                        ? w.outAxis
                        : (spec.granularity == Granularity::Group ? w.inAxis : 0);
    }
    spec.validateFor(w.view);
    return {spec, fixed};
}

void QuantizedModel::quantizeLayer(Layer& layer) {
    const Node& node = m_executor.graph().nodes[layer.nodeIndex];
    const Value& w = m_executor.graph().initializers.at(layer.weightName);
    const WeightView geometry = *weightViewOf(node, w);
    const std::vector<int64_t>& view = geometry.view;
    const bool transposed = geometry.transposed;
    const QuantSpec& spec = layer.requestedSpec;
    AnalysisOptions options;
    options.keepIntegers = true;
    options.keepDequantized = true;
    options.fixedParams = layer.requestedParams;
    layer.weight = analyzeTensor(Tensor(layer.weightName, view, w.data), spec, options);
    layer.weight.kind = TensorKind::Weight;
    layer.int8.clear();
    layer.rowScales.clear();
    layer.hwcWeights.reset();
    layer.depthwiseWeights.clear();
    layer.int4.reset();
    layer.int4Path.clear();

    Value dequantized;
    dequantized.shape = w.shape;
    dequantized.data = layer.weight.dequantized;
    m_dequantizedWeights[layer.name] = std::move(dequantized);

    const bool transA = node.opType == "Gemm" && node.intAttribute("transA", 0) != 0;
    layer.integerPath = fitsInt8Weights(spec) && !transA && !layer.weight.integers.empty();
    if (layer.integerPath) {
        const int64_t n = transposed ? view[1] : view[0];
        const int64_t k = transposed ? view[0] : view[1];
        if (k > Int8Linear::kMaxK || layer.groups < 1 || n % layer.groups != 0) {
            layer.integerPath = false;
        } else {
            std::vector<int8_t> rows(static_cast<std::size_t>(n * k));
            for (int64_t r = 0; r < n; ++r) {
                for (int64_t c = 0; c < k; ++c)
                    rows[r * k + c] =
                        static_cast<int8_t>(layer.weight.integers[transposed ? c * n + r : r * k + c]);
            }
            const auto& p = layer.weight.params;
            layer.rowScales.resize(n);
            std::vector<int32_t> zeroPoints(n);
            for (int64_t r = 0; r < n; ++r) {
                const std::size_t block = p.scale.size() == 1 ? 0 : static_cast<std::size_t>(r);
                layer.rowScales[r] = p.scale[block];
                zeroPoints[r] = p.zeroPoint[block];
            }
            const int64_t groupRows = n / layer.groups;
            for (int64_t g = 0; g < layer.groups; ++g) {
                std::vector<int8_t> part(rows.begin() + g * groupRows * k,
                                         rows.begin() + (g + 1) * groupRows * k);
                std::vector<int32_t> zp(zeroPoints.begin() + g * groupRows,
                                        zeroPoints.begin() + (g + 1) * groupRows);
                layer.int8.push_back(
                    std::make_shared<Int8Linear>(std::move(part), groupRows, k, std::move(zp)));
            }
            const kernels::PackedInt8Weights* packed = layer.int8[0]->packed();
            if (node.opType == "Conv" && layer.groups == 1 && packed) {
                const std::vector<int8_t> hwc = kernels::convWeightsToHwc(
                    layer.int8[0]->weights().data(), static_cast<int>(w.shape[0]),
                    static_cast<int>(w.shape[1]), static_cast<int>(w.shape[2]), static_cast<int>(w.shape[3]));
                layer.hwcWeights = std::make_shared<const kernels::PackedInt8Weights>(
                    *kernels::KernelRegistry::table(packed->path()), hwc.data(), packed->n(), packed->k(),
                    packed->zeroPoint());
            }
            // One filter per input channel: the depthwise kernel's rows are the groups' rows.
            if (node.opType == "Conv" && layer.groups > 1 && w.rank() == 4 && w.shape[0] == layer.groups &&
                w.shape[1] == 1 &&
                std::all_of(zeroPoints.begin(), zeroPoints.end(), [](int32_t z) { return z == 0; }))
                layer.depthwiseWeights = rows;
        }
    }
    packInt4(layer, node, transposed, geometry.inAxis, view);
}

QuantizedModel::~QuantizedModel() = default;

void QuantizedModel::packInt4(Layer& layer, const Node& node, bool transposed, int inAxis,
                              const std::vector<int64_t>& view) {
    const QuantSpec& spec = layer.weight.spec;
    const QParams& p = layer.weight.params;
    const int64_t n = transposed ? view[1] : view[0];
    const int64_t k = transposed ? view[0] : view[1];
    const bool eligible =
        node.opType != "Conv" && node.intAttribute("transA", 0) == 0 && spec.format.isInteger() &&
        spec.format.isSigned && spec.format.bits == 4 && spec.granularity == Granularity::Group &&
        spec.axis == inAxis && spec.groupSize % 8 == 0 && k % spec.groupSize == 0 &&
        std::all_of(p.zeroPoint.begin(), p.zeroPoint.end(), [](int32_t z) { return z == 0; });
    if (!eligible || layer.weight.integers.empty())
        return;
    const int64_t groups = k / spec.groupSize;
    std::vector<int8_t> q(static_cast<std::size_t>(n * k));
    std::vector<float> scales(static_cast<std::size_t>(n * groups));
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t c = 0; c < k; ++c)
            q[r * k + c] = static_cast<int8_t>(layer.weight.integers[transposed ? c * n + r : r * k + c]);
        // The block grid is [N, groups] for N x K weights and [groups, N] for K x N ones.
        for (int64_t g = 0; g < groups; ++g)
            scales[r * groups + g] = p.scale[transposed ? g * n + r : r * groups + g];
    }
    layer.int4 = std::make_shared<const kernels::PackedInt4Weights>(kernels::PackedInt4Weights::fromIntegers(
        q.data(), scales.data(), static_cast<int>(n), static_cast<int>(k), static_cast<int>(spec.groupSize)));
    layer.int4Path = kernels::isaName(
        kernels::int4GemmPath(kernels::KernelRegistry::active(), kernels::Int4Activations::Float32));
}

QuantSpec QuantizedModel::activationSpecFor(const std::string& name) const {
    if (m_config.params) {
        if (const QParamsEntry* entry = m_config.params->find(name);
            entry && entry->kind == TensorKind::Activation)
            return entry->spec;
    }
    return m_config.activation;
}

void QuantizedModel::calibrate(const SampleSet& samples, int64_t batchSize,
                               const ProgressCallback& progress) {
    // Built aside: a cancelled calibration keeps the observers of the last complete one.
    auto state = std::make_unique<CalibrationState>();
    observe(*state, samples, batchSize, progress, [](const std::string&) { return true; });
    state->path = samples.path();
    state->samples = samples.count();
    m_calibration = std::move(state);
    computeActivationParams();
    planPipeline();
}

bool QuantizedModel::calibrateMissing(const SampleSet& samples, int64_t batchSize,
                                      const ProgressCallback& progress) {
    if (!m_calibration) {
        calibrate(samples, batchSize, progress);
        return true;
    }
    if (computeActivationParams()) {
        planPipeline();
        return false;
    }
    const auto needed = [this](const std::string& name) {
        const QParamsEntry* given = m_config.params ? m_config.params->find(name) : nullptr;
        return !(given && given->params) && !m_calibration->observerFor(name, activationSpecFor(name));
    };
    CalibrationState added;
    observe(added, samples, batchSize, progress, needed);
    for (auto& [name, activation] : added.activations) {
        auto& kept = m_calibration->activations[name];
        for (auto& observer : activation.observers) // only the needed ones were made
            kept.observers.push_back(std::move(observer));
    }
    computeActivationParams();
    planPipeline();
    return true;
}

void QuantizedModel::observe(CalibrationState& state, const SampleSet& samples, int64_t batchSize,
                             const ProgressCallback& progress,
                             const std::function<bool(const std::string&)>& needed) const {
    const Graph& graph = m_executor.graph();
    const BatchPlan plan(graph, batchSize);
    std::map<std::string, Observer*> observers; // of this pass: null when the value is not observed
    int64_t runRows = 0, realRows = 0;
    Executor::Hooks hooks;
    hooks.onValue = [&](const std::string& name, Value& value) {
        if (value.isInteger())
            return;
        auto [seen, first] = observers.try_emplace(name, nullptr);
        auto [found, added] = state.activations.try_emplace(name);
        CalibrationState::Activation& activation = found->second;
        if (added)
            state.order.push_back(name);
        if (first && needed(name)) {
            activation.observers.push_back(makeObserver(activationSpecFor(name)));
            seen->second = activation.observers.back().get();
        }
        // The padded rows of a fixed-batch model's last run never reach an observer.
        if (seen->second)
            seen->second->observe(plan.realValues(name, value, runRows, realRows));
        activation.batched = activation.batched && plan.followsBatch(name, value, runRows);
        activation.shape = value.shape;
    };
    for (int64_t first = 0; first < samples.count(); first += plan.batch()) {
        realRows = std::min(plan.batch(), samples.count() - first);
        runRows = plan.rowsFor(realRows);
        m_executor.run(plan.inputs(samples, first, realRows), hooks);
        reportProgress(progress, Stage::Statistics,
                       static_cast<double>(first + realRows) / static_cast<double>(samples.count()));
    }
}

bool QuantizedModel::computeActivationParams() {
    const CalibrationState& state = *m_calibration;
    std::map<std::string, QParamsEntry> activations;
    for (const auto& name : state.order) {
        const CalibrationState::Activation& activation = state.activations.at(name);
        QParamsEntry entry;
        entry.name = name;
        entry.kind = TensorKind::Activation;
        entry.shape = activation.shape;
        if (activation.batched && !entry.shape.empty())
            entry.shape[0] = state.samples; // the shape of the whole calibration set
        entry.spec = activationSpecFor(name);
        const QParamsEntry* given = m_config.params ? m_config.params->find(name) : nullptr;
        if (given && given->params) {
            entry.params = given->params; // applied exactly as written
        } else {
            Observer* observer = m_calibration->observerFor(name, entry.spec);
            if (!observer)
                return false;
            observer->serve(entry.spec);
            const Range range = observer->range();
            QParams params = computeQParams(std::span<const Range>(&range, 1), entry.spec);
            params.min = {range.min};
            params.max = {range.max};
            entry.params = params;
        }
        activations[name] = std::move(entry);
    }
    m_activations = std::move(activations);
    m_calibrationPath = state.path;
    m_calibrationSamples = state.samples;
    return true;
}

void QuantizedModel::planPipeline() {
    m_pipeline = std::make_unique<IntegerPipeline>(
        m_executor, m_activations, m_layers,
        [this](const Node& node, const std::vector<const Value*>& inputs) {
            const std::size_t index = static_cast<std::size_t>(&node - m_executor.graph().nodes.data());
            std::vector<Value> outputs;
            const auto layer = m_layerOfNode.find(index);
            if (layer != m_layerOfNode.end() &&
                runLayer(QuantMode::Static, m_layers[layer->second], inputs, outputs))
                return outputs;
            return m_executor.runNode(node, inputs);
        });
}

QuantizedModel::Reconfiguration QuantizedModel::reconfigure(ModelQuantConfig config) {
    config.activation.validate();
    if (config.activation.granularity != Granularity::Tensor)
        throw Error("--granularity",
                    "activations are quantized per tensor (weights take --weight-granularity)");
    config.weight.validate();
    ModelQuantConfig previous = std::move(m_config);
    m_config = std::move(config);
    // Every new weight setting is checked before any layer changes.
    std::vector<std::pair<QuantSpec, std::optional<QParams>>> settings;
    try {
        for (const Layer& layer : m_layers)
            settings.push_back(weightSettingsFor(layer));
    } catch (...) {
        m_config = std::move(previous);
        throw;
    }
    const auto sameParams = [](const std::optional<QParams>& a, const std::optional<QParams>& b) {
        if (a.has_value() != b.has_value())
            return false;
        return !a || (a->scale == b->scale && a->zeroPoint == b->zeroPoint && a->min == b->min &&
                      a->max == b->max && a->qmin == b->qmin && a->qmax == b->qmax);
    };
    Reconfiguration result;
    for (std::size_t l = 0; l < m_layers.size(); ++l) {
        Layer& layer = m_layers[l];
        if (layer.requestedSpec == settings[l].first && sameParams(layer.requestedParams, settings[l].second))
            continue;
        layer.requestedSpec = settings[l].first;
        layer.requestedParams = settings[l].second;
        quantizeLayer(layer);
        ++result.weightsRequantized;
    }
    if (m_calibration) {
        if (computeActivationParams()) {
            planPipeline();
        } else {
            result.needsCalibration = true;
            m_pipeline.reset(); // static mode waits for calibrateMissing()
            m_activations.clear();
        }
    }
    return result;
}

const std::vector<QuantizedModel::NodeExecution>& QuantizedModel::staticExecution() const {
    static const std::vector<NodeExecution> none;
    return m_pipeline ? m_pipeline->placements() : none;
}

std::vector<QuantizedModel::NodeExecution> QuantizedModel::execution(QuantMode mode) const {
    if (mode == QuantMode::Static) {
        std::vector<NodeExecution> placements = staticExecution();
        for (auto& placement : placements)
            placement.quantized = placement.integer;
        return placements;
    }
    // Dynamic mode measures the input's range as runLayer() does: per tensor, min-max.
    QuantSpec dynamicSpec = m_config.activation;
    dynamicSpec.calib = CalibMethod::MinMax;
    const Graph& graph = m_executor.graph();
    std::vector<NodeExecution> result;
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const Node& node = graph.nodes[i];
        NodeExecution execution;
        execution.node = node.label();
        execution.opType = node.opType;
        const auto layer = m_layerOfNode.find(i);
        if (layer != m_layerOfNode.end() && mode != QuantMode::Fp32) {
            const Layer& l = m_layers[layer->second];
            if (mode == QuantMode::WeightOnly) {
                execution.quantized = true;
                execution.integer = l.int4 != nullptr;
            } else if (node.opType == "Conv") {
                // A Conv whose weights or activation format do not fit the int8 core stays fp32.
                execution.quantized = execution.integer = l.integerPath && fitsUint8(dynamicSpec);
            } else {
                execution.quantized = true; // on the int8 core, or simulated in float
                execution.integer = l.integerPath && fitsUint8(dynamicSpec);
            }
        }
        result.push_back(std::move(execution));
    }
    return result;
}

const QParams* QuantizedModel::activationParams(const std::string& name) const {
    const auto found = m_activations.find(name);
    return found == m_activations.end() || !found->second.params ? nullptr : &*found->second.params;
}

void QuantizedModel::quantizeValue(const std::string& name, Value& value) const {
    if (value.isInteger())
        return;
    const auto found = m_activations.find(name);
    if (found == m_activations.end())
        return;
    fakeQuantize(value.data, found->second.spec, *found->second.params);
}

Value QuantizedModel::integerLayer(const Layer& layer, const Node& node, const Value& x,
                                   const QParams& xParams, const QuantSpec& xSpec,
                                   const std::vector<const Value*>& inputs) const {
    // Quantize the input to uint8: q - qmin shifts any <= 8-bit integer format into 0..255.
    const int32_t qmin = static_cast<int32_t>(xParams.qmin);
    std::vector<uint8_t> xq(x.data.size());
    quantizeToCodes(x.data.data(), xq.size(), xSpec, xParams, xq.data());
    const int32_t zx = xParams.zeroPoint[0] - qmin;
    const float sx = xParams.scale[0];
    const Value* bias = inputs.size() > 2 ? inputs[2] : nullptr;

    if (node.opType == "Conv") {
        const Value& w = m_executor.graph().initializers.at(layer.weightName);
        const ConvGeometry g = convGeometry(node, x.shape, w.shape[2], w.shape[3], false);
        const int64_t groups = layer.groups;
        checkConvWeights(node, g, w, groups, bias); // im2row and the int8 GEMM trust these sizes
        const int64_t groupIn = g.channels / groups, groupOut = w.shape[0] / groups;
        const int64_t patch = ops::checkedProduct(node, {groupIn, g.kernelH, g.kernelW});
        const int64_t spatial = ops::checkedProduct(node, {g.outH, g.outW});
        if (patch != layer.int8[0]->k())
            throw Error(ops::nodeSubject(node), "a window of " + std::to_string(patch) +
                                                    " values does not match the weights' " +
                                                    std::to_string(layer.int8[0]->k()));
        Value y;
        y.shape = {g.batch, w.shape[0], g.outH, g.outW};
        y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, y.shape)));
        // All images of a chunk in one GEMM (M = images x output pixels): the kernels pack
        // activations per call, so few large calls beat many small ones. Chunks bound the memory.
        const int64_t chunk = std::max<int64_t>(
            1, std::min<int64_t>(g.batch, (int64_t{16} << 20) / std::max<int64_t>(1, spatial * patch)));
        std::vector<uint8_t> rows(static_cast<std::size_t>(chunk * spatial * patch));
        std::vector<int32_t> acc(static_cast<std::size_t>(chunk * spatial * groupOut));
        for (int64_t first = 0; first < g.batch; first += chunk) {
            const int64_t images = std::min(chunk, g.batch - first);
            for (int64_t grp = 0; grp < groups; ++grp) {
                for (int64_t i = 0; i < images; ++i) {
                    im2row(xq.data() + ((first + i) * g.channels + grp * groupIn) * g.height * g.width,
                           groupIn, g, rows.data() + i * spatial * patch,
                           static_cast<uint8_t>(zx)); // padding is real zero: the zero point
                }
                layer.int8[grp]->run(rows.data(), images * spatial, zx, acc.data(), m_pool);
                for (int64_t i = 0; i < images; ++i) {
                    const int32_t* imageAcc = acc.data() + i * spatial * groupOut;
                    for (int64_t j = 0; j < groupOut; ++j) {
                        const int64_t channel = grp * groupOut + j;
                        const float scale = sx * layer.rowScales[channel];
                        const float add = bias ? bias->data[channel] : 0.0f;
                        float* out = y.data.data() + ((first + i) * w.shape[0] + channel) * spatial;
                        for (int64_t p = 0; p < spatial; ++p)
                            out[p] = static_cast<float>(imageAcc[p * groupOut + j]) * scale + add;
                    }
                }
            }
        }
        return y;
    }

    const Int8Linear& linear = *layer.int8[0];
    const int64_t k = linear.k(), n = linear.n();
    if (x.rank() < 1 || x.shape.back() != k)
        throw Error(ops::nodeSubject(node), "input " + shapeToString(x.shape) +
                                                " does not end in the weights' " + std::to_string(k) +
                                                " inputs");
    const int64_t m = static_cast<int64_t>(x.data.size()) / k;
    std::vector<int32_t> acc(static_cast<std::size_t>(ops::checkedProduct(node, {m, n})));
    linear.run(xq.data(), m, zx, acc.data(), m_pool);
    Value y;
    y.shape = x.shape;
    y.shape.back() = n;
    y.data.resize(acc.size());
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j)
            y.data[i * n + j] = static_cast<float>(acc[i * n + j]) * (sx * layer.rowScales[j]);
    }
    if (node.opType == "Gemm")
        applyGemmEpilogue(node, x, bias, m, n, y.data);
    return y;
}

Value QuantizedModel::dynamicConv(const Layer& layer, const Node& node, const Value& x, const QuantSpec& spec,
                                  const std::vector<const Value*>& inputs) const {
    const Value& w = m_executor.graph().initializers.at(layer.weightName);
    const ConvGeometry g = convGeometry(node, x.shape, w.shape[2], w.shape[3], false);
    const Value* bias = inputs.size() > 2 ? inputs[2] : nullptr;
    checkConvWeights(node, g, w, 1, bias);
    const int64_t patch = ops::checkedProduct(node, {g.channels, g.kernelH, g.kernelW});
    if (patch != layer.hwcWeights->k())
        throw Error(ops::nodeSubject(node), "a window of " + std::to_string(patch) +
                                                " values does not match the weights' " +
                                                std::to_string(layer.hwcWeights->k()));
    const kernels::Conv2dGeometry geometry = kernelConvGeometry(node, g, g.channels);
    const int batch = kernelSize(node, g.batch);

    // Each image with its own min / max (PyTorch's dynamic rule applied per sample, so a result
    // does not depend on the other images of the batch), quantized as integerLayer does:
    // q - qmin shifts any <= 8-bit integer format into 0..255.
    const std::size_t imageSize =
        static_cast<std::size_t>(ops::checkedProduct(node, {g.channels, g.height, g.width}));
    std::vector<uint8_t> codes(x.data.size());
    std::vector<int32_t> zeroPoints(static_cast<std::size_t>(g.batch));
    std::vector<float> scales(static_cast<std::size_t>(g.batch));
    for (std::size_t i = 0; i < zeroPoints.size(); ++i) {
        const float* image = x.data.data() + i * imageSize;
        const QParams params = perTensorParams(std::span<const float>(image, imageSize), spec);
        quantizeToCodes(image, imageSize, spec, params, codes.data() + i * imageSize);
        zeroPoints[i] = params.zeroPoint[0] - static_cast<int32_t>(params.qmin);
        scales[i] = params.scale[0];
    }
    Value y;
    y.shape = {g.batch, w.shape[0], g.outH, g.outW};
    y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, y.shape)));
    const kernels::PackedInt8Weights& packed = *layer.hwcWeights;
    kernels::int8ConvDequantize(*kernels::KernelRegistry::table(packed.path()), geometry, batch, codes.data(),
                                zeroPoints.data(), scales.data(), packed, layer.rowScales.data(), true,
                                bias ? bias->data.data() : nullptr, y.data.data(), m_pool);
    return y;
}

Value QuantizedModel::dynamicDepthwiseConv(const Layer& layer, const Node& node, const Value& x,
                                           const QuantSpec& spec,
                                           const std::vector<const Value*>& inputs) const {
    const Value& w = m_executor.graph().initializers.at(layer.weightName);
    const ConvGeometry g = convGeometry(node, x.shape, w.shape[2], w.shape[3], false);
    const Value* bias = inputs.size() > 2 ? inputs[2] : nullptr;
    checkConvWeights(node, g, w, layer.groups, bias);                           // one input channel per group
    const kernels::DepthwiseConvShape shape = kernelDepthwiseShape(node, g, 1); // image by image

    const std::size_t imageSize =
        static_cast<std::size_t>(ops::checkedProduct(node, {g.channels, g.height, g.width}));
    const std::size_t outImage =
        static_cast<std::size_t>(ops::checkedProduct(node, {w.shape[0], g.outH, g.outW}));
    Value y;
    y.shape = {g.batch, w.shape[0], g.outH, g.outW};
    y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, y.shape)));
    std::vector<uint8_t> codes(imageSize);
    std::vector<float> scales(static_cast<std::size_t>(w.shape[0]));
    const kernels::KernelTable& path = kernels::KernelRegistry::active();
    for (int64_t i = 0; i < g.batch; ++i) {
        // Each image with its own min / max, quantized as integerLayer does: q - qmin shifts any
        // <= 8-bit integer format into 0..255.
        const float* image = x.data.data() + static_cast<std::size_t>(i) * imageSize;
        const QParams params = perTensorParams(std::span<const float>(image, imageSize), spec);
        quantizeToCodes(image, imageSize, spec, params, codes.data());
        const int32_t zx = params.zeroPoint[0] - static_cast<int32_t>(params.qmin);
        const float sx = params.scale[0];
        for (std::size_t c = 0; c < scales.size(); ++c)
            scales[c] = sx * layer.rowScales[c]; // integerLayer's per-channel factor, rounded alike
        kernels::int8DepthwiseConvFloat(path, shape, codes.data(), zx, layer.depthwiseWeights.data(),
                                        scales.data(), bias ? bias->data.data() : nullptr,
                                        y.data.data() + static_cast<std::size_t>(i) * outImage, m_pool);
    }
    return y;
}

bool QuantizedModel::runLayer(QuantMode mode, const Layer& layer, const std::vector<const Value*>& inputs,
                              std::vector<Value>& outputs) const {
    const Node& node = m_executor.graph().nodes[layer.nodeIndex];
    std::vector<const Value*> withWeights = inputs;
    withWeights[1] = &m_dequantizedWeights.at(layer.name);
    const Value& x = ops::requireInput(node, inputs, 0);
    switch (mode) {
    case QuantMode::Fp32:
        return false;
    case QuantMode::WeightOnly: {
        if (!layer.int4) {
            outputs = m_executor.runNode(node, withWeights); // dequantized weights, fp32 arithmetic
            return true;
        }
        const int64_t k = layer.int4->k(), n = layer.int4->n();
        if (x.rank() < 1 || x.shape.back() != k)
            throw Error(ops::nodeSubject(node), "input " + shapeToString(x.shape) +
                                                    " does not end in the weights' " + std::to_string(k) +
                                                    " inputs");
        const int64_t m = x.size() / k;
        Value y;
        y.shape = x.shape;
        y.shape.back() = n;
        y.data.resize(static_cast<std::size_t>(ops::checkedProduct(node, {m, n})));
        if (m > 0)
            kernels::int4Gemm(kernels::KernelRegistry::active(), x.data.data(), static_cast<int>(m),
                              *layer.int4, y.data.data(), kernels::Int4Activations::Float32);
        if (node.opType == "Gemm")
            applyGemmEpilogue(node, x, inputs.size() > 2 ? inputs[2] : nullptr, m, n, y.data);
        outputs.clear();
        outputs.push_back(std::move(y));
        return true;
    }
    case QuantMode::Dynamic: {
        QuantSpec spec = m_config.activation;
        spec.calib = CalibMethod::MinMax;
        if (node.opType == "Conv") {
            if (!layer.integerPath || !fitsUint8(spec) || x.rank() != 4)
                return false; // fp32 with the dequantized weights is not dynamic quantization
            if (layer.hwcWeights && x.shape[0] > 0) {
                outputs.clear();
                outputs.push_back(dynamicConv(layer, node, x, spec, inputs));
                return true;
            }
            if (!layer.depthwiseWeights.empty() && x.shape[0] > 0) {
                outputs.clear();
                outputs.push_back(dynamicDepthwiseConv(layer, node, x, spec, inputs));
                return true;
            }
            // Other grouped convolutions (and weight zero points that differ): image by image.
            // Each image with its own min / max (PyTorch's dynamic rule applied per sample, so a
            // result does not depend on the other images of the batch), then the int8 GEMM.
            const int64_t images = x.shape[0];
            const std::size_t imageSize = images > 0 ? x.data.size() / static_cast<std::size_t>(images) : 0;
            Value y;
            for (int64_t i = 0; i < images; ++i) {
                Value image;
                image.shape = x.shape;
                image.shape[0] = 1;
                image.data.assign(x.data.begin() + static_cast<std::ptrdiff_t>(i * imageSize),
                                  x.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * imageSize));
                const QParams params = perTensorParams(image.data, spec);
                Value part = integerLayer(layer, node, image, params, spec, inputs);
                if (i == 0) {
                    y.shape = part.shape;
                    y.shape[0] = images;
                    y.data.reserve(part.data.size() * static_cast<std::size_t>(images));
                }
                y.data.insert(y.data.end(), part.data.begin(), part.data.end());
            }
            if (images == 0)
                return false;
            outputs.clear();
            outputs.push_back(std::move(y));
            return true;
        }
        // Per batch min / max, as PyTorch's dynamic Linear, whatever --calib says.
        const QParams params = perTensorParams(x.data, spec);
        if (layer.integerPath && fitsUint8(spec)) {
            outputs.clear();
            outputs.push_back(integerLayer(layer, node, x, params, spec, inputs));
            return true;
        }
        Value fake = x;
        fakeQuantize(fake.data, spec, params);
        withWeights[0] = &fake;
        outputs = m_executor.runNode(node, withWeights);
        return true;
    }
    case QuantMode::Static: {
        const auto found = m_activations.find(node.inputs[0]);
        if (found == m_activations.end()) { // a constant input (no activation): quantized weights only
            outputs = m_executor.runNode(node, withWeights);
            return true;
        }
        const QParamsEntry& entry = found->second;
        if (layer.integerPath && fitsUint8(entry.spec)) {
            outputs.clear();
            outputs.push_back(integerLayer(layer, node, x, *entry.params, entry.spec, inputs));
            return true;
        }
        outputs = m_executor.runNode(node, withWeights); // the input is already quantized
        return true;
    }
    }
    return false;
}

std::map<std::string, Value> QuantizedModel::run(QuantMode mode, std::map<std::string, Value> inputs) const {
    if (mode == QuantMode::Static && m_pipeline)
        return m_pipeline->run(std::move(inputs), m_pool);
    return runExecutor(mode, std::move(inputs), {});
}

std::map<std::string, Value> QuantizedModel::runStaticSimulation(std::map<std::string, Value> inputs) const {
    return runExecutor(QuantMode::Static, std::move(inputs), {});
}

std::map<std::string, Value>
QuantizedModel::run(QuantMode mode, std::map<std::string, Value> inputs,
                    const std::function<void(const std::string&, const Value&)>& observe) const {
    if (!observe)
        return run(mode, std::move(inputs));
    return runExecutor(mode, std::move(inputs), observe);
}

std::map<std::string, Value>
QuantizedModel::runExecutor(QuantMode mode, std::map<std::string, Value> inputs,
                            const std::function<void(const std::string&, const Value&)>& observe) const {
    if (mode == QuantMode::Static && !calibrated())
        throw Error("static mode",
                    "the activations have not been calibrated (no samples or parameters given)");
    Executor::Hooks hooks;
    if (mode != QuantMode::Fp32) {
        hooks.replaceNode = [&](const Node& node, const std::vector<const Value*>& nodeInputs,
                                std::vector<Value>& outputs) {
            const std::size_t index = static_cast<std::size_t>(&node - m_executor.graph().nodes.data());
            const auto layer = m_layerOfNode.find(index);
            return layer != m_layerOfNode.end() &&
                   runLayer(mode, m_layers[layer->second], nodeInputs, outputs);
        };
    }
    // Only when something looks at the values: without hooks the executor fuses Conv + Relu / Clip.
    if (mode == QuantMode::Static || observe) {
        hooks.onValue = [&](const std::string& name, Value& value) {
            if (mode == QuantMode::Static)
                quantizeValue(name, value);
            if (observe)
                observe(name, value);
        };
    }
    return m_executor.run(std::move(inputs), hooks);
}

Value QuantizedModel::runLayerAlone(QuantMode mode, std::size_t layerIndex,
                                    const std::vector<const Value*>& fp32Inputs) const {
    const Layer& layer = m_layers.at(layerIndex);
    const Node& node = m_executor.graph().nodes[layer.nodeIndex];
    std::vector<const Value*> inputs = fp32Inputs;
    Value x;
    if (mode == QuantMode::Static) {
        x = ops::requireInput(node, fp32Inputs, 0);
        quantizeValue(node.inputs[0], x);
        inputs[0] = &x;
    }
    std::vector<Value> outputs;
    if (!runLayer(mode, layer, inputs, outputs))
        outputs = m_executor.runNode(node, inputs);
    if (mode == QuantMode::Static)
        quantizeValue(node.outputs[0], outputs[0]);
    return std::move(outputs[0]);
}

uint64_t QuantizedModel::sizeBytes(QuantMode mode) const {
    std::map<std::string, const Layer*> quantizedWeights;
    if (mode != QuantMode::Fp32) {
        for (const auto& layer : m_layers)
            quantizedWeights.emplace(layer.weightName, &layer);
    }
    uint64_t bytes = 0;
    for (const auto& [name, value] : m_executor.graph().initializers) {
        const auto layer = quantizedWeights.find(name);
        if (layer == quantizedWeights.end()) {
            bytes += static_cast<uint64_t>(value.size()) * (value.isInteger() ? 8u : 4u);
            continue;
        }
        // The rule every size the program shows follows (fp16 / bf16 store no scale).
        bytes += quantizedStorageBytes(static_cast<int64_t>(value.data.size()), layer->second->weight.spec,
                                       static_cast<int64_t>(layer->second->weight.params.blockCount()));
    }
    if (mode == QuantMode::Static)
        bytes += m_activations.size() * 8u; // one scale and zero point per activation
    return bytes;
}

QParamsDocument QuantizedModel::document() const {
    QParamsDocument doc;
    doc.source = FileReference::describe(m_executor.graph().path);
    if (!m_calibrationPath.empty()) {
        doc.calibration = FileReference::describe(m_calibrationPath);
        doc.calibration->samples = m_calibrationSamples;
    }
    for (const auto& layer : m_layers) {
        QParamsEntry entry;
        entry.name = layer.weightName;
        entry.kind = TensorKind::Weight;
        entry.shape = layer.weight.shape;
        entry.spec = layer.weight.spec;
        entry.params = layer.weight.params;
        entry.metrics = layer.weight.metrics;
        doc.tensors.push_back(std::move(entry));
    }
    // Activations in graph order: inputs, then node outputs.
    std::vector<std::string> order;
    for (const auto& input : m_executor.graph().inputs)
        order.push_back(input.name);
    for (const auto& node : m_executor.graph().nodes)
        order.insert(order.end(), node.outputs.begin(), node.outputs.end());
    for (const auto& name : order) {
        const auto found = m_activations.find(name);
        if (found != m_activations.end())
            doc.tensors.push_back(found->second);
    }
    return doc;
}

} // namespace quantscope
