#include "quantscope/calib/MinMaxObserver.h"

#include <algorithm>

namespace quantscope {

Range MinMaxObserver::range() const {
    return m_seen ? Range{m_min, m_max} : Range{};
}

void MinMaxObserver::observeFinite(std::span<const float> values) {
    float lo = values.front();
    float hi = values.front();
    for (float v : values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    m_min = m_seen ? std::min(m_min, lo) : lo;
    m_max = m_seen ? std::max(m_max, hi) : hi;
    m_seen = true;
}

} // namespace quantscope
