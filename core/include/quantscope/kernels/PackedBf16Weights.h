#pragma once

#include "quantscope/kernels/AlignedBuffer.h"
#include "quantscope/kernels/KernelTable.h"

namespace quantscope::kernels {

// fp32 weights W (N x K, one row per output channel) rounded to bf16 (nearest even) and packed
// once into panels of kBf16PanelWidth columns of bf16 pairs (see Bf16GemmProblem). The layout
// is the same for every path.
class PackedBf16Weights {
public:
    PackedBf16Weights(const float* weights, int n, int k);

    int n() const { return m_n; }
    int k() const { return m_k; }
    int kPadded() const { return m_kPadded; }
    int panelCount() const { return (m_n + kBf16PanelWidth - 1) / kBf16PanelWidth; }
    const uint16_t* data() const { return m_data.data(); }

private:
    int m_n, m_k, m_kPadded;
    AlignedBuffer<uint16_t> m_data;
};

} // namespace quantscope::kernels
