#pragma once

#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/KernelTable.h"

#include <algorithm>
#include <cstdint>

// The scalar path's int8 GEMM output stage, element by element: the plain arithmetic the SIMD
// epilogues (Avx2Requantize.h and the AVX-512 file's) reproduce bit for bit in vector lanes.
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

// The plain requantization every SIMD epilogue must equal: (value + bias) modulo 2^32, the
// fixed-point multiplier, + zero point, clamped (in 64 bits, so no intermediate overflows).
inline int32_t requantizeOne(int32_t value, int32_t bias, int32_t multiplier, int shift, int32_t zeroPoint,
                             int32_t lo, int32_t hi) {
    const auto withBias = static_cast<int32_t>(static_cast<uint32_t>(value) + static_cast<uint32_t>(bias));
    const int64_t out =
        static_cast<int64_t>(FixedPointMultiplier::apply(withBias, multiplier, shift)) + zeroPoint;
    return static_cast<int32_t>(std::clamp<int64_t>(out, lo, hi));
}

inline int32_t requantize(const Int8GemmProblem& p, int32_t value, int col) {
    const FixedPointMultiplier& multiplier = p.perChannelMultipliers ? p.multipliers[col] : p.multipliers[0];
    return requantizeOne(value, p.biasInt32 ? p.biasInt32[col] : 0, multiplier.multiplier(),
                         multiplier.shift(), p.outZeroPoint, p.clampMin, p.clampMax);
}

// RequantizeSpec applied one element at a time (the scalar path's table entry).
template <class T>
void requantizeValues(const int32_t* values, size_t count, const RequantizeSpec& s, T* out) {
    for (size_t i = 0; i < count; ++i) {
        const size_t c = s.perChannel ? i : 0;
        out[i] = static_cast<T>(requantizeOne(values[i], s.bias ? s.bias[c] : 0, s.multipliers[c],
                                              s.shifts[c], s.zeroPoint, s.clampMin, s.clampMax));
    }
}

// Writes one row segment of raw accumulators (cols values from column col0) to C.
inline void storeRow(const Int8GemmProblem& p, int row, int col0, int cols, const int32_t* raw) {
    const size_t at = static_cast<size_t>(row) * static_cast<size_t>(p.ldc) + static_cast<size_t>(col0);
    switch (p.output) {
    case Int8OutputKind::Int32:
        for (int j = 0; j < cols; ++j)
            static_cast<int32_t*>(p.c)[at + j] = corrected(p, raw[j], row, col0 + j);
        break;
    case Int8OutputKind::Float:
        for (int j = 0; j < cols; ++j)
            static_cast<float*>(p.c)[at + j] = toFloat(p, corrected(p, raw[j], row, col0 + j), col0 + j);
        break;
    case Int8OutputKind::Uint8:
        for (int j = 0; j < cols; ++j)
            static_cast<uint8_t*>(p.c)[at + j] =
                static_cast<uint8_t>(requantize(p, corrected(p, raw[j], row, col0 + j), col0 + j));
        break;
    case Int8OutputKind::Int8:
        for (int j = 0; j < cols; ++j)
            static_cast<int8_t*>(p.c)[at + j] =
                static_cast<int8_t>(requantize(p, corrected(p, raw[j], row, col0 + j), col0 + j));
        break;
    }
}

} // namespace quantscope::kernels::int8epilogue
