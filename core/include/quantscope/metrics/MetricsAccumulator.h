#pragma once

#include "quantscope/metrics/ErrorMetrics.h"

#include <cstdint>
#include <vector>

namespace quantscope {

// Cosine similarity of x and x̂ from their sums: 1 when both are all zero, 0 when exactly one is
// (no direction to agree with), else Σx·x̂ / sqrt(Σx² · Σx̂²). The exact metrics and the GUI's
// preview both use it, so an all-zero x̂ reads the same in both.
double cosineSimilarity(double sumXXhat, double sumX2, double sumXhat2);

// Partial sums over a batch of values computed elsewhere (the vectorised quantizer).
struct MetricSums {
    double sumX2 = 0, sumXhat2 = 0, sumXXhat = 0, sumAbs = 0, maxAbs = 0, sumClip2 = 0, sumRound2 = 0;
    int64_t count = 0, clipped = 0, nonfinite = 0;
};

// Sums what ErrorMetrics needs in one pass over (x, x̂) pairs. Sums are in double so that the
// result does not depend on the tensor's size. `code` identifies the quantization level a value
// landed on (q - qmin for integers, the bit pattern of a float code), to count levels used.
class MetricsAccumulator {
public:
    // codeCount: how many distinct codes exist (at most 65536); 0 does not count levels.
    explicit MetricsAccumulator(uint32_t codeCount);

    void add(float x, float xhat, bool clipped, uint32_t code) {
        const double e = static_cast<double>(x) - static_cast<double>(xhat);
        const double e2 = e * e;
        const double ae = e < 0 ? -e : e;
        ++m_sums.count;
        m_sums.sumX2 += static_cast<double>(x) * x;
        m_sums.sumXhat2 += static_cast<double>(xhat) * xhat;
        m_sums.sumXXhat += static_cast<double>(x) * xhat;
        m_sums.sumAbs += ae;
        if (ae > m_sums.maxAbs)
            m_sums.maxAbs = ae;
        if (clipped) {
            ++m_sums.clipped;
            m_sums.sumClip2 += e2;
        } else {
            m_sums.sumRound2 += e2;
        }
        if (code < m_codeCount)
            m_levels[code] = 1;
    }
    void addNonfinite() { ++m_sums.nonfinite; }
    void addSums(const MetricSums& sums);
    // Marks the levels of `codes` as used; codes at or past codeCount are ignored.
    void addCodes(const uint32_t* codes, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i)
            if (codes[i] < m_codeCount)
                m_levels[codes[i]] = 1;
    }
    // Whether addCodes would mark nothing new for codes in [lowest, highest] (none when
    // lowest > highest): then the codes need not be computed at all.
    bool levelsMarked(uint32_t lowest, uint32_t highest) const {
        if (lowest > highest || m_codeCount == 0)
            return true;
        return highest < m_codeCount && allMarked(lowest, highest);
    }
    void merge(const MetricsAccumulator& other);

    ErrorMetrics finish() const;

private:
    bool allMarked(uint32_t lowest, uint32_t highest) const;

    MetricSums m_sums;
    uint32_t m_codeCount = 0;
    // One byte per code: independent stores are much faster than read-modify-write of a bitmap.
    std::vector<uint8_t> m_levels;
};

} // namespace quantscope
