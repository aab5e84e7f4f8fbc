#include "quantscope/calib/MseObserver.h"

#include "quantscope/quant/FloatCodes.h"
#include "quantscope/quant/QParamsCalculator.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope {
namespace {

// Sum of count * (q(c) - c)^2 over the bin centres, each quantized with the parameters that the
// candidate range gives in this spec.
struct WeightedCentre {
    float centre;
    double count;
};

double weightedError(const std::vector<WeightedCentre>& centres, Range candidate, const QuantSpec& spec) {
    float scale = 1.0f;
    int32_t zeroPoint = 0;
    computeBlockParams(candidate, spec, scale, zeroPoint);
    double error = 0.0;
    if (spec.format.isInteger()) {
        const IntegerQuantizer quantizer(scale, zeroPoint, static_cast<int32_t>(spec.qmin()),
                                         static_cast<int32_t>(spec.qmax()));
        for (const auto& [centre, count] : centres) {
            const double d = static_cast<double>(quantizer.dequantize(quantizer.quantize(centre))) - centre;
            error += count * d * d;
        }
        return error;
    }
    for (const auto& [centre, count] : centres) {
        uint32_t code = 0;
        bool clipped = false;
        const double d =
            static_cast<double>(fakeQuantizeFloat(centre, scale, spec.format, code, clipped)) - centre;
        error += count * d * d;
    }
    return error;
}

} // namespace

float MseObserver::thresholdFromHistogram(const std::vector<int64_t>& counts, double binWidth,
                                          const QuantSpec& spec, bool unsignedData) {
    const auto bins = static_cast<int64_t>(counts.size());
    if (bins == 0)
        return 0.0f;
    // Candidates are the centres of bins kStartBin .. bins-1 (all of them for a short histogram).
    const int64_t first = bins > kStartBin ? kStartBin : 0;
    // Empty bins add nothing to any candidate's error: leave them out once.
    std::vector<WeightedCentre> centres;
    for (int64_t j = 0; j < bins; ++j)
        if (counts[static_cast<std::size_t>(j)] != 0)
            centres.push_back({static_cast<float>((static_cast<double>(j) + 0.5) * binWidth),
                               static_cast<double>(counts[static_cast<std::size_t>(j)])});
    double bestError = std::numeric_limits<double>::infinity();
    int64_t best = bins - 1;
    for (int64_t i = first; i < bins; ++i) {
        const auto t = static_cast<float>((static_cast<double>(i) + 0.5) * binWidth);
        const Range candidate = unsignedData ? Range{0.0f, t} : Range{-t, t};
        const double error = weightedError(centres, candidate, spec);
        if (error < bestError) { // the first minimum, as numpy.argmin
            bestError = error;
            best = i;
        }
    }
    return static_cast<float>((static_cast<double>(best) + 0.5) * binWidth);
}

Range MseObserver::range() const {
    if (m_histogram.empty())
        return {};
    const bool unsignedData = spec().scheme == Scheme::Affine && !m_histogram.sawNegative();
    const float t =
        std::min(thresholdFromHistogram(m_histogram.counts(), m_histogram.binWidth(), spec(), unsignedData),
                 m_histogram.maxAbs());
    return unsignedData ? Range{0.0f, t} : Range{-t, t};
}

} // namespace quantscope
