#include "quantscope/analysis/TensorResultBuilder.h"

#include "quantscope/quant/StorageSize.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/quant/QParamsCalculator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace quantscope::ui {
namespace {

AnalysisOptions optionsFor(const TensorSettings& settings, const ProgressCallback& progress) {
    AnalysisOptions options;
    options.progress = progress;
    options.fixedParams = settings.fixedParams();
    return options;
}

} // namespace

std::shared_ptr<TensorResult> TensorResultBuilder::build(const Tensor& tensor, const TensorSettings& settings,
                                                         const ProgressCallback& progress) {
    AnalysisOptions options = optionsFor(settings, progress);
    options.keepDequantized = true;
    options.perBlockMetrics = settings.spec.granularity != Granularity::Tensor;
    auto result = std::make_shared<TensorResult>();
    result->settings = settings;
    result->analysis = analyzeTensor(tensor, settings.spec, options);

    const auto x = tensor.values();
    const std::vector<float> xhat = std::move(result->analysis.dequantized);
    result->analysis.dequantized = {};
    result->analysis.integers = {};
    result->sizeBytes = static_cast<double>(quantizedStorageBytes(
        tensor.size(), settings.spec, static_cast<int64_t>(result->analysis.params.blockCount())));
    if (xhat.size() != x.size())
        return result;

    // The error range is known from the metrics: one pass fills the histogram. Four interleaved
    // count arrays keep consecutive values that land in the same bin (most of them, near zero)
    // from waiting on each other's increments.
    double hi = result->analysis.metrics.maxAbsError;
    if (!(hi > 0.0))
        hi = 0.5;
    const double lo = -hi;
    result->errorMin = lo;
    result->errorMax = hi;
    std::array<std::vector<int64_t>, 4> counts;
    for (auto& c : counts)
        c.assign(kErrorBins, 0);
    const float inverseWidth = static_cast<float>(kErrorBins / (hi - lo));
    const auto flo = static_cast<float>(lo);
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i]))
            continue;
        const float e = x[i] - xhat[i];
        const int bin = std::clamp(static_cast<int>((e - flo) * inverseWidth), 0, kErrorBins - 1);
        ++counts[i & 3][static_cast<std::size_t>(bin)];
    }
    result->errorCounts.assign(kErrorBins, 0.0);
    for (std::size_t b = 0; b < static_cast<std::size_t>(kErrorBins); ++b)
        result->errorCounts[b] =
            static_cast<double>(counts[0][b] + counts[1][b] + counts[2][b] + counts[3][b]);

    // An even stride over the tensor, then sorted by x: enough points to show every step of the
    // staircase of a low-bit format, few enough to draw instantly.
    const std::size_t stride = std::max<std::size_t>(1, x.size() / kTransferPoints);
    std::vector<std::size_t> picked;
    for (std::size_t i = 0; i < x.size(); i += stride)
        if (std::isfinite(x[i]))
            picked.push_back(i);
    std::sort(picked.begin(), picked.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
    result->transferX.reserve(picked.size());
    result->transferY.reserve(picked.size());
    for (std::size_t i : picked) {
        result->transferX.push_back(x[i]);
        result->transferY.push_back(xhat[i]);
    }
    reportProgress(progress, Stage::Results, 1.0);
    return result;
}

TensorSummary TensorResultBuilder::summarize(const Tensor& tensor, const TensorSettings& settings,
                                             const ProgressCallback& progress) {
    return TensorSummary{settings,
                         analyzeTensor(tensor, settings.spec, optionsFor(settings, progress)).metrics};
}

std::map<CalibMethod, Range> TensorResultBuilder::calibrationMarkers(const Tensor& tensor,
                                                                     const QuantSpec& spec,
                                                                     const ProgressCallback& progress) {
    constexpr std::array kMethods{CalibMethod::MinMax, CalibMethod::MovingAverage, CalibMethod::Percentile,
                                  CalibMethod::Mse,    CalibMethod::Entropy,       CalibMethod::Histogram};
    std::map<CalibMethod, Range> markers;
    QuantSpec perTensor = spec;
    perTensor.granularity = Granularity::Tensor;
    for (std::size_t i = 0; i < kMethods.size(); ++i) {
        perTensor.calib = kMethods[i];
        try {
            const auto ranges = calibrateBlocks(tensor, perTensor);
            if (!ranges.empty())
                markers[kMethods[i]] = ranges.front();
        } catch (const Error&) {
            // A method the core refuses for these settings (or does not have) gets no marker.
        }
        reportProgress(progress, Stage::Statistics, static_cast<double>(i + 1) / kMethods.size());
    }
    return markers;
}

} // namespace quantscope::ui
