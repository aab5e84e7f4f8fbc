#pragma once

#include "session/ModelComparison.h"

#include "quantscope/Progress.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/ModelEvaluator.h"
#include "quantscope/model/ModelQuantConfig.h"
#include "quantscope/model/QuantizedModel.h"
#include "quantscope/model/SampleSet.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace quantscope::ui {

// What one Compare refresh leaves for the next: the loaded model, its samples and labels, the
// quantized model with the observers its calibration kept, and evaluators holding fp32's
// outputs. A refresh loads only when the setup changed, re-quantizes only the weights whose
// settings changed, and runs the calibration samples through the model again only when no kept
// observer can serve the new activation settings. Used by one worker at a time: every call but
// the counters needs lock() held.
class ComparisonWorkspace {
public:
    std::unique_lock<std::mutex> lock() { return std::unique_lock(m_mutex); }

    // Loads `setup` unless it is the one loaded, then applies `config`; `generation` names this
    // configuration for the stages that follow (checkGeneration).
    void configure(const ModelSetup& setup, const ModelQuantConfig& config, int generation,
                   const ProgressCallback& progress);
    // An activation's parameters from its captured values (the ones the app shows for it),
    // computed once per activations file, name and settings.
    QParams capturedParams(const std::shared_ptr<const WeightFile>& activations, const std::string& name,
                           const QuantSpec& spec);
    // Throws Cancelled when a newer configuration replaced `generation`.
    void checkGeneration(int generation) const;

    QuantizedModel& model() { return *m_model; }
    const SampleSet& samples() const { return *m_samples; }
    // Scores accuracy, agreement and SQNR; fp32's outputs are kept per sample count.
    ModelEvaluator& evaluator() { return *m_evaluator; }
    // The first stage's results with their outputs, for the stage that scores every sample; a
    // new configuration drops them.
    void keepFirstSlice(std::vector<ModeResult> results) { m_firstSlice = std::move(results); }
    const std::vector<ModeResult>& firstSlice() const { return m_firstSlice; }
    // Times a mode on the first timedSamples() samples. A mode whose nodes run on the same
    // kernels as when it was last timed (timingKey) keeps that timing: speed follows what runs,
    // not the values of the weights or ranges. Returns whether the timing was kept.
    bool measureTiming(ModeResult& result, const ProgressCallback& progress);
    int64_t timedSamples() const;
    // Per-layer SQNR of static mode, in batches of a few samples so that a newer refresh need not
    // wait long for a cancelled one.
    std::vector<LayerSqnr> layerSqnr(const ProgressCallback& progress);

    int loads() const { return m_loads; }
    int calibrationPasses() const { return m_calibrationPasses; }
    int lastRequantized() const { return m_lastRequantized; }

private:
    void load(const ModelSetup& setup, const ProgressCallback& progress);

    std::mutex m_mutex;
    std::optional<ModelSetup> m_loaded;
    std::unique_ptr<Executor> m_executor;
    std::unique_ptr<SampleSet> m_samples;
    std::unique_ptr<SampleSet> m_calibration; // null: calibrate on m_samples
    std::optional<std::vector<int64_t>> m_labels;
    std::unique_ptr<QuantizedModel> m_model;
    std::unique_ptr<ModelEvaluator> m_evaluator;
    std::unique_ptr<ModelEvaluator> m_timer;
    std::unique_ptr<ModelEvaluator> m_layers;
    // What decides `mode`'s speed: how each node runs (which kernel path, fused into what).
    std::string timingKey(QuantMode mode) const;

    struct Timing {
        std::string key;
        double latencyMs = 0.0;
        double throughputSps = 0.0;
    };
    std::map<QuantMode, Timing> m_timings; // the last timing of each mode
    std::vector<ModeResult> m_firstSlice;
    struct CapturedParams {
        QuantSpec spec;
        QParams params;
    };
    std::weak_ptr<const WeightFile> m_capturedFrom;
    std::map<std::string, CapturedParams> m_captured;
    int m_generation = 0;
    std::atomic<int> m_loads{0};
    std::atomic<int> m_calibrationPasses{0};
    std::atomic<int> m_lastRequantized{0};
};

} // namespace quantscope::ui
