#include "IntegerChunkQuantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope {
namespace {

constexpr float kRoundingMagic = 12582912.0f; // 1.5 * 2^23

// Sums are kept in float within a chunk (lanes of the vector unit, at most kChunk / 16 values
// each) and handed on in double, so the relative error stays near 1e-6 whatever the tensor's
// size. `#pragma omp simd` allows the reordered reductions (compiled with -fopenmp-simd; no
// OpenMP runtime); target_clones builds AVX-512, AVX2 and baseline versions chosen at load time.
// fp-contract=off: the AVX-512 clone has FMA, and GCC would otherwise fuse x * inverseScale with
// the + kRoundingMagic below, skipping the float32 rounding of the product that torch performs
// (levels at exact ties, such as x / S = 7.5, then round the other way).
template <bool kWriteOutputs>
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"))) IntegerChunkQuantizer::Result
quantizeChunk(const float* values, int count, float scale, float inverseScale, float zeroPoint, float qmin,
              float qmax, uint32_t* codes, int32_t* integers, float* dequantized) {
    float sumX2 = 0, sumXhat2 = 0, sumXXhat = 0, sumAbs = 0, maxAbs = 0, sumClip2 = 0, sumRound2 = 0;
    int clipped = 0, finiteCount = 0;
    int lowestCode = std::numeric_limits<int>::max(), highestCode = -1;
#pragma omp simd reduction(+ : sumX2, sumXhat2, sumXXhat, sumAbs, sumClip2, sumRound2, clipped, finiteCount) \
    reduction(max : maxAbs, highestCode) reduction(min : lowestCode)
    for (int i = 0; i < count; ++i) {
        const float x = values[i];
        const bool finite = (x - x) == 0.0f; // false for NaN and ±Inf
        // Round half to even by the 1.5 * 2^23 trick: exact for |x / S| < 2^22, and anything
        // larger is clipped whichever way it rounds. Unlike nearbyint it vectorises everywhere.
        const float scaled = x * inverseScale;
        float level = ((scaled + kRoundingMagic) - kRoundingMagic) + zeroPoint;
        level = x != x ? zeroPoint : level; // NaN maps to the zero point, as IntegerQuantizer
        const bool isClipped = (level < qmin) | (level > qmax);
        const float q = level < qmin ? qmin : (level > qmax ? qmax : level);
        const float xhat = (q - zeroPoint) * scale;
        const float xf = finite ? x : 0.0f;
        const float xhatf = finite ? xhat : 0.0f;
        const float error = xf - xhatf;
        const float error2 = error * error;
        const float absError = error < 0.0f ? -error : error;
        sumX2 += xf * xf;
        sumXhat2 += xhatf * xhatf;
        sumXXhat += xf * xhatf;
        sumAbs += absError;
        maxAbs = maxAbs > absError ? maxAbs : absError;
        const bool clippedFinite = finite & isClipped;
        sumClip2 += clippedFinite ? error2 : 0.0f;
        sumRound2 += clippedFinite ? 0.0f : error2;
        clipped += clippedFinite ? 1 : 0;
        finiteCount += finite ? 1 : 0;
        const auto code = static_cast<int32_t>(q - qmin);
        codes[i] = finite ? static_cast<uint32_t>(code) : 0xFFFFFFFFu;
        const int forLowest = finite ? code : std::numeric_limits<int>::max();
        const int forHighest = finite ? code : -1;
        lowestCode = forLowest < lowestCode ? forLowest : lowestCode;
        highestCode = forHighest > highestCode ? forHighest : highestCode;
        if constexpr (kWriteOutputs) {
            integers[i] = static_cast<int32_t>(q);
            dequantized[i] = xhat;
        }
    }
    IntegerChunkQuantizer::Result result;
    MetricSums& sums = result.sums;
    sums.sumX2 = sumX2;
    sums.sumXhat2 = sumXhat2;
    sums.sumXXhat = sumXXhat;
    sums.sumAbs = sumAbs;
    sums.maxAbs = maxAbs;
    sums.sumClip2 = sumClip2;
    sums.sumRound2 = sumRound2;
    sums.count = finiteCount;
    sums.clipped = clipped;
    sums.nonfinite = count - finiteCount;
    if (finiteCount > 0) {
        result.lowestCode = static_cast<uint32_t>(lowestCode);
        result.highestCode = static_cast<uint32_t>(highestCode);
    } else {
        result.lowestCode = 1;
        result.highestCode = 0;
    }
    return result;
}

} // namespace

IntegerChunkQuantizer::Result IntegerChunkQuantizer::run(const float* values, int count,
                                                         const IntegerQuantizer& quantizer, uint32_t* codes, int32_t* integers, float* dequantized) {
    const auto zeroPoint = static_cast<float>(quantizer.zeroPoint);
    const auto qmin = static_cast<float>(quantizer.qmin);
    const auto qmax = static_cast<float>(quantizer.qmax);
    if (integers && dequantized)
        return quantizeChunk<true>(values, count, quantizer.scale, quantizer.inverseScale, zeroPoint, qmin, qmax, codes,
                                   integers, dequantized);
    return quantizeChunk<false>(values, count, quantizer.scale, quantizer.inverseScale, zeroPoint, qmin, qmax, codes,
                                nullptr, nullptr);
}

} // namespace quantscope
