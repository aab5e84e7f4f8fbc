#pragma once

#include <cstdint>

namespace quantscope::kernels {

// A positive real multiplier M represented as an int32 fixed-point value m0 in [2^30, 2^31)
// (M0 = m0 / 2^31 in [0.5, 1)) and a power-of-two exponent: M = M0 * 2^shift. Applying it to an
// int32 accumulator uses only integer arithmetic, as in gemmlowp (fixedpoint.h) and Jacob et
// al. 2018, section 2.2: a saturating rounding doubling high multiply by m0 (the high 32 bits of
// 2 * x * m0, rounded to nearest), then a rounding right shift by -shift (ties away from zero)
// (for M >= 1, one 64-bit rounding shift instead, saturating). The result is within 1 + |x * M| * 2^-31
// of x * M (two roundings, and m0's own rounding).
class FixedPointMultiplier {
public:
    FixedPointMultiplier() = default;
    // `real` must be finite and in [0, 2^16); throws Error otherwise. 0 gives a multiplier that
    // maps everything to 0.
    explicit FixedPointMultiplier(double real);

    int32_t multiplier() const { return m_multiplier; }
    int shift() const { return m_shift; }
    double real() const;

    int32_t apply(int32_t x) const { return apply(x, m_multiplier, m_shift); }

    // The same for a multiplier given as its parts (the SIMD epilogues keep m0 and shift in
    // separate per-channel arrays).
    static int32_t apply(int32_t x, int32_t multiplier, int shift) {
        if (shift > 0) {
            // M >= 1: x * m0 * 2^shift / 2^31 in 64 bits, rounded half away from zero and saturated
            // (shifting x left first, as TFLite does, would saturate before the multiply).
            const int64_t product = static_cast<int64_t>(x) * multiplier;
            const int exponent = 31 - shift;
            const int64_t half = int64_t{1} << (exponent - 1);
            const int64_t magnitude = ((product < 0 ? -product : product) + half) >> exponent;
            const int64_t rounded = product < 0 ? -magnitude : magnitude;
            return static_cast<int32_t>(rounded > INT32_MAX   ? INT32_MAX
                                        : rounded < INT32_MIN ? INT32_MIN
                                                              : rounded);
        }
        return roundingDivideByPowerOfTwo(saturatingRoundingDoublingHighMul(x, multiplier), -shift);
    }

    // gemmlowp's SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded to nearest with ties
    // upward (-1.5 -> -1), saturating the one overflowing case a = b = INT32_MIN.
    static int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
        if (a == INT32_MIN && b == INT32_MIN)
            return INT32_MAX;
        const int64_t product = static_cast<int64_t>(a) * static_cast<int64_t>(b);
        const int64_t nudge = product >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
        return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
    }
    // gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
    static int32_t roundingDivideByPowerOfTwo(int32_t x, int exponent) {
        if (exponent == 0)
            return x;
        const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
        const int32_t remainder = x & mask;
        const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

private:
    int32_t m_multiplier = 0;
    int m_shift = 0;
};

} // namespace quantscope::kernels
