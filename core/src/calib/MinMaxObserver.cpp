#include "quantscope/calib/MinMaxObserver.h"

#include <algorithm>
#include <limits>

namespace quantscope {
namespace {

// The min/max reductions may be reordered (vectorised); built for AVX-512, AVX2 and baseline
// x86-64 and chosen at load time. A NaN never wins a comparison, but ±Inf would: returns whether
// the values held any non-finite one (x - x is 0 only for finite x), in which case lo and hi are
// not the finite range.
__attribute__((target_clones("avx512f", "avx2", "default"))) bool minMaxUnlessNonfinite(const float* data,
                                                                                        std::size_t count,
                                                                                        float& lo, float& hi) {
    float low = lo;
    float high = hi;
    int nonfinite = 0;
#pragma omp simd reduction(min : low) reduction(max : high) reduction(| : nonfinite)
    for (std::size_t i = 0; i < count; ++i) {
        low = data[i] < low ? data[i] : low;
        high = data[i] > high ? data[i] : high;
        nonfinite |= (data[i] - data[i]) == 0.0f ? 0 : 1;
    }
    lo = low;
    hi = high;
    return nonfinite != 0;
}

// The same over the finite values of a batch that holds others, in the pass that counts them: a
// non-finite value takes part as +inf for the minimum and -inf for the maximum, which never wins
// against lo / hi (the batch's first finite value). Returns the number of non-finite values.
__attribute__((target_clones("avx512f", "avx2", "default"))) std::size_t
minMaxSkippingNonfinite(const float* data, std::size_t count, float& lo, float& hi) {
    constexpr float kInfinity = std::numeric_limits<float>::infinity();
    float low = lo;
    float high = hi;
    std::size_t nonfinite = 0;
#pragma omp simd reduction(min : low) reduction(max : high) reduction(+ : nonfinite)
    for (std::size_t i = 0; i < count; ++i) {
        const float x = data[i];
        const bool finite = (x - x) == 0.0f;
        const float forLow = finite ? x : kInfinity;
        const float forHigh = finite ? x : -kInfinity;
        low = forLow < low ? forLow : low;
        high = forHigh > high ? forHigh : high;
        nonfinite += finite ? 0 : 1;
    }
    lo = low;
    hi = high;
    return nonfinite;
}

bool isFinite(float x) { return (x - x) == 0.0f; }

} // namespace

Range MinMaxObserver::range() const {
    return m_seen ? Range{m_min, m_max} : Range{};
}

std::size_t MinMaxObserver::observeAll(std::span<const float> values) {
    const auto firstFinite = std::find_if(values.begin(), values.end(), isFinite);
    if (firstFinite == values.end())
        return values.size();
    float lo = *firstFinite;
    float hi = *firstFinite;
    // Nearly always all finite: one light pass then. Otherwise a second one that skips the others.
    if (!minMaxUnlessNonfinite(values.data(), values.size(), lo, hi)) {
        update(lo, hi);
        return 0;
    }
    lo = *firstFinite;
    hi = *firstFinite;
    const std::size_t nonfinite = minMaxSkippingNonfinite(values.data(), values.size(), lo, hi);
    if (nonfinite > 0 && (lo == 0.0f || hi == 0.0f)) {
        // Which zero (+0 or -0) a tie keeps depends on where the values sit in the vector lanes;
        // keep the sign the filtered batch gives, as observeFinite would see it.
        return Observer::observeAll(values);
    }
    update(lo, hi);
    return nonfinite;
}

void MinMaxObserver::observeFinite(std::span<const float> values) {
    float lo = values.front();
    float hi = values.front();
    minMaxUnlessNonfinite(values.data(), values.size(), lo, hi);
    update(lo, hi);
}

void MinMaxObserver::update(float lo, float hi) {
    m_min = m_seen ? std::min(m_min, lo) : lo;
    m_max = m_seen ? std::max(m_max, hi) : hi;
    m_seen = true;
}

} // namespace quantscope
