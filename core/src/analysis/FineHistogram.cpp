#include "quantscope/analysis/FineHistogram.h"

#include "quantscope/Cancellation.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ui {

FineHistogram FineHistogram::build(std::span<const float> values, int bins) {
    FineHistogram h;
    float lo = INFINITY;
    float hi = -INFINITY;
    // Both passes check for cancellation: the app builds this while it loads a tensor.
    forEachSlice(values, [&](std::span<const float> slice) {
        for (float v : slice) {
            if (!std::isfinite(v)) {
                ++h.m_nonfinite;
                continue;
            }
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            h.m_sumSquares += static_cast<double>(v) * v;
        }
    });
    h.m_finite = static_cast<int64_t>(values.size()) - h.m_nonfinite;
    if (h.m_finite == 0)
        return h;
    h.m_min = lo;
    h.m_max = hi;
    // A constant tensor still gets a non-zero width so that bin arithmetic stays finite.
    const double span =
        hi > lo ? static_cast<double>(hi) - lo : std::max(1e-6, std::abs(static_cast<double>(lo)) * 1e-3);
    if (hi <= lo) {
        h.m_min = lo - span / 2;
        h.m_max = lo + span / 2;
    }
    h.m_binWidth = (h.m_max - h.m_min) / bins;
    h.m_counts.assign(static_cast<std::size_t>(bins), 0);
    h.m_sums.assign(static_cast<std::size_t>(bins), 0.0);
    const double inverseWidth = 1.0 / h.m_binWidth;
    forEachSlice(values, [&](std::span<const float> slice) {
        for (float v : slice) {
            if (!std::isfinite(v))
                continue;
            const auto bin = std::clamp(static_cast<int>((v - h.m_min) * inverseWidth), 0, bins - 1);
            ++h.m_counts[static_cast<std::size_t>(bin)];
            h.m_sums[static_cast<std::size_t>(bin)] += v;
        }
    });
    return h;
}

double FineHistogram::mean(int bin) const {
    const auto c = count(bin);
    return c > 0 ? m_sums[static_cast<std::size_t>(bin)] / static_cast<double>(c) : binCenter(bin);
}

double FineHistogram::countOutside(double low, double high) const {
    double outside = 0.0;
    for (int b = 0; b < binCount(); ++b) {
        const double left = binLeft(b);
        const double right = left + m_binWidth;
        const double c = static_cast<double>(count(b));
        if (right <= low || left >= high)
            outside += c;
        else {
            if (left < low)
                outside += c * (low - left) / m_binWidth;
            if (right > high)
                outside += c * (right - high) / m_binWidth;
        }
    }
    return outside;
}

std::vector<double> FineHistogram::rebin(double from, double to, int bins) const {
    std::vector<double> out(static_cast<std::size_t>(std::max(bins, 1)), 0.0);
    if (isEmpty() || !(to > from))
        return out;
    const double width = (to - from) / bins;
    for (int b = 0; b < binCount(); ++b) {
        if (count(b) == 0)
            continue;
        const double x = binCenter(b);
        if (x < from || x >= to)
            continue;
        const auto target = std::clamp(static_cast<int>((x - from) / width), 0, bins - 1);
        out[static_cast<std::size_t>(target)] += static_cast<double>(count(b));
    }
    return out;
}

double FineHistogram::quantile(double percent) const {
    if (isEmpty())
        return 0.0;
    const double target = std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(m_finite);
    double seen = 0.0;
    for (int b = 0; b < binCount(); ++b) {
        const double c = static_cast<double>(count(b));
        if (seen + c >= target && c > 0)
            return binLeft(b) + (target - seen) / c * m_binWidth;
        seen += c;
    }
    return m_max;
}

} // namespace quantscope::ui
