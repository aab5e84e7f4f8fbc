#include "quantscope/calib/AbsHistogram.h"

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <cmath>

namespace quantscope {

void AbsHistogram::add(std::span<const float> finiteValues) {
    if (finiteValues.empty())
        return;
    float batchMax = 0.0f;
    bool negative = false;
    forEachSlice(finiteValues, [&](std::span<const float> slice) {
        for (float v : slice) {
            batchMax = std::max(batchMax, std::fabs(v));
            negative = negative || v < 0.0f;
        }
    });
    m_sawNegative = m_sawNegative || negative;
    m_maxAbs = std::max(m_maxAbs, batchMax);
    m_total += static_cast<int64_t>(finiteValues.size());

    if (m_counts.empty()) {
        if (batchMax == 0.0f) {
            m_pendingZeros += static_cast<int64_t>(finiteValues.size());
            return;
        }
        m_width = static_cast<double>(batchMax) / kInitialBins;
        m_counts.assign(kInitialBins, 0);
        m_counts[0] = m_pendingZeros;
        m_pendingZeros = 0;
    } else {
        // In double: a later batch may be up to 2^128 / 2^-149 times wider than the first.
        double binsNeeded = std::ceil(static_cast<double>(batchMax) / m_width);
        while (binsNeeded > static_cast<double>(kMaxBins)) {
            // Merge neighbours in pairs: exact counts on a grid twice as coarse.
            std::vector<int64_t> merged((m_counts.size() + 1) / 2, 0);
            for (std::size_t i = 0; i < m_counts.size(); ++i)
                merged[i / 2] += m_counts[i];
            m_counts = std::move(merged);
            m_width *= 2.0;
            binsNeeded = std::ceil(static_cast<double>(batchMax) / m_width);
        }
        if (binsNeeded > static_cast<double>(m_counts.size()))
            m_counts.resize(static_cast<std::size_t>(binsNeeded), 0);
    }

    const double inverseWidth = 1.0 / m_width;
    const auto lastBin = static_cast<int64_t>(m_counts.size()) - 1;
    int64_t* counts = m_counts.data();
    forEachSlice(finiteValues, [&](std::span<const float> slice) {
        for (float v : slice) {
            // The value equal to the upper edge belongs to the last bin, as in torch.histc.
            const double position = static_cast<double>(std::fabs(v)) * inverseWidth;
            const auto bin =
                position < static_cast<double>(lastBin) ? static_cast<int64_t>(position) : lastBin;
            ++counts[bin];
        }
    });
}

} // namespace quantscope
