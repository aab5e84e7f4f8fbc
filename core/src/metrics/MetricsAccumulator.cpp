#include "quantscope/metrics/MetricsAccumulator.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace quantscope {

MetricsAccumulator::MetricsAccumulator(uint32_t codeCount)
    : m_codeCount(codeCount), m_levels(codeCount, 0) {}

void MetricsAccumulator::addSums(const MetricSums& sums) {
    m_count += sums.count;
    m_nonfinite += sums.nonfinite;
    m_clipped += sums.clipped;
    m_sumX2 += sums.sumX2;
    m_sumXhat2 += sums.sumXhat2;
    m_sumXXhat += sums.sumXXhat;
    m_sumAbs += sums.sumAbs;
    m_maxAbs = std::max(m_maxAbs, sums.maxAbs);
    m_sumClip2 += sums.sumClip2;
    m_sumRound2 += sums.sumRound2;
}

void MetricsAccumulator::merge(const MetricsAccumulator& other) {
    m_count += other.m_count;
    m_nonfinite += other.m_nonfinite;
    m_clipped += other.m_clipped;
    m_sumX2 += other.m_sumX2;
    m_sumXhat2 += other.m_sumXhat2;
    m_sumXXhat += other.m_sumXXhat;
    m_sumAbs += other.m_sumAbs;
    m_maxAbs = std::max(m_maxAbs, other.m_maxAbs);
    m_sumClip2 += other.m_sumClip2;
    m_sumRound2 += other.m_sumRound2;
    for (std::size_t i = 0; i < m_levels.size() && i < other.m_levels.size(); ++i)
        m_levels[i] |= other.m_levels[i];
}

ErrorMetrics MetricsAccumulator::finish() const {
    ErrorMetrics m;
    m.count = m_count;
    m.nonfinite = m_nonfinite;
    m.clippedCount = m_clipped;
    for (uint8_t used : m_levels)
        m.levelsUsed += used;
    if (m_count == 0) {
        m.sqnrNote = "zero signal";
        return m;
    }
    const double n = static_cast<double>(m_count);
    const double sumError2 = m_sumClip2 + m_sumRound2;
    m.mse = sumError2 / n;
    m.rmse = std::sqrt(m.mse);
    m.meanAbsError = m_sumAbs / n;
    m.maxAbsError = m_maxAbs;
    m.clipMse = m_sumClip2 / n;
    m.roundMse = m_sumRound2 / n;
    m.clippedFraction = static_cast<double>(m_clipped) / n;
    if (m_sumX2 == 0.0)
        m.sqnrNote = "zero signal";
    else if (sumError2 == 0.0)
        m.sqnrNote = "exact";
    else
        m.sqnrDb = 10.0 * std::log10(m_sumX2 / sumError2);
    if (m_sumX2 == 0.0 && m_sumXhat2 == 0.0)
        m.cosine = 1.0;
    else if (m_sumX2 == 0.0 || m_sumXhat2 == 0.0)
        m.cosine = 0.0;
    else
        m.cosine = m_sumXXhat / std::sqrt(m_sumX2 * m_sumXhat2);
    return m;
}

} // namespace quantscope
