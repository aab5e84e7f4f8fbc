#include "IntegerChunkQuantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantscope {
namespace {

constexpr float kRoundingMagic = 12582912.0f; // 1.5 * 2^23

// x / S rounded half to even, as IntegerQuantizer::unclamped computes it for a non-NaN x before
// adding the zero point: the 1.5 * 2^23 trick, exact for |x / S| < 2^22 (anything larger is
// clipped whichever way it rounds). Unlike nearbyint it vectorises everywhere. Never NaN nor -0.
inline float roundScaled(float x, float inverseScale) {
    const float scaled = x * inverseScale;
    return (scaled + kRoundingMagic) - kRoundingMagic;
}

// Clamps a level to [qmin, qmax] (a max then a min instruction; the level is never NaN).
inline float clampLevel(float level, float qmin, float qmax) {
    const float raised = level < qmin ? qmin : level;
    return raised > qmax ? qmax : raised;
}

// Sums are kept in float within a chunk (lanes of the vector unit, at most kChunk / 16 values
// each) and handed on in double, so the relative error stays near 1e-6 whatever the tensor's
// size. `#pragma omp simd` allows the reordered reductions (compiled with -fopenmp-simd; no
// OpenMP runtime); target_clones builds AVX-512, AVX2 and baseline versions chosen at load time.
// fp-contract=off: the AVX-512 clone has FMA, and GCC would otherwise fuse x * inverseScale with
// the + kRoundingMagic below, skipping the float32 rounding of the product that torch performs
// (levels at exact ties, such as x / S = 7.5, then round the other way).
// Three versions, tried from the cheapest: kMayClip = false assumes that no value is clipped and
// skips the clamp and the clip/round split; kMayHoldNonfinite = false drops the handling of NaN
// and ±Inf. Their arithmetic on the values they accept is the same, in the same order, so their
// sums agree bit for bit with the full version's. The caller checks the assumptions afterwards:
// a level outside [qmin, qmax] shows in the reduced lowest / highest level, a non-finite value
// makes sumX2 non-finite (NaN levels are ignored by the min / max reductions).
// kTrackLevels = false leaves the level range to the caller (see IntegerChunkQuantizer::runFinite).
template <bool kWriteOutputs, bool kMayClip, bool kMayHoldNonfinite, bool kTrackLevels = true>
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"))) IntegerChunkQuantizer::Result
quantizeChunk(const float* values, int count, float scale, float inverseScale, float zeroPoint, float qmin,
              float qmax, int32_t* integers, float* dequantized) {
    static_assert(kMayClip || !kMayHoldNonfinite, "non-finite values are only handled with clipping");
    float sumX2 = 0, sumXhat2 = 0, sumXXhat = 0, sumAbs = 0, maxAbs = 0, sumClip2 = 0, sumRound2 = 0;
    int clipped = 0, finiteCount = 0;
    float lowestLevel = std::numeric_limits<float>::infinity();
    float highestLevel = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(+ : sumX2, sumXhat2, sumXXhat, sumAbs, sumClip2, sumRound2, clipped, finiteCount) \
    reduction(max : maxAbs, highestLevel) reduction(min : lowestLevel)
    for (int i = 0; i < count; ++i) {
        const float x = values[i];
        const bool finite = !kMayHoldNonfinite || (x - x) == 0.0f; // false for NaN and ±Inf
        const float rounded = roundScaled(x, inverseScale);
        // q - zeroPoint. Without clamping it is `rounded` itself (levels are small integers, exact
        // in float): the cheapest version skips adding and subtracting the zero point. The range
        // of levels is tracked relative to the zero point and shifted after the loop.
        float fromZeroPoint = rounded;
        bool isClipped = false;
        if constexpr (kMayClip) {
            float level = rounded + zeroPoint;
            if constexpr (kMayHoldNonfinite)
                level = x != x ? zeroPoint : level; // NaN maps to the zero point, as IntegerQuantizer
            const float q = clampLevel(level, qmin, qmax);
            isClipped = q != level;
            fromZeroPoint = q - zeroPoint;
        }
        const float xhat = fromZeroPoint * scale;
        const float xf = finite ? x : 0.0f;
        const float xhatf = finite ? xhat : 0.0f;
        const float error = xf - xhatf;
        const float error2 = error * error;
        const float absError = std::fabs(error);
        sumX2 += xf * xf;
        sumXhat2 += xhatf * xhatf;
        sumXXhat += xf * xhatf;
        sumAbs += absError;
        maxAbs = maxAbs > absError ? maxAbs : absError;
        const bool clippedFinite = finite & isClipped;
        sumClip2 += clippedFinite ? error2 : 0.0f;
        sumRound2 += clippedFinite ? 0.0f : error2;
        clipped += clippedFinite ? 1 : 0;
        if constexpr (kMayHoldNonfinite)
            finiteCount += finite ? 1 : 0;
        const float forLowest = finite ? fromZeroPoint : std::numeric_limits<float>::infinity();
        const float forHighest = finite ? fromZeroPoint : -std::numeric_limits<float>::infinity();
        if constexpr (kTrackLevels) {
            lowestLevel = forLowest < lowestLevel ? forLowest : lowestLevel;
            highestLevel = forHighest > highestLevel ? forHighest : highestLevel;
        }
        if constexpr (kWriteOutputs) {
            integers[i] = static_cast<int32_t>(fromZeroPoint + zeroPoint);
            dequantized[i] = xhat;
        }
    }
    if constexpr (!kMayHoldNonfinite)
        finiteCount = count;
    lowestLevel += zeroPoint;
    highestLevel += zeroPoint;
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
    if (!kTrackLevels) {
        result.lowestCode = 1;
        result.highestCode = 0;
    } else if (!kMayClip && !(lowestLevel >= qmin && highestLevel <= qmax)) {
        result.assumptionsHeld = false;
    } else if (finiteCount > 0) {
        result.lowestCode = static_cast<uint32_t>(static_cast<int32_t>(lowestLevel - qmin));
        result.highestCode = static_cast<uint32_t>(static_cast<int32_t>(highestLevel - qmin));
    } else {
        result.lowestCode = 1;
        result.highestCode = 0;
    }
    return result;
}

// Tries the cheaper versions first (see quantizeChunk); `expectClipping` skips the one that
// assumes no clipping, and is updated from this chunk for the next one.
template <bool kWriteOutputs>
IntegerChunkQuantizer::Result quantizeChunkChecked(const float* values, int count, float scale, float inverseScale,
                                                   float zeroPoint, float qmin, float qmax, int32_t* integers,
                                                   float* dequantized, bool& expectClipping) {
    if (!expectClipping) {
        const auto result = quantizeChunk<kWriteOutputs, false, false>(values, count, scale, inverseScale, zeroPoint,
                                                                       qmin, qmax, integers, dequantized);
        if (result.assumptionsHeld && std::isfinite(result.sums.sumX2))
            return result;
    }
    auto result = quantizeChunk<kWriteOutputs, true, false>(values, count, scale, inverseScale, zeroPoint, qmin, qmax,
                                                            integers, dequantized);
    if (!std::isfinite(result.sums.sumX2))
        result = quantizeChunk<kWriteOutputs, true, true>(values, count, scale, inverseScale, zeroPoint, qmin, qmax,
                                                          integers, dequantized);
    expectClipping = result.sums.clipped > 0;
    return result;
}

__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"))) void
chunkCodes(const float* values, int count, float inverseScale, float zeroPoint, float qmin, float qmax,
           uint32_t* codes) {
#pragma omp simd
    for (int i = 0; i < count; ++i) {
        const float x = values[i];
        float level = roundScaled(x, inverseScale) + zeroPoint;
        level = x != x ? zeroPoint : level;
        const auto code = static_cast<uint32_t>(static_cast<int32_t>(clampLevel(level, qmin, qmax) - qmin));
        codes[i] = (x - x) == 0.0f ? code : 0xFFFFFFFFu;
    }
}

// The min / max reductions may be reordered; a NaN never wins a comparison but ±Inf would, so
// the result only counts when no value is non-finite (x - x is 0 only for finite x).
__attribute__((target_clones("avx512f", "avx2", "default"))) bool chunkFiniteRange(const float* values, int count,
                                                                                   float& lowest, float& highest) {
    float low = values[0];
    float high = values[0];
    int nonfinite = 0;
#pragma omp simd reduction(min : low) reduction(max : high) reduction(| : nonfinite)
    for (int i = 0; i < count; ++i) {
        low = values[i] < low ? values[i] : low;
        high = values[i] > high ? values[i] : high;
        nonfinite |= (values[i] - values[i]) == 0.0f ? 0 : 1;
    }
    lowest = low;
    highest = high;
    return nonfinite == 0;
}

template <bool kWriteOutputs>
IntegerChunkQuantizer::Result quantizeFiniteChunk(const float* values, int count, float scale, float inverseScale,
                                                  float zeroPoint, float qmin, float qmax, float lowest,
                                                  float highest, int32_t* integers, float* dequantized) {
    // Rounding is monotonic, so the chunk's levels run from its lowest value's to its highest's.
    const float lowestLevel = roundScaled(lowest, inverseScale) + zeroPoint;
    const float highestLevel = roundScaled(highest, inverseScale) + zeroPoint;
    const bool mayClip = lowestLevel < qmin || highestLevel > qmax;
    auto result = mayClip ? quantizeChunk<kWriteOutputs, true, false, false>(values, count, scale, inverseScale,
                                                                             zeroPoint, qmin, qmax, integers,
                                                                             dequantized)
                          : quantizeChunk<kWriteOutputs, false, false, false>(values, count, scale, inverseScale,
                                                                              zeroPoint, qmin, qmax, integers,
                                                                              dequantized);
    result.lowestCode = static_cast<uint32_t>(static_cast<int32_t>(clampLevel(lowestLevel, qmin, qmax) - qmin));
    result.highestCode = static_cast<uint32_t>(static_cast<int32_t>(clampLevel(highestLevel, qmin, qmax) - qmin));
    return result;
}

} // namespace

bool IntegerChunkQuantizer::finiteRange(const float* values, int count, float& lowest, float& highest) {
    return count > 0 && chunkFiniteRange(values, count, lowest, highest);
}

IntegerChunkQuantizer::Result IntegerChunkQuantizer::runFinite(const float* values, int count,
                                                               const IntegerQuantizer& quantizer, float lowest,
                                                               float highest, int32_t* integers,
                                                               float* dequantized) {
    const auto zeroPoint = static_cast<float>(quantizer.zeroPoint);
    const auto qmin = static_cast<float>(quantizer.qmin);
    const auto qmax = static_cast<float>(quantizer.qmax);
    if (integers && dequantized)
        return quantizeFiniteChunk<true>(values, count, quantizer.scale, quantizer.inverseScale, zeroPoint, qmin,
                                         qmax, lowest, highest, integers, dequantized);
    return quantizeFiniteChunk<false>(values, count, quantizer.scale, quantizer.inverseScale, zeroPoint, qmin, qmax,
                                      lowest, highest, nullptr, nullptr);
}

IntegerChunkQuantizer::Result IntegerChunkQuantizer::run(const float* values, int count,
                                                         const IntegerQuantizer& quantizer, int32_t* integers,
                                                         float* dequantized) {
    const auto zeroPoint = static_cast<float>(quantizer.zeroPoint);
    const auto qmin = static_cast<float>(quantizer.qmin);
    const auto qmax = static_cast<float>(quantizer.qmax);
    if (integers && dequantized)
        return quantizeChunkChecked<true>(values, count, quantizer.scale, quantizer.inverseScale, zeroPoint, qmin, qmax,
                                          integers, dequantized, m_expectClipping);
    return quantizeChunkChecked<false>(values, count, quantizer.scale, quantizer.inverseScale, zeroPoint, qmin, qmax,
                                       nullptr, nullptr, m_expectClipping);
}

void IntegerChunkQuantizer::codes(const float* values, int count, const IntegerQuantizer& quantizer,
                                  uint32_t* codes) {
    chunkCodes(values, count, quantizer.inverseScale, static_cast<float>(quantizer.zeroPoint),
               static_cast<float>(quantizer.qmin), static_cast<float>(quantizer.qmax), codes);
}

} // namespace quantscope
