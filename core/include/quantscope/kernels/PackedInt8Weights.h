#pragma once

#include "quantscope/kernels/AlignedBuffer.h"
#include "quantscope/kernels/KernelTable.h"

#include <cstdint>

namespace quantscope::kernels {

// int8 weights W (N x K, row-major: one row per output channel, as in a Linear layer) packed
// once into the panel layout of one kernel path, with the column sums the zero-point terms
// need (Jacob et al. 2018, eq. 7). Padding (K to a multiple of kGroup, N to whole panels) is
// zero, so it adds nothing to any sum.
class PackedInt8Weights {
public:
    // Throws Error when n or k is not positive or k exceeds kMaxK.
    PackedInt8Weights(const KernelTable& path, const int8_t* weights, int n, int k, int32_t zeroPoint = 0);

    // (255 * 255) * K must fit in int32 for the zero-point corrected accumulator.
    static constexpr int kMaxK = 32768;

    IsaPath path() const { return m_path; }
    const Int8Layout& layout() const { return m_layout; }
    int n() const { return m_n; }
    int k() const { return m_k; }
    int kPadded() const { return m_kPadded; }
    int panelCount() const { return m_panelCount; }
    int32_t zeroPoint() const { return m_zeroPoint; }
    const int8_t* data() const { return m_data.data(); }
    const int32_t* columnSums() const { return m_columnSums.data(); }
    size_t bytes() const { return m_data.size(); }

private:
    IsaPath m_path;
    Int8Layout m_layout;
    int m_n, m_k, m_kPadded, m_panelCount;
    int32_t m_zeroPoint;
    AlignedBuffer<int8_t> m_data;
    AlignedBuffer<int32_t> m_columnSums;
};

} // namespace quantscope::kernels
