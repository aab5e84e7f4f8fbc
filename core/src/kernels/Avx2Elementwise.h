#pragma once
// The u8 lookup table and QLinear Add / Mul in 256-bit lanes, shared by the AVX2 and AVX-512 files
// (internal linkage keeps the two compilations apart).
#include "QLinearElementwiseScalar.h"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {
namespace {

// 32 lookups at a time: the table is 16 rows of 16 bytes; vpshufb looks up the low nibble in
// every row at once and a compare of the high nibble keeps the row that applies.
inline void avx2LookupU8(const uint8_t* table, const uint8_t* x, size_t count, uint8_t* y) {
    __m256i rows[16];
    for (int r = 0; r < 16; ++r)
        rows[r] =
            _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * r)));
    const __m256i lowMask = _mm256_set1_epi8(0x0F);
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
        const __m256i low = _mm256_and_si256(v, lowMask);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), lowMask);
        __m256i result = _mm256_setzero_si256();
        for (int r = 0; r < 16; ++r) {
            const __m256i hit = _mm256_cmpeq_epi8(high, _mm256_set1_epi8(static_cast<char>(r)));
            result = _mm256_or_si256(result, _mm256_and_si256(hit, _mm256_shuffle_epi8(rows[r], low)));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), result);
    }
    for (; i < count; ++i)
        y[i] = table[x[i]];
}

inline void avx2QLinearBinaryU8(const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                                const float* scales, const int32_t* zeroPoints, bool mul, uint8_t* y) {
    const __m256 scaleA = _mm256_set1_ps(scales[0]), scaleB = _mm256_set1_ps(scales[1]);
    const __m256 scaleC = _mm256_set1_ps(scales[2]);
    const __m256i zeroA = _mm256_set1_epi32(zeroPoints[0]), zeroB = _mm256_set1_epi32(zeroPoints[1]);
    const __m256i zeroC = _mm256_set1_epi32(zeroPoints[2]);
    const __m256 lo = _mm256_set1_ps(static_cast<float>(0 - zeroPoints[2]));
    const __m256 hi = _mm256_set1_ps(static_cast<float>(255 - zeroPoints[2]));
    const __m256i bScalar = _mm256_set1_epi32(b[0]);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256i ai = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i)));
        const __m256i bi =
            bIsScalar ? bScalar
                      : _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i)));
        const __m256 va = _mm256_mul_ps(scaleA, _mm256_cvtepi32_ps(_mm256_sub_epi32(ai, zeroA)));
        const __m256 vb = _mm256_mul_ps(scaleB, _mm256_cvtepi32_ps(_mm256_sub_epi32(bi, zeroB)));
        const __m256 combined = mul ? _mm256_mul_ps(va, vb) : _mm256_add_ps(va, vb);
        __m256 rounded =
            _mm256_round_ps(_mm256_div_ps(combined, scaleC), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        rounded = _mm256_min_ps(_mm256_max_ps(rounded, lo), hi);
        const __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(rounded), zeroC);
        const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), _mm_packus_epi16(words, words));
    }
    qlinear::binaryValues(a + i, bIsScalar ? b : b + i, bIsScalar, count - i, scales, zeroPoints, mul, y + i);
}

} // namespace
} // namespace quantscope::kernels
