#pragma once

// Internal to core: static calibration's observers, kept per activation so that new settings
// with a calibration method already observed need no second pass over the samples.

#include "quantscope/Progress.h"
#include "quantscope/calib/Observer.h"
#include "quantscope/export/QParamsDocument.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/SampleSet.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace quantscope {

class ActivationCalibration {
public:
    // The settings of one activation, by name.
    using SpecFor = std::function<QuantSpec(const std::string&)>;

    // Runs the samples through the fp32 model in batches (a fixed-batch model is fed exactly that
    // many samples per run; the padded rows never reach an observer) and adds an observer of
    // specFor(name) to every float activation `needed` names. Records the samples as the source.
    void observe(const Executor& executor, const SampleSet& samples, int64_t batchSize,
                 const ProgressCallback& progress, const std::function<bool(const std::string&)>& needed,
                 const SpecFor& specFor);

    // Takes over the observers of `added`, a pass over the same samples.
    void merge(ActivationCalibration&& added);

    // An observer kept for `name` that can serve `spec`; null when there is none.
    Observer* observerFor(const std::string& name, const QuantSpec& spec) const;

    // Every observed activation's entry, in the order they were first produced: the parameters
    // `given` holds for it applied exactly as written, else computed from its observer. nullopt
    // when an activation has no observer that can serve its spec.
    std::optional<std::map<std::string, QParamsEntry>> entries(const SpecFor& specFor,
                                                               const QParamsDocument* given) const;

    const std::string& samplesPath() const { return m_path; }
    int64_t sampleCount() const { return m_samples; }

private:
    struct Activation {
        std::vector<std::unique_ptr<Observer>> observers; // one per calibration method seen
        std::vector<int64_t> shape;
        bool batched = true; // the leading dimension followed the batch size every time
    };
    std::map<std::string, Activation> m_activations;
    std::vector<std::string> m_order; // as first produced
    int64_t m_samples = 0;
    std::string m_path;
};

} // namespace quantscope
