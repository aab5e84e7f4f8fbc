#include "quantscope/calib/MovingAverageObserver.h"

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <cmath>

namespace quantscope {

MovingAverageObserver::MovingAverageObserver(const QuantSpec& spec)
    // torch multiplies a float32 tensor by the Python float averaging_constant, which it first
    // converts to float32.
    : Observer(spec), m_constant(static_cast<float>(spec.emaConstant)) {}

bool MovingAverageObserver::canServe(const QuantSpec& spec) const {
    return Observer::canServe(spec) && static_cast<float>(spec.emaConstant) == m_constant;
}

Range MovingAverageObserver::range() const {
    return m_seen ? Range{m_min, m_max} : Range{};
}

void MovingAverageObserver::observeFinite(std::span<const float> values) {
    float lo = values.front();
    float hi = values.front();
    forEachSlice(values, [&](std::span<const float> slice) {
        for (float v : slice) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    });
    if (!m_seen) {
        m_min = lo;
        m_max = hi;
        m_seen = true;
        return;
    }
    // Three separately rounded float32 operations each (subtract, multiply, add), as torch's
    // min_val + averaging_constant * (min_val_cur - min_val); no fused multiply-add.
    const float stepMin = m_constant * (lo - m_min);
    const float stepMax = m_constant * (hi - m_max);
    const float newMin = m_min + stepMin;
    const float newMax = m_max + stepMax;
    // A difference of two values near the float32 limit overflows where torch would give inf;
    // the average of finite values is finite, so take it in double then.
    m_min = std::isfinite(newMin)
                ? newMin
                : static_cast<float>(m_min + static_cast<double>(m_constant) * (double(lo) - m_min));
    m_max = std::isfinite(newMax)
                ? newMax
                : static_cast<float>(m_max + static_cast<double>(m_constant) * (double(hi) - m_max));
}

} // namespace quantscope
