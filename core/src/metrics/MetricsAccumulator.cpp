#include "quantscope/metrics/MetricsAccumulator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace quantscope {

MetricsAccumulator::MetricsAccumulator(uint32_t codeCount) : m_codeCount(codeCount), m_levels(codeCount, 0) {}

void MetricsAccumulator::addSums(const MetricSums& sums) {
    m_sums.count += sums.count;
    m_sums.nonfinite += sums.nonfinite;
    m_sums.clipped += sums.clipped;
    m_sums.sumX2 += sums.sumX2;
    m_sums.sumXhat2 += sums.sumXhat2;
    m_sums.sumXXhat += sums.sumXXhat;
    m_sums.sumAbs += sums.sumAbs;
    m_sums.maxAbs = std::max(m_sums.maxAbs, sums.maxAbs);
    m_sums.sumClip2 += sums.sumClip2;
    m_sums.sumRound2 += sums.sumRound2;
}

bool MetricsAccumulator::allMarked(uint32_t lowest, uint32_t highest) const {
    return std::memchr(m_levels.data() + lowest, 0, highest - lowest + 1) == nullptr;
}

void MetricsAccumulator::merge(const MetricsAccumulator& other) {
    addSums(other.m_sums);
    for (std::size_t i = 0; i < m_levels.size() && i < other.m_levels.size(); ++i)
        m_levels[i] |= other.m_levels[i];
}

double cosineSimilarity(double sumXXhat, double sumX2, double sumXhat2) {
    if (sumX2 == 0.0 && sumXhat2 == 0.0)
        return 1.0;
    if (sumX2 == 0.0 || sumXhat2 == 0.0)
        return 0.0;
    return sumXXhat / std::sqrt(sumX2 * sumXhat2);
}

ErrorMetrics MetricsAccumulator::finish() const {
    ErrorMetrics m;
    m.count = m_sums.count;
    m.nonfinite = m_sums.nonfinite;
    m.clippedCount = m_sums.clipped;
    for (uint8_t used : m_levels)
        m.levelsUsed += used;
    if (m_sums.count == 0) {
        m.sqnrNote = "zero signal";
        return m;
    }
    const double n = static_cast<double>(m_sums.count);
    const double sumError2 = m_sums.sumClip2 + m_sums.sumRound2;
    m.mse = sumError2 / n;
    m.rmse = std::sqrt(m.mse);
    m.meanAbsError = m_sums.sumAbs / n;
    m.maxAbsError = m_sums.maxAbs;
    m.clipMse = m_sums.sumClip2 / n;
    m.roundMse = m_sums.sumRound2 / n;
    m.clippedFraction = static_cast<double>(m_sums.clipped) / n;
    if (m_sums.sumX2 == 0.0)
        m.sqnrNote = "zero signal";
    else if (sumError2 == 0.0)
        m.sqnrNote = "exact";
    else
        m.sqnrDb = 10.0 * std::log10(m_sums.sumX2 / sumError2);
    m.cosine = cosineSimilarity(m_sums.sumXXhat, m_sums.sumX2, m_sums.sumXhat2);
    return m;
}

} // namespace quantscope
