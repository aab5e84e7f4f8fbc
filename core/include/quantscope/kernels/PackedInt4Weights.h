#pragma once

#include "quantscope/kernels/AlignedBuffer.h"

#include <cstdint>

namespace quantscope::kernels {

// int4 weights W (N x K, one row per output channel), two per byte, with one float scale per
// group of `groupSize` consecutive values along K (GPTQ / ggml / MatMulNBits style, zero point 0).
// Layout (all paths): see Int4GemvProblem in KernelTable.h.
class PackedInt4Weights {
public:
    // From integers already in [-8, 7] (N x K) and scales (N x K / groupSize). groupSize must be a
    // multiple of 8 that divides K; throws Error otherwise or when a value is out of range.
    static PackedInt4Weights fromIntegers(const int8_t* q, const float* scales, int n, int k, int groupSize);
    // Quantizes float weights per group, symmetric int4 with DESIGN.md's rule
    // (scale = max(|min|, |max|) / 7.5, q = clamp(round(w / scale), -8, 7)).
    static PackedInt4Weights quantize(const float* w, int n, int k, int groupSize);

    int n() const { return m_n; }
    int k() const { return m_k; }
    int groupSize() const { return m_groupSize; }
    int groupCount() const { return m_k / m_groupSize; }
    int panelCount() const { return (m_n + 15) / 16; }
    const uint8_t* data() const { return m_data.data(); }
    const float* scales() const { return m_scales.data(); }
    size_t bytes() const { return m_data.size(); }
    // The stored value and scale, for checking.
    int8_t value(int row, int col) const;
    float scale(int row, int group) const;

private:
    PackedInt4Weights(int n, int k, int groupSize);
    int m_n, m_k, m_groupSize;
    AlignedBuffer<uint8_t> m_data;
    AlignedBuffer<float> m_scales;
};

} // namespace quantscope::kernels
