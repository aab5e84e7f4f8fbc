#include "quantscope/calib/MinMaxObserver.h"

#include <algorithm>

namespace quantscope {
namespace {

// The values are finite, so the min/max reductions may be reordered (vectorised); built for
// AVX-512, AVX2 and baseline x86-64 and chosen at load time.
__attribute__((target_clones("avx512f", "avx2", "default"))) void finiteMinMax(const float* data, std::size_t count,
                                                                               float& lo, float& hi) {
    float low = lo;
    float high = hi;
#pragma omp simd reduction(min : low) reduction(max : high)
    for (std::size_t i = 0; i < count; ++i) {
        low = data[i] < low ? data[i] : low;
        high = data[i] > high ? data[i] : high;
    }
    lo = low;
    hi = high;
}

} // namespace

Range MinMaxObserver::range() const {
    return m_seen ? Range{m_min, m_max} : Range{};
}

void MinMaxObserver::observeFinite(std::span<const float> values) {
    float lo = values.front();
    float hi = values.front();
    finiteMinMax(values.data(), values.size(), lo, hi);
    m_min = m_seen ? std::min(m_min, lo) : lo;
    m_max = m_seen ? std::max(m_max, hi) : hi;
    m_seen = true;
}

} // namespace quantscope
