#pragma once
// The requantizing output stage in AVX2 lanes, bit-identical to FixedPointMultiplier::apply (the
// scalar reference) for every int32 input. Included only by files compiled with AVX2 flags; the
// functions have internal linkage so that an AVX-512 file including it never lends its
// instructions to the AVX2 one through the linker.
#include "quantscope/kernels/KernelTable.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace quantscope::kernels {
namespace {

// Both cases of FixedPointMultiplier::apply as one branch-free sequence per lane. With p = |x| * m0
// (exact in 64 bits, m0 >= 0):
//   shift <= 0: gemmlowp's doubling high multiply, (p + 2^30 - [x < 0]) >> 31 with x's sign (its
//               nudge 1 - 2^30 for negative products, truncated toward zero), then the rounding
//               right shift by -shift;
//   shift > 0:  (p + 2^(e - 1)) >> e with e = 31 - shift (half away from zero), saturated, and no
//               second shift.
// So each lane needs m0, the first shift e, its rounding term, whether the negative nudge applies,
// and the second shift; they are derived once per group of channels.
//
// When every lane has shift <= 0 and m0 >= 0 (every multiplier below 1, the usual case) a shorter
// sequence gives the same values: the doubling high multiply (p + nudge) / 2^31, truncated toward
// zero, equals floor((p + 2^30) / 2^31) for either sign of p = x * m0 (for p < 0, truncating
// (p + 1 - 2^30) / 2^31 is flooring (p + 1 - 2^30 + 2^31 - 1) / 2^31), which never saturates
// (|p| <= 2^62 - 2^31), and its low 32 bits are bits 31-62 of p + 2^30 taken from signed 64-bit
// products; the second shift is the same.
struct Avx2RequantLanes {
    __m256i multiplier, firstShift, rounding, negativeNudge, secondShift;
    __m256i oddMultiplier, shiftMask, halfShiftMask;
    bool roundingShiftOnly;
};

inline Avx2RequantLanes avx2RequantLanes(__m256i multiplier, __m256i shift) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi32(1);
    Avx2RequantLanes l;
    l.multiplier = multiplier;
    l.firstShift = _mm256_sub_epi32(_mm256_set1_epi32(31), _mm256_max_epi32(shift, zero));
    l.rounding = _mm256_sllv_epi32(one, _mm256_sub_epi32(l.firstShift, one));
    l.negativeNudge = _mm256_andnot_si256(_mm256_cmpgt_epi32(shift, zero), one);
    l.secondShift = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    l.oddMultiplier = _mm256_srli_epi64(multiplier, 32);
    l.shiftMask = _mm256_sub_epi32(_mm256_sllv_epi32(one, l.secondShift), one);
    l.halfShiftMask = _mm256_srli_epi32(l.shiftMask, 1);
    // A sign bit where a lane raises (shift > 0) or has a negative m0.
    const __m256i raisesOrNegative = _mm256_or_si256(_mm256_cmpgt_epi32(shift, zero), multiplier);
    l.roundingShiftOnly = _mm256_movemask_ps(_mm256_castsi256_ps(raisesOrNegative)) == 0;
    return l;
}

// gemmlowp's RoundingDivideByPOT by secondShift: ties away from zero (threshold + 1 for negative values).
inline __m256i avx2RoundingDivide(__m256i value, const Avx2RequantLanes& l) {
    const __m256i remainder = _mm256_and_si256(value, l.shiftMask);
    const __m256i threshold = _mm256_sub_epi32(l.halfShiftMask, _mm256_srai_epi32(value, 31));
    return _mm256_sub_epi32(_mm256_srav_epi32(value, l.secondShift),
                            _mm256_cmpgt_epi32(remainder, threshold));
}

inline __m256i avx2ApplyMultiplier(__m256i x, const Avx2RequantLanes& l) {
    if (l.roundingShiftOnly) {
        const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
        const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, l.multiplier), nudge);
        const __m256i odd =
            _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), l.oddMultiplier), nudge);
        return avx2RoundingDivide(
            _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA), l);
    }
    const __m256i low = _mm256_set1_epi64x(0xFFFFFFFF);
    const __m256i negative = _mm256_srai_epi32(x, 31); // -1 where x < 0
    const __m256i magnitude = _mm256_abs_epi32(x);     // INT32_MIN gives 2^31, read as unsigned
    // Even lanes in the low halves of the 64-bit lanes, odd lanes shifted down.
    __m256i even = _mm256_mul_epu32(magnitude, l.multiplier);
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(magnitude, 32), _mm256_srli_epi64(l.multiplier, 32));
    const __m256i add = _mm256_sub_epi32(l.rounding, _mm256_and_si256(negative, l.negativeNudge));
    even = _mm256_add_epi64(even, _mm256_and_si256(add, low));
    odd = _mm256_add_epi64(odd, _mm256_srli_epi64(add, 32));
    even = _mm256_srlv_epi64(even, _mm256_and_si256(l.firstShift, low));
    odd = _mm256_srlv_epi64(odd, _mm256_srli_epi64(l.firstShift, 32));
    // Saturate the magnitude to 2^31 - 1 (positive) or 2^31 (negative); only M >= 1 reaches it.
    const __m256i limit = _mm256_sub_epi32(_mm256_set1_epi32(INT32_MAX), negative);
    const __m256i evenLimit = _mm256_and_si256(limit, low), oddLimit = _mm256_srli_epi64(limit, 32);
    even = _mm256_blendv_epi8(even, evenLimit, _mm256_cmpgt_epi64(even, evenLimit));
    odd = _mm256_blendv_epi8(odd, oddLimit, _mm256_cmpgt_epi64(odd, oddLimit));
    const __m256i rounded = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    const __m256i value = _mm256_sub_epi32(_mm256_xor_si256(rounded, negative), negative);
    return avx2RoundingDivide(value, l);
}

// clamp(v + zeroPoint, lo, hi) as clamp(v, lo - zeroPoint, hi - zeroPoint) + zeroPoint: the same
// value without the int32 overflow of adding first.
struct Avx2OutputRange {
    __m256i zeroPoint, lo, hi;
};

inline Avx2OutputRange avx2OutputRange(int32_t zeroPoint, int32_t clampMin, int32_t clampMax) {
    return {_mm256_set1_epi32(zeroPoint), _mm256_set1_epi32(clampMin - zeroPoint),
            _mm256_set1_epi32(clampMax - zeroPoint)};
}

inline __m256i avx2Finish(__m256i scaled, const Avx2OutputRange& r) {
    return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(scaled, r.lo), r.hi), r.zeroPoint);
}

// 8 int32 lanes already in T's range to 8 bytes (the saturating packs never saturate).
template <class T> inline __m128i avx2NarrowTo8(__m256i v) {
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return std::is_signed_v<T> ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
}

template <class T> inline void avx2StoreBytes(T* out, __m256i v, int valid) {
    const __m128i bytes = avx2NarrowTo8<T>(v);
    if (valid >= 8) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
    } else {
        alignas(16) T lanes[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), bytes);
        std::copy(lanes, lanes + valid, out);
    }
}

// 16 int32 lanes (a then b) already in T's range to 16 bytes in one store: the lane-wise packs
// leave a's and b's quarters interleaved across the two halves, and one vpermd restores the order.
template <class T> inline void avx2StoreBytes16(T* out, __m256i a, __m256i b) {
    const __m256i words = _mm256_packs_epi32(a, b);
    const __m256i bytes =
        std::is_signed_v<T> ? _mm256_packs_epi16(words, words) : _mm256_packus_epi16(words, words);
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(ordered));
}

// RequantizeSpec over an array (the table's requantizeU8 / requantizeS8).
template <class T>
void avx2RequantizeValues(const int32_t* values, size_t count, const RequantizeSpec& s, T* out) {
    const Avx2OutputRange range = avx2OutputRange(s.zeroPoint, s.clampMin, s.clampMax);
    Avx2RequantLanes lanes =
        avx2RequantLanes(_mm256_set1_epi32(s.multipliers[0]), _mm256_set1_epi32(s.shifts[0]));
    const __m256i sharedBias = _mm256_set1_epi32(s.bias ? s.bias[0] : 0);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + i));
        if (s.perChannel) {
            lanes = avx2RequantLanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s.multipliers + i)),
                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s.shifts + i)));
            if (s.bias)
                v = _mm256_add_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s.bias + i)));
        } else {
            v = _mm256_add_epi32(v, sharedBias);
        }
        avx2StoreBytes(out + i, avx2Finish(avx2ApplyMultiplier(v, lanes), range), 8);
    }
    if (i < count) { // the tail through a zero-padded copy, so no read past the arrays
        alignas(32) int32_t tail[4][8] = {};
        const size_t rest = count - i;
        std::copy(values + i, values + count, tail[0]);
        std::fill(tail[1], tail[1] + 8, s.bias ? s.bias[0] : 0);
        std::fill(tail[2], tail[2] + 8, s.multipliers[0]);
        std::fill(tail[3], tail[3] + 8, s.shifts[0]);
        if (s.perChannel) {
            if (s.bias)
                std::copy(s.bias + i, s.bias + count, tail[1]);
            std::copy(s.multipliers + i, s.multipliers + count, tail[2]);
            std::copy(s.shifts + i, s.shifts + count, tail[3]);
        }
        const __m256i v = _mm256_add_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail[0])),
                                           _mm256_load_si256(reinterpret_cast<const __m256i*>(tail[1])));
        lanes = avx2RequantLanes(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail[2])),
                                 _mm256_load_si256(reinterpret_cast<const __m256i*>(tail[3])));
        avx2StoreBytes(out + i, avx2Finish(avx2ApplyMultiplier(v, lanes), range), static_cast<int>(rest));
    }
}

} // namespace
} // namespace quantscope::kernels
