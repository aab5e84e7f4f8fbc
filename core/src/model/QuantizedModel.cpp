#include "quantscope/model/QuantizedModel.h"

#include "model/ActivationCalibration.h"
#include "model/ActivationCodes.h"
#include "model/IntegerPipeline.h"
#include "model/LayerRunner.h"
#include "model/LayerWeights.h"
#include "model/Ops.h"
#include "quantscope/Error.h"
#include "quantscope/quant/StorageSize.h"
#include "quantscope/quant/ValueQuantizer.h"

namespace quantscope {

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
        if (!isQuantizedLayer(graph, node))
            continue;
        Layer layer;
        layer.nodeIndex = i;
        layer.name = node.label();
        layer.weightName = node.inputs[1];
        layer.groups = node.opType == "Conv" ? node.intAttribute("group", 1) : 1;
        std::tie(layer.requestedSpec, layer.requestedParams) = weightSettings(graph, layer, m_config);
        m_dequantizedWeights[layer.name] = quantizeLayerWeights(graph, layer);
        m_layerOfNode[i] = m_layers.size();
        m_layers.push_back(std::move(layer));
    }
}

QuantizedModel::~QuantizedModel() = default;

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
    auto calibration = std::make_unique<ActivationCalibration>();
    calibration->observe(
        m_executor, samples, batchSize, progress, [](const std::string&) { return true; }, activationSpecs());
    m_calibration = std::move(calibration);
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
    ActivationCalibration added;
    added.observe(m_executor, samples, batchSize, progress, needed, activationSpecs());
    m_calibration->merge(std::move(added));
    computeActivationParams();
    planPipeline();
    return true;
}

std::function<QuantSpec(const std::string&)> QuantizedModel::activationSpecs() const {
    return [this](const std::string& name) { return activationSpecFor(name); };
}

bool QuantizedModel::computeActivationParams() {
    auto entries = m_calibration->entries(activationSpecs(), m_config.params ? &*m_config.params : nullptr);
    if (!entries)
        return false;
    m_activations = std::move(*entries);
    m_calibrationPath = m_calibration->samplesPath();
    m_calibrationSamples = m_calibration->sampleCount();
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
            settings.push_back(weightSettings(m_executor.graph(), layer, m_config));
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
        m_dequantizedWeights[layer.name] = quantizeLayerWeights(m_executor.graph(), layer);
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
    const QuantSpec dynamicSpec = dynamicActivationSpec();
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
                execution.quantized = execution.integer =
                    l.integerPath && LayerRunner::takesCodes(dynamicSpec);
            } else {
                execution.quantized = true; // on the int8 core, or simulated in float
                execution.integer = l.integerPath && LayerRunner::takesCodes(dynamicSpec);
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

QuantSpec QuantizedModel::dynamicActivationSpec() const {
    // Dynamic mode measures each input's range per tensor with min-max, whatever --calib says.
    QuantSpec spec = m_config.activation;
    spec.calib = CalibMethod::MinMax;
    return spec;
}

bool QuantizedModel::runLayer(QuantMode mode, const Layer& layer, const std::vector<const Value*>& inputs,
                              std::vector<Value>& outputs) const {
    const LayerRunner runner(m_executor, m_pool);
    const Value& dequantized = m_dequantizedWeights.at(layer.name);
    switch (mode) {
    case QuantMode::Fp32:
        return false;
    case QuantMode::WeightOnly:
        outputs = runner.weightOnly(layer, dequantized, inputs);
        return true;
    case QuantMode::Dynamic:
        return runner.dynamic(layer, dequantized, dynamicActivationSpec(), inputs, outputs);
    case QuantMode::Static: {
        const Node& node = m_executor.graph().nodes[layer.nodeIndex];
        const auto input = m_activations.find(node.inputs[0]); // none: a constant input
        outputs = runner.simulatedStatic(layer, dequantized,
                                         input == m_activations.end() ? nullptr : &input->second, inputs);
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
