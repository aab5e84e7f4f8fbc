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
        prefix[static_cast<std::size_t>(j) + 1] = prefix[static_cast<std::size_t>(j)] + bins[static_cast<std::size_t>(j)];
    const double total = prefix.back();

    double bestDivergence = std::numeric_limits<double>::infinity();
    int64_t best = n;
    const int64_t first = n > kStartBin ? kStartBin : 1;
    for (int64_t i = first; i <= n; ++i) {
        const double clippedMass = total - prefix[static_cast<std::size_t>(i)];
        const double sumP = total;
        const double sumQ = prefix[static_cast<std::size_t>(i)];
        double divergence = 0.0;
        if (sumP <= 0.0 || sumQ <= 0.0) {
            divergence = std::numeric_limits<double>::infinity(); // scipy's entropy is NaN here
        } else {
            // Bins j < i fall into quantized bin k = floor(j * levels / i) (numpy.digitize over
            // linspace(0, i, levels + 1)); consecutive j share k, so walk the runs.
            int64_t j0 = 0;
            while (j0 < i && std::isfinite(divergence)) {
                const int64_t k = j0 * levels / i;
                const int64_t j1 = std::min(i, ((k + 1) * i + levels - 1) / levels);
                double groupSum = 0.0;
                int64_t groupNonEmpty = 0;
                for (int64_t j = j0; j < j1; ++j) {
                    const double b = bins[static_cast<std::size_t>(j)];
                    if (b != 0.0) {
                        groupSum += b;
                        ++groupNonEmpty;
                    }
                }
                const double average = groupNonEmpty > 0 ? groupSum / static_cast<double>(groupNonEmpty) : 0.0;
                for (int64_t j = j0; j < j1; ++j) {
                    const double b = bins[static_cast<std::size_t>(j)];
                    const double p = (b + (j == i - 1 ? clippedMass : 0.0)) / sumP;
                    if (p <= 0.0)
                        continue;
                    const double q = b != 0.0 ? average / sumQ : 0.0;
                    if (q <= 0.0) {
                        divergence = std::numeric_limits<double>::infinity();
                        break;
                    }
                    divergence += p * std::log(p / q);
                }
                j0 = j1;
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
    const auto t = static_cast<float>(static_cast<double>(edge) * m_histogram.binWidth());
    return unsignedData ? Range{0.0f, t} : Range{-t, t};
}

} // namespace quantscope
