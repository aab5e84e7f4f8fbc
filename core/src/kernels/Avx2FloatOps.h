#pragma once
// The fp32 ops of FloatKernels.h in 256-bit lanes (AVX2 + FMA), shared by the AVX2 and AVX-512
// files (internal linkage keeps the two compilations apart). The bounds they keep against the
// double-precision reference are written in FloatKernels.h and checked by tst_kernels_float.
#include "ScalarFloatOps.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <limits>

namespace quantscope::kernels {
namespace {

inline __m256 avx2Fmadd(__m256 a, __m256 b, float c) {
    return _mm256_fmadd_ps(a, b, _mm256_set1_ps(c));
}

// exp(x) within 2 ulp (Cephes' expf): x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts so n ln2
// is exact), exp(r) = 1 + r + r^2 P(r), then 2^n applied as 2^a 2^b with a + b = n, both normal
// exponents, so results from the subnormals up to FLT_MAX come out of one final rounding.
inline __m256 avx2Exp(__m256 x) {
    const __m256 overflow = _mm256_set1_ps(88.72283935546875f);       // log(FLT_MAX): above is +inf
    const __m256 underflow = _mm256_set1_ps(-103.97208404541015625f); // below is 0
    const __m256 clamped = _mm256_min_ps(_mm256_max_ps(x, underflow), overflow);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(clamped, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), clamped);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = avx2Fmadd(p, r, 1.3981999507e-3f);
    p = avx2Fmadd(p, r, 8.3334519073e-3f);
    p = avx2Fmadd(p, r, 4.1665795894e-2f);
    p = avx2Fmadd(p, r, 1.6666665459e-1f);
    p = avx2Fmadd(p, r, 5.0000001201e-1f);
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i whole = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(whole, 1);
    const __m256i rest = _mm256_sub_epi32(whole, half);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 twoHalf = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 twoRest = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
    __m256 result = _mm256_mul_ps(_mm256_mul_ps(p, twoHalf), twoRest);
    result = _mm256_blendv_ps(result, _mm256_set1_ps(std::numeric_limits<float>::infinity()),
                              _mm256_cmp_ps(x, overflow, _CMP_GT_OQ));
    result = _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(x, underflow, _CMP_LT_OQ));
    return _mm256_blendv_ps(result, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); // NaN stays NaN
}

// erf(z) for 0 <= z < 1 by its Taylor series z 2/sqrt(pi) sum (-z^2)^n / (n! (2n + 1)), n <= 11
// (the first term left out is below 1e-9 at z = 1): relative error a few ulp, no cancellation.
inline __m256 avx2ErfSmall(__m256 z) {
    static constexpr float kTerms[] = {
        1.1283791670955126f,     -0.37612638903183752f,    0.11283791670955126f,    -0.026866170645131252f,
        0.0052239776254421878f,  -0.00085483270234508528f, 0.00012055332981789664f, -1.4925650358406251e-05f,
        1.6462114365889246e-06f, -1.6365844691234924e-07f, 1.4807192815879218e-08f, -1.2290555301717926e-09f};
    const __m256 z2 = _mm256_mul_ps(z, z);
    __m256 p = _mm256_set1_ps(kTerms[11]);
    for (int i = 10; i >= 0; --i)
        p = avx2Fmadd(p, z2, kTerms[i]);
    return _mm256_mul_ps(p, z);
}

// erfc(z) for z >= 1 (Numerical Recipes' erfcc, relative error below 1.2e-7): t exp(-z^2 + c(t)),
// t = 1 / (1 + z / 2). z^2 comes as two floats, square + squareError (exact from FMA), and the sum
// with c is carried in two floats too (TwoSum), so large z keeps erfc's relative precision.
inline __m256 avx2ErfcLarge(__m256 z, __m256 square, __m256 squareError) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), one));
    __m256 c = _mm256_set1_ps(0.17087277f);
    c = avx2Fmadd(c, t, -0.82215223f);
    c = avx2Fmadd(c, t, 1.48851587f);
    c = avx2Fmadd(c, t, -1.13520398f);
    c = avx2Fmadd(c, t, 0.27886807f);
    c = avx2Fmadd(c, t, -0.18628806f);
    c = avx2Fmadd(c, t, 0.09678418f);
    c = avx2Fmadd(c, t, 0.37409196f);
    c = avx2Fmadd(c, t, 1.00002368f);
    c = avx2Fmadd(c, t, -1.26551223f);
    const __m256 negSquare = _mm256_sub_ps(_mm256_setzero_ps(), square);
    const __m256 sum = _mm256_add_ps(c, negSquare);
    const __m256 partC = _mm256_sub_ps(sum, negSquare);
    const __m256 partSquare = _mm256_sub_ps(sum, partC);
    const __m256 sumError =
        _mm256_add_ps(_mm256_sub_ps(c, partC), _mm256_sub_ps(negSquare, partSquare)); // TwoSum
    const __m256 correction = _mm256_add_ps(one, _mm256_sub_ps(sumError, squareError));
    return _mm256_mul_ps(_mm256_mul_ps(t, avx2Exp(sum)), correction);
}

inline __m256 avx2Abs(__m256 x) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}

// Beyond 10, erf is 1 and erfc (2e-45 at 10) rounds to 0 or a subnormal: the inputs are clamped
// there (a NaN turns into 10 too, and is put back at the end).
inline __m256 avx2Erf(__m256 x) {
    const __m256 z = _mm256_min_ps(avx2Abs(x), _mm256_set1_ps(10.0f));
    const __m256 small = _mm256_cmp_ps(z, _mm256_set1_ps(1.0f), _CMP_LT_OQ);
    const __m256 square = _mm256_mul_ps(z, z);
    const __m256 erfc = avx2ErfcLarge(z, square, _mm256_fmsub_ps(z, z, square));
    const __m256 magnitude =
        _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), erfc), avx2ErfSmall(z), small);
    const __m256 result = _mm256_or_ps(magnitude, _mm256_and_ps(x, _mm256_set1_ps(-0.0f))); // erf is odd
    return _mm256_blendv_ps(result, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// x / 2 (1 + erf(x / sqrt 2)); for x < 0 the bracket is erfc(|x| / sqrt 2), taken directly so the
// negative tail keeps its relative precision, with z^2 = x^2 / 2 exact (not the rounded z squared).
// |x| is clamped to 15, where the bracket is already 2 or below the smallest float (so -inf gives
// NaN, -inf * 0, as the formula does).
inline __m256 avx2Gelu(__m256 x) {
    const __m256 clamped = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(15.0f)), _mm256_set1_ps(-15.0f));
    const __m256 z = _mm256_mul_ps(avx2Abs(clamped), _mm256_set1_ps(0.70710678118654752f));
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 xx = _mm256_mul_ps(clamped, clamped);
    const __m256 square = _mm256_mul_ps(xx, half);
    const __m256 squareError = _mm256_mul_ps(_mm256_fmsub_ps(clamped, clamped, xx), half);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 small = _mm256_cmp_ps(z, one, _CMP_LT_OQ);
    const __m256 erfSmall = avx2ErfSmall(z);
    const __m256 erfc = avx2ErfcLarge(z, square, squareError);
    const __m256 bracketSmall =
        _mm256_blendv_ps(_mm256_add_ps(one, erfSmall), _mm256_sub_ps(one, erfSmall), negative);
    const __m256 bracketLarge = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), erfc), erfc, negative);
    const __m256 bracket = _mm256_blendv_ps(bracketLarge, bracketSmall, small);
    const __m256 result = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), bracket);
    return _mm256_blendv_ps(result, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// y = f(x) over whole vectors; the tail goes through one padded vector.
template <__m256 (*F)(__m256)> void avx2MapValues(const float* x, size_t count, float* y) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
    if (i < count) {
        alignas(32) float tail[8] = {};
        std::copy(x + i, x + count, tail);
        _mm256_store_ps(tail, F(_mm256_load_ps(tail)));
        std::copy(tail, tail + (count - i), y + i);
    }
}

inline void avx2ErfValues(const float* x, size_t count, float* y) {
    avx2MapValues<avx2Erf>(x, count, y);
}

inline void avx2GeluValues(const float* x, size_t count, float* y) {
    avx2MapValues<avx2Gelu>(x, count, y);
}

inline float avx2HorizontalSum(__m256 v) {
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 1)));
}

inline float avx2HorizontalMax(__m256 v) {
    const __m128 half = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 quarter = _mm_max_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_max_ss(quarter, _mm_shuffle_ps(quarter, quarter, 1)));
}

inline double avx2HorizontalSum(__m256d v) {
    const __m128d half = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
}

// exp(x - max) summed in float lanes, then scaled by 1 / sum. A NaN anywhere makes the sum and
// so the whole row NaN, as in the reference.
inline void avx2SoftmaxRow(const float* x, size_t length, float* y) {
    size_t i = 0;
    float peak = -std::numeric_limits<float>::infinity();
    if (length >= 8) {
        __m256 peaks = _mm256_set1_ps(peak);
        for (; i + 8 <= length; i += 8)
            peaks = _mm256_max_ps(peaks, _mm256_loadu_ps(x + i));
        peak = avx2HorizontalMax(peaks);
    }
    for (; i < length; ++i)
        peak = x[i] > peak ? x[i] : peak;
    const __m256 shift = _mm256_set1_ps(peak);
    __m256 sums = _mm256_setzero_ps();
    for (i = 0; i + 8 <= length; i += 8) {
        const __m256 e = avx2Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
        _mm256_storeu_ps(y + i, e);
        sums = _mm256_add_ps(sums, e);
    }
    if (i < length) {
        alignas(32) float tail[8];
        std::fill(tail, tail + 8,
                  -std::numeric_limits<float>::infinity()); // exp gives 0: no effect on the sum
        std::copy(x + i, x + length, tail);
        const __m256 e = avx2Exp(_mm256_sub_ps(_mm256_load_ps(tail), shift));
        sums = _mm256_add_ps(sums, e);
        _mm256_store_ps(tail, e);
        std::copy(tail, tail + (length - i), y + i);
    }
    const __m256 inverse = _mm256_set1_ps(1.0f / avx2HorizontalSum(sums));
    for (i = 0; i + 8 <= length; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inverse));
    for (; i < length; ++i)
        y[i] *= _mm256_cvtss_f32(inverse);
}

// Mean and variance summed in double lanes (as the reference); the row itself in float, centred
// on the mean carried as two floats so x - mean keeps its precision when the mean is large.
inline void avx2LayerNormRow(const float* x, size_t length, const float* scale, const float* bias,
                             float epsilon, float* y, float* mean, float* inverseStd) {
    __m256d sumLow = _mm256_setzero_pd(), sumHigh = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        sumLow = _mm256_add_pd(sumLow, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        sumHigh = _mm256_add_pd(sumHigh, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    double sum = avx2HorizontalSum(_mm256_add_pd(sumLow, sumHigh));
    for (; i < length; ++i)
        sum += x[i];
    const double average = length > 0 ? sum / static_cast<double>(length) : 0.0;
    const __m256d centre = _mm256_set1_pd(average);
    __m256d squaresLow = _mm256_setzero_pd(), squaresHigh = _mm256_setzero_pd();
    for (i = 0; i + 8 <= length; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256d low = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), centre);
        const __m256d high = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), centre);
        squaresLow = _mm256_fmadd_pd(low, low, squaresLow);
        squaresHigh = _mm256_fmadd_pd(high, high, squaresHigh);
    }
    double squares = avx2HorizontalSum(_mm256_add_pd(squaresLow, squaresHigh));
    for (; i < length; ++i)
        squares += (x[i] - average) * (x[i] - average);
    const double variance = length > 0 ? squares / static_cast<double>(length) : 0.0;
    const double inverse = 1.0 / std::sqrt(variance + static_cast<double>(epsilon));
    const auto meanHigh = static_cast<float>(average);
    const auto meanLow = static_cast<float>(average - static_cast<double>(meanHigh));
    const auto inverseF = static_cast<float>(inverse);
    const __m256 high = _mm256_set1_ps(meanHigh), low = _mm256_set1_ps(meanLow),
                 inv = _mm256_set1_ps(inverseF);
    for (i = 0; i + 8 <= length; i += 8) {
        const __m256 centred = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), high), low);
        const __m256 factor = _mm256_mul_ps(inv, _mm256_loadu_ps(scale + i));
        const __m256 b = bias ? _mm256_loadu_ps(bias + i) : _mm256_setzero_ps();
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(centred, factor, b));
    }
    for (; i < length; ++i)
        y[i] = std::fma((x[i] - meanHigh) - meanLow, inverseF * scale[i], bias ? bias[i] : 0.0f);
    if (mean)
        *mean = meanHigh;
    if (inverseStd)
        *inverseStd = inverseF;
}

template <class VectorOp, class ScalarOp>
void avx2BinaryLoop(const float* a, size_t aStep, const float* b, size_t bStep, size_t count, float* y,
                    VectorOp vectorOp, ScalarOp scalarOp) {
    size_t i = 0;
    if (aStep == 1 && bStep == 1) {
        for (; i + 8 <= count; i += 8)
            _mm256_storeu_ps(y + i, vectorOp(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    } else if (aStep == 1) {
        const __m256 vb = _mm256_set1_ps(*b);
        for (; i + 8 <= count; i += 8)
            _mm256_storeu_ps(y + i, vectorOp(_mm256_loadu_ps(a + i), vb));
    } else if (bStep == 1) {
        const __m256 va = _mm256_set1_ps(*a);
        for (; i + 8 <= count; i += 8)
            _mm256_storeu_ps(y + i, vectorOp(va, _mm256_loadu_ps(b + i)));
    }
    for (; i < count; ++i)
        y[i] = scalarOp(a[i * aStep], b[i * bStep]);
}

inline void avx2BinaryValues(FloatBinaryOp op, const float* a, size_t aStep, const float* b, size_t bStep,
                             size_t count, float* y) {
    switch (op) {
    case FloatBinaryOp::Add:
        return avx2BinaryLoop(
            a, aStep, b, bStep, count, y, [](__m256 p, __m256 q) { return _mm256_add_ps(p, q); },
            [](float p, float q) { return p + q; });
    case FloatBinaryOp::Sub:
        return avx2BinaryLoop(
            a, aStep, b, bStep, count, y, [](__m256 p, __m256 q) { return _mm256_sub_ps(p, q); },
            [](float p, float q) { return p - q; });
    case FloatBinaryOp::Mul:
        return avx2BinaryLoop(
            a, aStep, b, bStep, count, y, [](__m256 p, __m256 q) { return _mm256_mul_ps(p, q); },
            [](float p, float q) { return p * q; });
    case FloatBinaryOp::Div:
        return avx2BinaryLoop(
            a, aStep, b, bStep, count, y, [](__m256 p, __m256 q) { return _mm256_div_ps(p, q); },
            [](float p, float q) { return p / q; });
    }
}

} // namespace
} // namespace quantscope::kernels
