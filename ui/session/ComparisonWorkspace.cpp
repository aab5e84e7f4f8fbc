#include "session/ComparisonWorkspace.h"

#include "quantscope/samples/SampleFiles.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/quant/QParamsCalculator.h"

namespace quantscope::ui {
namespace {

// Samples for the model's inputs: an .npz keyed by the input names feeds a model with several
// inputs (or an integer input); other files and image folders go through the app's sample reader.
SampleSet samplesFor(const Executor& executor, const QString& path) {
    const std::string file = path.toStdString();
    if (path.endsWith(QLatin1String(".npz"), Qt::CaseInsensitive))
        return SampleSet::loadForInputs(file, executor.graph().inputs);
    return loadSampleFile(file);
}

// The calibration batch of the CLI and of the activation capture: the same batches, the same
// observed values.
constexpr int64_t kCalibrationBatch = 256;

// Scoring runs the CLI's batches (so the app's figures equal `eval`'s); timing and per-layer SQNR
// run small ones, which a cancellation interrupts sooner.
EvalOptions scoringOptions() {
    return EvalOptions{};
}

EvalOptions timingOptions() {
    EvalOptions options;
    options.batchSize = ModelComparison::kTimedSamples;
    options.timedSamples = ModelComparison::kTimedSamples;
    options.latencySamples = ModelComparison::kLatencySamples;
    options.minSeconds = 0.0;
    options.minRepeats = 2; // the faster of two passes
    return options;
}

EvalOptions layerOptions() {
    EvalOptions options;
    options.batchSize = ModelComparison::kFirstSamples;
    return options;
}

} // namespace

void ComparisonWorkspace::load(const ModelSetup& setup, const ProgressCallback& progress) {
    m_loaded.reset();
    m_timings.clear();
    m_layers.reset();
    m_timer.reset();
    m_evaluator.reset();
    m_model.reset();
    m_executor = std::make_unique<Executor>(loadOnnxGraph(setup.model.toStdString()));
    reportProgress(progress, Stage::Opened, 0.0);
    m_samples = std::make_unique<SampleSet>(samplesFor(*m_executor, setup.samples));
    m_calibration.reset();
    if (!setup.calibration.isEmpty())
        m_calibration = std::make_unique<SampleSet>(samplesFor(*m_executor, setup.calibration));
    m_labels.reset();
    if (!setup.labels.isEmpty())
        m_labels = loadLabelFile(setup.labels.toStdString());
    ++m_loads;
}

void ComparisonWorkspace::configure(const ModelSetup& setup, const ModelQuantConfig& config, int generation,
                                    const ProgressCallback& progress) {
    m_generation = 0; // until this configuration is complete
    m_firstSlice.clear();
    if (!m_loaded || !(*m_loaded == setup)) {
        load(setup, progress);
        m_loaded = setup;
    }
    const SampleSet& calibration = m_calibration ? *m_calibration : *m_samples;
    if (!m_model) {
        // Held here until calibrated: a cancelled calibration leaves no half-made model behind.
        auto model = std::make_unique<QuantizedModel>(*m_executor, config);
        model->calibrate(calibration, kCalibrationBatch, progress);
        ++m_calibrationPasses;
        m_lastRequantized = static_cast<int>(model->layers().size());
        m_model = std::move(model);
        m_evaluator = std::make_unique<ModelEvaluator>(*m_model, *m_samples, m_labels, scoringOptions());
        m_timer = std::make_unique<ModelEvaluator>(*m_model, *m_samples, m_labels, timingOptions());
        m_layers = std::make_unique<ModelEvaluator>(*m_model, *m_samples, m_labels, layerOptions());
    } else {
        const QuantizedModel::Reconfiguration done = m_model->reconfigure(config);
        m_lastRequantized = done.weightsRequantized;
        if (done.needsCalibration || !m_model->calibrated()) {
            if (m_model->calibrateMissing(calibration, kCalibrationBatch, progress))
                ++m_calibrationPasses;
        }
    }
    m_generation = generation;
}

QParams ComparisonWorkspace::capturedParams(const std::shared_ptr<const WeightFile>& activations,
                                            const std::string& name, const QuantSpec& spec) {
    if (m_capturedFrom.lock() != activations) {
        m_captured.clear();
        m_capturedFrom = activations;
    }
    const auto found = m_captured.find(name);
    if (found != m_captured.end() && found->second.spec == spec)
        return found->second.params;
    const std::vector<Range> ranges = calibrateBlocks(activations->load(name), spec);
    QParams params = computeQParams(ranges, spec);
    m_captured[name] = {spec, params};
    return params;
}

void ComparisonWorkspace::checkGeneration(int generation) const {
    if (generation != m_generation || !m_model)
        throw Cancelled();
}

int64_t ComparisonWorkspace::timedSamples() const {
    return std::min(timingOptions().timedSamples, m_samples ? m_samples->count() : 0);
}

std::string ComparisonWorkspace::timingKey(QuantMode mode) const {
    std::string key;
    for (const QuantizedModel::NodeExecution& node : m_model->execution(mode))
        key += node.opType + (node.quantized ? "+q" : "") + (node.integer ? "+i" : "") + "/" +
               node.fusedInto + ";";
    if (mode == QuantMode::Fp32)
        return key;
    // The kernels a layer's weights allow (dynamic mode's conv paths, weight-only's int4 GEMM).
    for (const QuantizedModel::Layer& layer : m_model->layers())
        key += std::string(layer.integerPath ? "i" : "f") + (layer.hwcWeights ? "h" : "") +
               (layer.depthwiseWeights.empty() ? "" : "d") + (layer.int4 ? "4" : "") + ";";
    return key;
}

bool ComparisonWorkspace::measureTiming(ModeResult& result, const ProgressCallback& progress) {
    const std::string key = timingKey(result.mode);
    const auto found = m_timings.find(result.mode);
    if (found != m_timings.end() && found->second.key == key) {
        result.latencyMs = found->second.latencyMs;
        result.throughputSps = found->second.throughputSps;
        return true;
    }
    m_timer->measureTiming(result, progress);
    m_timings[result.mode] = {key, result.latencyMs, result.throughputSps};
    return false;
}

std::vector<LayerSqnr> ComparisonWorkspace::layerSqnr(const ProgressCallback& progress) {
    return m_layers->layerSqnr(QuantMode::Static, progress);
}

} // namespace quantscope::ui
