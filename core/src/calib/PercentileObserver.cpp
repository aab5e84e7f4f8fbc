#include "quantscope/calib/PercentileObserver.h"

#include "quantscope/Cancellation.h"
#include "quantscope/calib/OrderStatistic.h"

#include <algorithm>
#include <cmath>

namespace quantscope {

PercentileObserver::PercentileObserver(const QuantSpec& spec)
    : Observer(spec), m_absolute(spec.scheme == Scheme::Symmetric) {}

bool PercentileObserver::canServe(const QuantSpec& spec) const {
    return Observer::canServe(spec) && (spec.scheme == Scheme::Symmetric) == m_absolute;
}

void PercentileObserver::observeFinite(std::span<const float> values) {
    const std::size_t old = m_values.size();
    m_values.resize(old + values.size());
    auto out = m_values.begin() + static_cast<std::ptrdiff_t>(old);
    forEachSlice(values, [&](std::span<const float> slice) {
        out = m_absolute
                  ? std::transform(slice.begin(), slice.end(), out, [](float v) { return std::fabs(v); })
                  : std::copy(slice.begin(), slice.end(), out);
    });
}

double PercentileObserver::percentile(std::span<const float> values, double q) {
    if (values.empty())
        return 0.0;
    const double rank = static_cast<double>(values.size() - 1) * std::clamp(q, 0.0, 100.0) / 100.0;
    const auto below = static_cast<std::size_t>(std::floor(rank));
    const double fraction = rank - static_cast<double>(below);
    const double lower = orderStatistic(values, below);
    if (fraction == 0.0 || below + 1 >= values.size())
        return lower;
    const double upper = orderStatistic(values, below + 1);
    return lower + fraction * (upper - lower);
}

Range PercentileObserver::range() const {
    if (m_values.empty())
        return {};
    const double p = spec().percentile;
    if (m_absolute) {
        const auto t = static_cast<float>(percentile(m_values, p));
        return {-t, t};
    }
    auto lo = static_cast<float>(percentile(m_values, 100.0 - p));
    auto hi = static_cast<float>(percentile(m_values, p));
    if (lo > hi) // p below 50: the two ranks cross
        std::swap(lo, hi);
    return {lo, hi};
}

} // namespace quantscope
