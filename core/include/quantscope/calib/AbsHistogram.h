#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace quantscope {

// Histogram of |x| over [0, upper edge] in bins of equal width, collected batch by batch as
// NVIDIA pytorch-quantization's HistogramCalibrator.collect does (torch_hist branch): the first
// batch with a non-zero value spans [0, max|x|] with 2048 bins; a later batch reaching past the
// upper edge appends bins of the same width, so earlier counts stay where they are.
// Departure: to bound memory and the searches over the bins (MSE and entropy are quadratic in the
// number of bins), when more than kMaxBins bins would be needed, neighbouring bins are merged in
// pairs (the width doubles) until they fit; counts stay exact, only coarser. This happens only when
// a later batch reaches past 4x the first batch's max|x|.
// Zeros seen before any non-zero value are kept and put in the first bin later.
class AbsHistogram {
public:
    static constexpr int kInitialBins = 2048;
    static constexpr int64_t kMaxBins = 4 * kInitialBins;

    void add(std::span<const float> finiteValues);

    // True until a non-zero value was added (then there is no width to speak of).
    bool empty() const { return m_counts.empty(); }
    const std::vector<int64_t>& counts() const { return m_counts; }
    double binWidth() const { return m_width; }
    int64_t total() const { return m_total; }
    bool sawNegative() const { return m_sawNegative; }
    // The largest |x| added: thresholds never go past it, although merged bins may.
    float maxAbs() const { return m_maxAbs; }

private:
    std::vector<int64_t> m_counts;
    double m_width = 0.0;
    int64_t m_pendingZeros = 0;
    int64_t m_total = 0;
    bool m_sawNegative = false;
    float m_maxAbs = 0.0f;
};

} // namespace quantscope
