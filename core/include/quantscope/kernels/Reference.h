#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Plain C++ reference versions of the kernels' arithmetic, written for clarity, not speed. The
// tests compare every path with these; the scalar path uses the element conversions directly.
namespace quantscope::kernels::reference {

// C[m][n] = sum_k (A[m][k] - za) * (W[n][k] - zw), A M x K uint8, W N x K int8, C M x N.
void gemmInt32(const uint8_t* a, int m, int k, int32_t za, const int8_t* w, int n, int32_t zw, int32_t* c);

// IEEE float32 -> float16, round to nearest even, overflow to infinity, NaN kept quiet with its
// sign and top payload bits (what F16C's vcvtps2ph does).
inline uint16_t f32ToF16(float value) {
    uint32_t x;
    std::memcpy(&x, &value, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t exponent = (x >> 23) & 0xFFu;
    uint32_t mantissa = x & 0x7FFFFFu;
    if (exponent == 0xFF)
        return static_cast<uint16_t>(sign | 0x7C00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u));
    const int e = static_cast<int>(exponent) - 127 + 15;
    if (e >= 31)
        return static_cast<uint16_t>(sign | 0x7C00u);
    if (e <= 0) {
        if (e < -10)
            return static_cast<uint16_t>(sign); // below half the smallest subnormal
        mantissa |= 0x800000u;
        const int shift = 14 - e;
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1u)))
            ++half;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t half = (static_cast<uint32_t>(e) << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
        ++half; // may carry into the exponent, up to infinity: still correct
    return static_cast<uint16_t>(sign | half);
}

inline float f16ToF32(uint16_t h) {
    const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    uint32_t mantissa = h & 0x3FFu;
    uint32_t bits;
    if (exponent == 0x1F) {
        // NaN payloads are kept and the quiet bit set (a signalling NaN is quietened, as F16C does).
        bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x400000u : 0u);
    } else if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            int e = -1;
            do {
                ++e;
                mantissa <<= 1;
            } while (!(mantissa & 0x400u));
            bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3FFu) << 13);
        }
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
}

// float32 -> bfloat16, round to nearest even; NaN stays NaN (quiet bit set). Subnormals are kept
// (unlike vcvtneps2bf16, which flushes them), so every path does this with integer operations.
inline uint16_t f32ToBf16(float value) {
    uint32_t x;
    std::memcpy(&x, &value, 4);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u)
        return static_cast<uint16_t>((x >> 16) | 0x40u);
    return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

inline float bf16ToF32(uint16_t h) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
}

} // namespace quantscope::kernels::reference
