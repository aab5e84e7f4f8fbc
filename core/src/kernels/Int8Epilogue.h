#pragma once

#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/KernelTable.h"

#include <algorithm>
#include <cstdint>

// The output stage shared by every int8 GEMM path, so requantized and int32 results are the same
// integers whatever path computed the raw accumulators.
namespace quantscope::kernels::int8epilogue {

// sum (a - za)(b - zb) from the raw sum a*b (Jacob et al. 2018, eq. 7). Computed modulo 2^32 (as
// the SIMD lanes do): the true value fits in int32 (K <= PackedInt8Weights::kMaxK), so wrapping
// intermediates cancel.
inline int32_t corrected(const Int8GemmProblem& p, int32_t raw, int row, int col) {
    const uint32_t value = static_cast<uint32_t>(raw) -
                           static_cast<uint32_t>(p.aZeroPoint) * static_cast<uint32_t>(p.colSums[col]) -
                           static_cast<uint32_t>(p.bZeroPoint) * static_cast<uint32_t>(p.rowSums[row]) +
                           static_cast<uint32_t>(p.k) * static_cast<uint32_t>(p.aZeroPoint) *
                               static_cast<uint32_t>(p.bZeroPoint);
    return static_cast<int32_t>(value);
}

inline float toFloat(const Int8GemmProblem& p, int32_t value, int col) {
    const float scale = p.aScale * (p.perChannelScales ? p.bScales[col] : p.bScales[0]);
    const float product = static_cast<float>(value) * scale;
    return p.bias ? product + p.bias[col] : product;
}

inline int32_t requantize(const Int8GemmProblem& p, int32_t value, int col, int32_t lo, int32_t hi) {
    const FixedPointMultiplier& multiplier = p.perChannelMultipliers ? p.multipliers[col] : p.multipliers[0];
    const int32_t withBias =
        p.biasInt32
            ? static_cast<int32_t>(static_cast<uint32_t>(value) + static_cast<uint32_t>(p.biasInt32[col]))
            : value;
    const int64_t out = static_cast<int64_t>(multiplier.apply(withBias)) + p.outZeroPoint;
    return static_cast<int32_t>(std::clamp<int64_t>(out, lo, hi));
}

// Writes one row segment of raw accumulators (cols values from column col0) to C.
inline void storeRow(const Int8GemmProblem& p, int row, int col0, int cols, const int32_t* raw) {
    for (int j = 0; j < cols; ++j) {
        const int col = col0 + j;
        const int32_t value = corrected(p, raw[j], row, col);
        const size_t at = static_cast<size_t>(row) * static_cast<size_t>(p.ldc) + static_cast<size_t>(col);
        switch (p.output) {
        case Int8OutputKind::Int32:
            static_cast<int32_t*>(p.c)[at] = value;
            break;
        case Int8OutputKind::Float:
            static_cast<float*>(p.c)[at] = toFloat(p, value, col);
            break;
        case Int8OutputKind::Uint8:
            static_cast<uint8_t*>(p.c)[at] = static_cast<uint8_t>(requantize(p, value, col, 0, 255));
            break;
        case Int8OutputKind::Int8:
            static_cast<int8_t*>(p.c)[at] = static_cast<int8_t>(requantize(p, value, col, -128, 127));
            break;
        }
    }
}

} // namespace quantscope::kernels::int8epilogue
