#pragma once
// The plain element rule of QLinearAdd / QLinearMul (QLinearElementwise.h), shared by the scalar
// path and the vector paths' tails so the tails are the reference itself. Internal linkage: each
// ISA file compiles its own copy with its own flags, and the linker must not swap them.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace quantscope::kernels {
namespace {
namespace qlinear {

// scales = {scaleA, scaleB, scaleC}, zeroPoints = {zeroA, zeroB, zeroC}.
inline uint8_t binaryOne(uint8_t a, uint8_t b, const float* scales, const int32_t* zeroPoints, bool mul) {
    const float va = scales[0] * static_cast<float>(static_cast<int32_t>(a) - zeroPoints[0]);
    const float vb = scales[1] * static_cast<float>(static_cast<int32_t>(b) - zeroPoints[1]);
    const float combined = mul ? va * vb : va + vb;
    const float rounded = std::nearbyint(combined / scales[2]);
    const float lo = static_cast<float>(0 - zeroPoints[2]), hi = static_cast<float>(255 - zeroPoints[2]);
    return static_cast<uint8_t>(static_cast<int32_t>(std::min(std::max(rounded, lo), hi)) + zeroPoints[2]);
}

inline void binaryValues(const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                         const float* scales, const int32_t* zeroPoints, bool mul, uint8_t* y) {
    for (size_t i = 0; i < count; ++i)
        y[i] = binaryOne(a[i], b[bIsScalar ? 0 : i], scales, zeroPoints, mul);
}

} // namespace qlinear
} // namespace
} // namespace quantscope::kernels
