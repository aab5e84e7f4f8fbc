#pragma once

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {

// The error sums of one chunk of at most 4096 values, in float (each vector lane sums at most
// 4096 / 16 values, so the relative error stays near 1e-6); callers hand them on in double.
struct ChunkSums {
    float sumX2 = 0, sumXhat2 = 0, sumXXhat = 0, sumAbs = 0, maxAbs = 0, sumClip2 = 0, sumRound2 = 0;
    int count = 0, clipped = 0, nonfinite = 0;
};

struct ChunkQuantizeResult {
    ChunkSums sums;
    // The smallest and largest code q - qmin of a finite value (lowestCode > highestCode when none
    // is known or none is finite).
    uint32_t lowestCode = 1;
    uint32_t highestCode = 0;
    // False when a version that assumes no clipping met a level outside [qmin, qmax].
    bool assumptionsHeld = true;
};

// One chunk's quantization parameters, as floats (levels are small integers, exact in float).
struct ChunkQuantizer {
    float scale = 1, inverseScale = 1, zeroPoint = 0, qmin = 0, qmax = 0;
};

// Which assumptions a chunk-quantize version makes (see ChunkLoops.h): the cheaper ones are tried
// first and checked afterwards by the caller.
enum class ChunkVersion {
    NoClipFinite,    // no value clipped, all finite; level range tracked
    ClipFinite,      // may clip, all finite; level range tracked
    ClipNonfinite,   // may clip and hold NaN / ±Inf; level range tracked
    NoClipUntracked, // no value clipped, all finite; no level range (the caller knows it)
    ClipUntracked,   // may clip, all finite; no level range
};
inline constexpr int kChunkVersionCount = 5;

// The vectorised loops of calibration and tensor analysis. Every path builds all of them from the
// same source (core/src/kernels/ChunkLoops.h) with its own ISA flags; the vector width changes
// the order of the float reductions only, so counts, ranges and codes are equal on every path and
// float sums agree to a few units in the last place.
struct ChunkKernels {
    // Number of NaN and ±Inf values.
    size_t (*countNonfinite)(const float* data, size_t count) = nullptr;
    // Folds the values into lo / hi; returns true when one of them is not finite (then lo and hi
    // are not the finite range).
    bool (*minMaxUnlessNonfinite)(const float* data, size_t count, float& lo, float& hi) = nullptr;
    // Folds the finite values into lo / hi and returns the number of non-finite ones.
    size_t (*minMaxSkippingNonfinite)(const float* data, size_t count, float& lo, float& hi) = nullptr;
    // q = clamp(round_half_even(x * inverseScale) + zeroPoint, qmin, qmax) for each value, with
    // the error sums; integers and dequantized are written by the `withOutputs` versions.
    ChunkQuantizeResult (*quantize[kChunkVersionCount])(const float* values, int count,
                                                        const ChunkQuantizer& q) = {};
    ChunkQuantizeResult (*quantizeWithOutputs[kChunkVersionCount])(const float* values, int count,
                                                                   const ChunkQuantizer& q, int32_t* integers,
                                                                   float* dequantized) = {};
    // codes[i] = q - qmin, or 0xFFFFFFFF for a non-finite value.
    void (*codes)(const float* values, int count, const ChunkQuantizer& q, uint32_t* codes) = nullptr;
};

} // namespace quantscope::kernels
