#include "quantscope/calib/EntropyObserver.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope {

int64_t EntropyObserver::quantizedBins(const QuantSpec& spec, bool unsignedData) {
    int64_t levels = 0;
    if (spec.format.isInteger())
        levels = spec.qmax() - spec.qmin() + 1;
    else
        levels = int64_t{1} << std::min(spec.format.storageBits(), 16);
    // pytorch-quantization: 1 << (num_bits - 1 + unsigned), i.e. the levels on one side of zero.
    return std::max<int64_t>(unsignedData ? levels : levels / 2, 1);
}

int64_t EntropyObserver::bestEdge(const std::vector<int64_t>& counts, int64_t levels) {
    const auto n = static_cast<int64_t>(counts.size());
    if (n == 0)
        return 0;
    std::vector<double> bins(counts.begin(), counts.end());
    if (n > 1)
        bins[0] = bins[1]; // as _compute_amax_entropy: the zero bin is usually an outlier spike
    std::vector<double> prefix(static_cast<std::size_t>(n) + 1, 0.0);
    for (int64_t j = 0; j < n; ++j)
        prefix[static_cast<std::size_t>(j) + 1] =
            prefix[static_cast<std::size_t>(j)] + bins[static_cast<std::size_t>(j)];
    const double total = prefix.back();

    // Only non-empty bins contribute to P and Q (an empty bin's Q is 0 and its P is 0, except the
    // last bin that receives the clipped mass): walk them alone, which keeps sparse histograms cheap.
    std::vector<int64_t> filled;
    for (int64_t j = 0; j < n; ++j)
        if (bins[static_cast<std::size_t>(j)] != 0.0)
            filled.push_back(j);

    double bestDivergence = std::numeric_limits<double>::infinity();
    int64_t best = n;
    const int64_t first = n > kStartBin ? kStartBin : 1;
    std::size_t filledBelow = 0; // filled[0 .. filledBelow) are the non-empty bins below i
    for (int64_t i = first; i <= n; ++i) {
        while (filledBelow < filled.size() && filled[filledBelow] < i)
            ++filledBelow;
        const double clippedMass = total - prefix[static_cast<std::size_t>(i)];
        const double sumP = total;
        const double sumQ = prefix[static_cast<std::size_t>(i)];
        const bool lastBinEmpty = bins[static_cast<std::size_t>(i - 1)] == 0.0;
        double divergence = 0.0;
        if (sumQ <= 0.0 || (lastBinEmpty && clippedMass > 0.0)) {
            // Q is empty (scipy's entropy is NaN), or the clipped mass sits where Q is 0.
            divergence = std::numeric_limits<double>::infinity();
        } else {
            // Bin j < i falls into quantized bin k = floor(j * levels / i) (numpy.digitize over
            // linspace(0, i, levels + 1)); Q spreads each k's total evenly over its non-empty bins.
            std::size_t groupBegin = 0;
            while (groupBegin < filledBelow) {
                const int64_t k = filled[groupBegin] * levels / i;
                std::size_t groupEnd = groupBegin;
                double groupSum = 0.0;
                while (groupEnd < filledBelow && filled[groupEnd] * levels / i == k) {
                    groupSum += bins[static_cast<std::size_t>(filled[groupEnd])];
                    ++groupEnd;
                }
                const double q = groupSum / static_cast<double>(groupEnd - groupBegin) / sumQ;
                for (std::size_t g = groupBegin; g < groupEnd; ++g) {
                    const int64_t j = filled[g];
                    const double p =
                        (bins[static_cast<std::size_t>(j)] + (j == i - 1 ? clippedMass : 0.0)) / sumP;
                    divergence += p * std::log(p / q);
                }
                groupBegin = groupEnd;
            }
        }
        if (std::isnan(divergence))
            divergence = std::numeric_limits<double>::infinity();
        if (divergence <= bestDivergence) { // the last minimum, as _compute_amax_entropy
            bestDivergence = divergence;
            best = i;
        }
    }
    return best;
}

Range EntropyObserver::range() const {
    if (m_histogram.empty())
        return {};
    const bool unsignedData = spec().scheme == Scheme::Affine && !m_histogram.sawNegative();
    const int64_t edge = bestEdge(m_histogram.counts(), quantizedBins(spec(), unsignedData));
    const auto t = static_cast<float>(std::min(static_cast<double>(edge) * m_histogram.binWidth(),
                                               static_cast<double>(m_histogram.maxAbs())));
    return unsignedData ? Range{0.0f, t} : Range{-t, t};
}

} // namespace quantscope
