#include "quantscope/calib/Observer.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"
#include "quantscope/calib/EntropyObserver.h"
#include "quantscope/calib/HistogramObserver.h"
#include "quantscope/calib/MinMaxObserver.h"
#include "quantscope/calib/MovingAverageObserver.h"
#include "quantscope/calib/MseObserver.h"
#include "quantscope/calib/PercentileObserver.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <cmath>
#include <string>
#include <vector>

namespace quantscope {
namespace {

// Counts NaN and ±Inf with the active kernel path's vectorised loop (KernelRegistry).
std::size_t countNonfinite(const float* data, std::size_t count) {
    return kernels::KernelRegistry::active().chunk.countNonfinite(data, count);
}

} // namespace

void Observer::observe(std::span<const float> values) {
    throwIfCancelled();
    const std::size_t nonfinite = observeAll(values);
    m_nonfinite += static_cast<int64_t>(nonfinite);
    m_finite += static_cast<int64_t>(values.size() - nonfinite);
}

std::size_t Observer::observeAll(std::span<const float> values) {
    const std::size_t nonfinite = countNonfinite(values.data(), values.size());
    if (nonfinite == 0) {
        // The common case: nothing to filter, no copy.
        if (!values.empty())
            observeFinite(values);
        return 0;
    }
    std::vector<float> finite;
    finite.reserve(values.size() - nonfinite);
    for (std::size_t i = 0; i < values.size(); ++i)
        if (std::isfinite(values[i]))
            finite.push_back(values[i]);
    if (!finite.empty())
        observeFinite(finite);
    return nonfinite;
}

QParams observedParams(const Observer& observer, const QuantSpec& spec) {
    const Range range = observer.range();
    QParams params = computeQParams(std::span<const Range>(&range, 1), spec);
    params.min = {range.min};
    params.max = {range.max};
    return params;
}

std::unique_ptr<Observer> makeObserver(const QuantSpec& spec) {
    switch (spec.calib) {
    case CalibMethod::MinMax:
        return std::make_unique<MinMaxObserver>(spec);
    case CalibMethod::MovingAverage:
        return std::make_unique<MovingAverageObserver>(spec);
    case CalibMethod::Percentile:
        return std::make_unique<PercentileObserver>(spec);
    case CalibMethod::Mse:
        return std::make_unique<MseObserver>(spec);
    case CalibMethod::Entropy:
        return std::make_unique<EntropyObserver>(spec);
    case CalibMethod::Histogram:
        return std::make_unique<HistogramObserver>(spec);
    }
    throw Error("--calib", "unknown calibration method " + std::to_string(static_cast<int>(spec.calib)) +
                               " (allowed: minmax, moving-average, percentile, mse, entropy, histogram)");
}

} // namespace quantscope
