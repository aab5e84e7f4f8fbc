#pragma once

// The loops behind ChunkKernels, written once and included by each path's source file, which the
// build compiles with that path's ISA flags (scalar: baseline x86-64). Everything here is in an
// anonymous namespace so that each path keeps its own instantiations: a template shared across
// files compiled with different flags could be merged by the linker into the AVX-512 one.
//
// `#pragma omp simd` allows the reordered min / max reductions (the library is compiled with
// -fopenmp-simd; no OpenMP runtime); float sums keep a fixed order (see quantizeLoop). -ffp-contract=off
// keeps x * inverseScale rounded to float32 before the rounding below, as torch computes it (levels at exact
// ties, such as x / S = 7.5, would round the other way if GCC fused the multiply with the add).

#include "kernels/ChunkRounding.h"
#include "quantscope/kernels/ChunkKernels.h"

#include <cmath>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace quantscope::kernels {
namespace {

size_t countNonfiniteLoop(const float* data, size_t count) {
    size_t nonfinite = 0;
#pragma omp simd reduction(+ : nonfinite)
    for (size_t i = 0; i < count; ++i)
        nonfinite += (data[i] - data[i]) == 0.0f ? 0 : 1; // x - x is 0 only for finite x
    return nonfinite;
}

// A NaN never wins a comparison, but ±Inf would: the range only counts when no value is
// non-finite.
bool minMaxUnlessNonfiniteLoop(const float* data, size_t count, float& lo, float& hi) {
    float low = lo;
    float high = hi;
    int nonfinite = 0;
#pragma omp simd reduction(min : low) reduction(max : high) reduction(| : nonfinite)
    for (size_t i = 0; i < count; ++i) {
        low = data[i] < low ? data[i] : low;
        high = data[i] > high ? data[i] : high;
        nonfinite |= (data[i] - data[i]) == 0.0f ? 0 : 1;
    }
    lo = low;
    hi = high;
    return nonfinite != 0;
}

// A non-finite value takes part as +inf for the minimum and -inf for the maximum, which never
// wins against lo / hi when they start at a finite value.
size_t minMaxSkippingNonfiniteLoop(const float* data, size_t count, float& lo, float& hi) {
    constexpr float kInfinity = std::numeric_limits<float>::infinity();
    float low = lo;
    float high = hi;
    size_t nonfinite = 0;
#pragma omp simd reduction(min : low) reduction(max : high) reduction(+ : nonfinite)
    for (size_t i = 0; i < count; ++i) {
        const float x = data[i];
        const bool finite = (x - x) == 0.0f;
        const float forLow = finite ? x : kInfinity;
        const float forHigh = finite ? x : -kInfinity;
        low = forLow < low ? forLow : low;
        high = forHigh > high ? forHigh : high;
        nonfinite += finite ? 0 : 1;
    }
    lo = low;
    hi = high;
    return nonfinite;
}

// Quantizes a chunk and sums its errors. kMayClip = false assumes that no value is clipped and
// skips the clamp and the clip/round split; kMayHoldNonfinite = false drops the handling of NaN
// and ±Inf. The caller checks the assumptions afterwards: a level outside [qmin, qmax] shows in
// the reduced lowest / highest level (assumptionsHeld), a non-finite value makes sumX2
// non-finite (NaN levels are ignored by the min / max reductions). kTrackLevels = false leaves
// the level range to the caller.
//
// The sums are kept in kLanes lanes, value i in lane i % kLanes, and the lanes are added in order
// at the end: the order of every float addition is fixed by this source, not by the compiler's
// choice of vector width, unrolling or alignment peeling. So all versions, and all paths, give
// the same sums bit for bit, whichever version the caller's knowledge selects.
constexpr int kLanes = 16;

// The per-lane partial sums of quantizeLoop.
struct LaneSums {
    float sumX2[kLanes] = {}, sumXhat2[kLanes] = {}, sumXXhat[kLanes] = {}, sumAbs[kLanes] = {},
          maxAbs[kLanes] = {};
    float sumClip2[kLanes] = {}, sumRound2[kLanes] = {};
    int clipped[kLanes] = {}, finiteCount[kLanes] = {};
    float lowestLevel[kLanes], highestLevel[kLanes];
};

#if defined(__AVX2__)
// quantizeLoop's lanes firstLane .. firstLane + 7 (one half of the 16) over `whole` values, a
// multiple of kLanes, with AVX2 intrinsics: the same operations as quantizeLoop's `step`, in the
// same order per lane, so the sums are bit for bit those of the plain loop. GCC does not
// vectorise that loop (its lane arrays stay in memory, about 6 cycles a value); one half at a
// time keeps every accumulator in a register.
template <bool kWriteOutputs, bool kMayClip, bool kMayHoldNonfinite, bool kTrackLevels>
inline void quantizeHalfLanesAvx2(const float* values, int whole, int firstLane,
                                  const ChunkQuantizer& quantizer, int32_t* integers, float* dequantized,
                                  LaneSums& lanes) {
    const __m256 scale = _mm256_set1_ps(quantizer.scale);
    const __m256 inverseScale = _mm256_set1_ps(quantizer.inverseScale);
    const __m256 zeroPoint = _mm256_set1_ps(quantizer.zeroPoint);
    const __m256 qmin = _mm256_set1_ps(quantizer.qmin);
    const __m256 qmax = _mm256_set1_ps(quantizer.qmax);
    const __m256 magic = _mm256_set1_ps(kRoundingMagic);
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 infinity = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    const __m256 zero = _mm256_setzero_ps();
    __m256 sumX2 = _mm256_loadu_ps(lanes.sumX2 + firstLane);
    __m256 sumXhat2 = _mm256_loadu_ps(lanes.sumXhat2 + firstLane);
    __m256 sumXXhat = _mm256_loadu_ps(lanes.sumXXhat + firstLane);
    __m256 sumAbs = _mm256_loadu_ps(lanes.sumAbs + firstLane);
    __m256 maxAbs = _mm256_loadu_ps(lanes.maxAbs + firstLane);
    __m256 sumClip2 = _mm256_loadu_ps(lanes.sumClip2 + firstLane);
    __m256 sumRound2 = _mm256_loadu_ps(lanes.sumRound2 + firstLane);
    __m256i clipped = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes.clipped + firstLane));
    __m256i finiteCount = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes.finiteCount + firstLane));
    __m256 lowest = _mm256_loadu_ps(lanes.lowestLevel + firstLane);
    __m256 highest = _mm256_loadu_ps(lanes.highestLevel + firstLane);
    for (int i = firstLane; i < whole; i += kLanes) {
        const __m256 x = _mm256_loadu_ps(values + i);
        // (x - x) == 0 only for finite x; ordered compare: false for NaN.
        const __m256 finite = kMayHoldNonfinite ? _mm256_cmp_ps(_mm256_sub_ps(x, x), zero, _CMP_EQ_OQ) : zero;
        const __m256 rounded = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, inverseScale), magic), magic);
        __m256 fromZeroPoint = rounded;
        __m256 isClipped = zero;
        if constexpr (kMayClip) {
            __m256 level = _mm256_add_ps(rounded, zeroPoint);
            if constexpr (kMayHoldNonfinite)
                level = _mm256_blendv_ps(level, zeroPoint, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
            // clampLevel: max(qmin, level) is `level < qmin ? qmin : level`, min(qmax, raised) is
            // `raised > qmax ? qmax : raised`.
            const __m256 q = _mm256_min_ps(qmax, _mm256_max_ps(qmin, level));
            isClipped = _mm256_cmp_ps(q, level, _CMP_NEQ_UQ);
            fromZeroPoint = _mm256_sub_ps(q, zeroPoint);
        }
        const __m256 xhat = _mm256_mul_ps(fromZeroPoint, scale);
        const __m256 xf = kMayHoldNonfinite ? _mm256_and_ps(finite, x) : x;
        const __m256 xhatf = kMayHoldNonfinite ? _mm256_and_ps(finite, xhat) : xhat;
        const __m256 error = _mm256_sub_ps(xf, xhatf);
        const __m256 error2 = _mm256_mul_ps(error, error);
        const __m256 absError = _mm256_and_ps(error, absMask);
        sumX2 = _mm256_add_ps(sumX2, _mm256_mul_ps(xf, xf));
        sumXhat2 = _mm256_add_ps(sumXhat2, _mm256_mul_ps(xhatf, xhatf));
        sumXXhat = _mm256_add_ps(sumXXhat, _mm256_mul_ps(xf, xhatf));
        sumAbs = _mm256_add_ps(sumAbs, absError);
        maxAbs = _mm256_max_ps(maxAbs, absError); // maxAbs > absError ? maxAbs : absError
        if constexpr (kMayClip) {
            const __m256 clippedFinite = kMayHoldNonfinite ? _mm256_and_ps(finite, isClipped) : isClipped;
            sumClip2 = _mm256_add_ps(sumClip2, _mm256_and_ps(clippedFinite, error2));
            sumRound2 = _mm256_add_ps(sumRound2, _mm256_andnot_ps(clippedFinite, error2));
            clipped = _mm256_sub_epi32(clipped, _mm256_castps_si256(clippedFinite));
        } else {
            // Never clipped: the plain loop adds +0 to sumClip2, which leaves it unchanged.
            sumRound2 = _mm256_add_ps(sumRound2, error2);
        }
        if constexpr (kMayHoldNonfinite)
            finiteCount = _mm256_sub_epi32(finiteCount, _mm256_castps_si256(finite));
        if constexpr (kTrackLevels) {
            const __m256 forLowest =
                kMayHoldNonfinite ? _mm256_blendv_ps(infinity, fromZeroPoint, finite) : fromZeroPoint;
            const __m256 forHighest =
                kMayHoldNonfinite ? _mm256_blendv_ps(_mm256_sub_ps(zero, infinity), fromZeroPoint, finite)
                                  : fromZeroPoint;
            lowest = _mm256_min_ps(forLowest, lowest);    // forLowest < lowest ? forLowest : lowest
            highest = _mm256_max_ps(forHighest, highest); // forHighest > highest ? forHighest : highest
        }
        if constexpr (kWriteOutputs) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(integers + i),
                                _mm256_cvttps_epi32(_mm256_add_ps(fromZeroPoint, zeroPoint)));
            _mm256_storeu_ps(dequantized + i, xhat);
        }
    }
    _mm256_storeu_ps(lanes.sumX2 + firstLane, sumX2);
    _mm256_storeu_ps(lanes.sumXhat2 + firstLane, sumXhat2);
    _mm256_storeu_ps(lanes.sumXXhat + firstLane, sumXXhat);
    _mm256_storeu_ps(lanes.sumAbs + firstLane, sumAbs);
    _mm256_storeu_ps(lanes.maxAbs + firstLane, maxAbs);
    _mm256_storeu_ps(lanes.sumClip2 + firstLane, sumClip2);
    _mm256_storeu_ps(lanes.sumRound2 + firstLane, sumRound2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes.clipped + firstLane), clipped);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes.finiteCount + firstLane), finiteCount);
    _mm256_storeu_ps(lanes.lowestLevel + firstLane, lowest);
    _mm256_storeu_ps(lanes.highestLevel + firstLane, highest);
}
#endif

template <bool kWriteOutputs, bool kMayClip, bool kMayHoldNonfinite, bool kTrackLevels>
ChunkQuantizeResult quantizeLoop(const float* values, int count, const ChunkQuantizer& quantizer,
                                 int32_t* integers, float* dequantized) {
    static_assert(kMayClip || !kMayHoldNonfinite, "non-finite values are only handled with clipping");
    const float scale = quantizer.scale, inverseScale = quantizer.inverseScale,
                zeroPoint = quantizer.zeroPoint;
    const float qmin = quantizer.qmin, qmax = quantizer.qmax;
    constexpr float kInfinity = std::numeric_limits<float>::infinity();
    LaneSums lanes;
    float(&sumX2)[kLanes] = lanes.sumX2;
    float(&sumXhat2)[kLanes] = lanes.sumXhat2;
    float(&sumXXhat)[kLanes] = lanes.sumXXhat;
    float(&sumAbs)[kLanes] = lanes.sumAbs;
    float(&maxAbs)[kLanes] = lanes.maxAbs;
    float(&sumClip2)[kLanes] = lanes.sumClip2;
    float(&sumRound2)[kLanes] = lanes.sumRound2;
    int(&clipped)[kLanes] = lanes.clipped;
    int(&finiteCount)[kLanes] = lanes.finiteCount;
    float(&lowestLevel)[kLanes] = lanes.lowestLevel;
    float(&highestLevel)[kLanes] = lanes.highestLevel;
    for (int j = 0; j < kLanes; ++j) {
        lowestLevel[j] = kInfinity;
        highestLevel[j] = -kInfinity;
    }
    auto step = [&](int i, int lane) __attribute__((always_inline)) {
        const float x = values[i];
        const bool finite = !kMayHoldNonfinite || (x - x) == 0.0f; // false for NaN and ±Inf
        const float rounded = roundScaled(x, inverseScale);
        // q - zeroPoint. Without clamping it is `rounded` itself: the cheapest version skips adding
        // and subtracting the zero point. Levels are tracked relative to the zero point.
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
        sumX2[lane] += xf * xf;
        sumXhat2[lane] += xhatf * xhatf;
        sumXXhat[lane] += xf * xhatf;
        sumAbs[lane] += absError;
        maxAbs[lane] = maxAbs[lane] > absError ? maxAbs[lane] : absError;
        const bool clippedFinite = finite & isClipped;
        sumClip2[lane] += clippedFinite ? error2 : 0.0f;
        sumRound2[lane] += clippedFinite ? 0.0f : error2;
        clipped[lane] += clippedFinite ? 1 : 0;
        if constexpr (kMayHoldNonfinite)
            finiteCount[lane] += finite ? 1 : 0;
        if constexpr (kTrackLevels) {
            const float forLowest = finite ? fromZeroPoint : kInfinity;
            const float forHighest = finite ? fromZeroPoint : -kInfinity;
            lowestLevel[lane] = forLowest < lowestLevel[lane] ? forLowest : lowestLevel[lane];
            highestLevel[lane] = forHighest > highestLevel[lane] ? forHighest : highestLevel[lane];
        }
        if constexpr (kWriteOutputs) {
            integers[i] = static_cast<int32_t>(fromZeroPoint + zeroPoint);
            dequantized[i] = xhat;
        }
    };
    const int whole = count / kLanes * kLanes;
#if defined(__AVX2__)
    quantizeHalfLanesAvx2<kWriteOutputs, kMayClip, kMayHoldNonfinite, kTrackLevels>(
        values, whole, 0, quantizer, integers, dequantized, lanes);
    quantizeHalfLanesAvx2<kWriteOutputs, kMayClip, kMayHoldNonfinite, kTrackLevels>(
        values, whole, kLanes / 2, quantizer, integers, dequantized, lanes);
#else
    for (int base = 0; base < whole; base += kLanes) {
#pragma omp simd
        for (int lane = 0; lane < kLanes; ++lane)
            step(base + lane, lane);
    }
#endif
    for (int i = whole; i < count; ++i)
        step(i, i - whole);

    ChunkQuantizeResult result;
    ChunkSums& sums = result.sums;
    float lowest = kInfinity, highest = -kInfinity;
    int finiteTotal = 0;
    for (int lane = 0; lane < kLanes; ++lane) {
        sums.sumX2 += sumX2[lane];
        sums.sumXhat2 += sumXhat2[lane];
        sums.sumXXhat += sumXXhat[lane];
        sums.sumAbs += sumAbs[lane];
        sums.maxAbs = sums.maxAbs > maxAbs[lane] ? sums.maxAbs : maxAbs[lane];
        sums.sumClip2 += sumClip2[lane];
        sums.sumRound2 += sumRound2[lane];
        sums.clipped += clipped[lane];
        finiteTotal += finiteCount[lane];
        lowest = lowestLevel[lane] < lowest ? lowestLevel[lane] : lowest;
        highest = highestLevel[lane] > highest ? highestLevel[lane] : highest;
    }
    sums.count = kMayHoldNonfinite ? finiteTotal : count;
    sums.nonfinite = count - sums.count;
    lowest += zeroPoint;
    highest += zeroPoint;
    if (!kTrackLevels) {
        result.lowestCode = 1;
        result.highestCode = 0;
    } else if (!kMayClip && !(lowest >= qmin && highest <= qmax)) {
        result.assumptionsHeld = false;
    } else if (sums.count > 0 && lowest <= highest) { // else no level: every one was NaN
        result.lowestCode = static_cast<uint32_t>(static_cast<int32_t>(lowest - qmin));
        result.highestCode = static_cast<uint32_t>(static_cast<int32_t>(highest - qmin));
    }
    return result;
}

template <bool kMayClip, bool kMayHoldNonfinite, bool kTrackLevels>
ChunkQuantizeResult quantizeSums(const float* values, int count, const ChunkQuantizer& quantizer) {
    return quantizeLoop<false, kMayClip, kMayHoldNonfinite, kTrackLevels>(values, count, quantizer, nullptr,
                                                                          nullptr);
}

void codesLoop(const float* values, int count, const ChunkQuantizer& quantizer, uint32_t* codes) {
    const float inverseScale = quantizer.inverseScale, zeroPoint = quantizer.zeroPoint;
    const float qmin = quantizer.qmin, qmax = quantizer.qmax;
    int first = 0;
#if defined(__AVX2__)
    // GCC leaves the loop below scalar; the same operations, 8 values at a time.
    {
        const __m256 inverse = _mm256_set1_ps(inverseScale), zp = _mm256_set1_ps(zeroPoint);
        const __m256 low = _mm256_set1_ps(qmin), high = _mm256_set1_ps(qmax);
        const __m256 magic = _mm256_set1_ps(kRoundingMagic), zero = _mm256_setzero_ps();
        for (; first + 8 <= count; first += 8) {
            const __m256 x = _mm256_loadu_ps(values + first);
            __m256 level =
                _mm256_add_ps(_mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, inverse), magic), magic), zp);
            level = _mm256_blendv_ps(level, zp, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
            const __m256 q = _mm256_min_ps(high, _mm256_max_ps(low, level));
            const __m256i code = _mm256_cvttps_epi32(_mm256_sub_ps(q, low));
            const __m256 nonfinite = _mm256_cmp_ps(_mm256_sub_ps(x, x), zero, _CMP_NEQ_UQ); // all ones
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + first),
                                _mm256_or_si256(code, _mm256_castps_si256(nonfinite)));
        }
    }
#endif
#pragma omp simd
    for (int i = first; i < count; ++i) {
        const float x = values[i];
        float level = roundScaled(x, inverseScale) + zeroPoint;
        level = x != x ? zeroPoint : level;
        const auto code = static_cast<uint32_t>(static_cast<int32_t>(clampLevel(level, qmin, qmax) - qmin));
        codes[i] = (x - x) == 0.0f ? code : 0xFFFFFFFFu;
    }
}

constexpr ChunkKernels makeChunkKernels() {
    ChunkKernels k;
    k.countNonfinite = countNonfiniteLoop;
    k.minMaxUnlessNonfinite = minMaxUnlessNonfiniteLoop;
    k.minMaxSkippingNonfinite = minMaxSkippingNonfiniteLoop;
    constexpr auto at = [](ChunkVersion version) { return static_cast<int>(version); };
    k.quantize[at(ChunkVersion::NoClipFinite)] = quantizeSums<false, false, true>;
    k.quantize[at(ChunkVersion::ClipFinite)] = quantizeSums<true, false, true>;
    k.quantize[at(ChunkVersion::ClipNonfinite)] = quantizeSums<true, true, true>;
    k.quantize[at(ChunkVersion::NoClipUntracked)] = quantizeSums<false, false, false>;
    k.quantize[at(ChunkVersion::ClipUntracked)] = quantizeSums<true, false, false>;
    k.quantizeWithOutputs[at(ChunkVersion::NoClipFinite)] = quantizeLoop<true, false, false, true>;
    k.quantizeWithOutputs[at(ChunkVersion::ClipFinite)] = quantizeLoop<true, true, false, true>;
    k.quantizeWithOutputs[at(ChunkVersion::ClipNonfinite)] = quantizeLoop<true, true, true, true>;
    k.quantizeWithOutputs[at(ChunkVersion::NoClipUntracked)] = quantizeLoop<true, false, false, false>;
    k.quantizeWithOutputs[at(ChunkVersion::ClipUntracked)] = quantizeLoop<true, true, false, false>;
    k.codes = codesLoop;
    return k;
}

} // namespace
} // namespace quantscope::kernels
