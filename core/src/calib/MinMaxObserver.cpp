#include "quantscope/calib/MinMaxObserver.h"

#include <algorithm>

namespace quantscope {

Range MinMaxObserver::range() const {
    return m_seen ? Range{m_min, m_max} : Range{};
}

void MinMaxObserver::observeFinite(std::span<const float> values) {
    float lo = values.front();
    float hi = values.front();
    // The values are finite, so min/max reductions may be reordered (vectorised).
    const float* data = values.data();
    const std::size_t count = values.size();
#pragma omp simd reduction(min : lo) reduction(max : hi)
    for (std::size_t i = 0; i < count; ++i) {
        lo = data[i] < lo ? data[i] : lo;
        hi = data[i] > hi ? data[i] : hi;
    }
    m_min = m_seen ? std::min(m_min, lo) : lo;
    m_max = m_seen ? std::max(m_max, hi) : hi;
    m_seen = true;
}

} // namespace quantscope
