#include "quantscope/calib/MinMaxObserver.h"

#include "quantscope/kernels/KernelRegistry.h"

#include <algorithm>

namespace quantscope {
namespace {

// The vectorised range loops of the active kernel path (KernelRegistry, QUANTSCOPE_ISA).
const kernels::ChunkKernels& chunkKernels() {
    return kernels::KernelRegistry::active().chunk;
}

bool minMaxUnlessNonfinite(const float* data, std::size_t count, float& lo, float& hi) {
    return chunkKernels().minMaxUnlessNonfinite(data, count, lo, hi);
}

std::size_t minMaxSkippingNonfinite(const float* data, std::size_t count, float& lo, float& hi) {
    return chunkKernels().minMaxSkippingNonfinite(data, count, lo, hi);
}

bool isFinite(float x) {
    return (x - x) == 0.0f;
}

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
