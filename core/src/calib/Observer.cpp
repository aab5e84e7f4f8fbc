#include "quantscope/calib/Observer.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace quantscope {
namespace {

// Running minimum and maximum (PyTorch MinMaxObserver).
class RunningMinMax final : public Observer {
public:
    using Observer::Observer;
    Range range() const override { return m_seen ? Range{m_min, m_max} : Range{}; }

protected:
    void observeFinite(std::span<const float> values) override {
        const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
        m_min = m_seen ? std::min(m_min, *lo) : *lo;
        m_max = m_seen ? std::max(m_max, *hi) : *hi;
        m_seen = true;
    }

private:
    bool m_seen = false;
    float m_min = 0.0f;
    float m_max = 0.0f;
};

} // namespace

void Observer::observe(std::span<const float> values) {
    std::vector<float> finite;
    finite.reserve(values.size());
    for (float v : values)
        if (std::isfinite(v))
            finite.push_back(v);
    m_nonfinite += static_cast<int64_t>(values.size() - finite.size());
    m_finite += static_cast<int64_t>(finite.size());
    if (!finite.empty())
        observeFinite(finite);
}

std::unique_ptr<Observer> makeObserver(const QuantSpec& spec) {
    if (spec.calib != CalibMethod::MinMax)
        throw Error("--calib", std::string(calibMethodName(spec.calib)) + " is not available in this build");
    return std::make_unique<RunningMinMax>(spec);
}

} // namespace quantscope
