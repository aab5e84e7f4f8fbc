#pragma once

// The rounding of the calibration and analysis loops, shared by every kernel path
// (kernels/ChunkLoops.h) and by the callers that predict a chunk's levels from its extremes
// (IntegerChunkQuantizer), so the prediction and the loops agree on every value. In an anonymous
// namespace: each file compiled with other ISA flags keeps its own copy.

namespace quantscope::kernels {
namespace {

constexpr float kRoundingMagic = 12582912.0f; // 1.5 * 2^23

// x / S rounded half to even, the one rounding of the analysis loops on every path: the
// 1.5 * 2^23 trick, exact for |x / S| < 2^22 (anything larger is clipped whichever way it
// rounds). Unlike nearbyint it vectorises everywhere. Never NaN nor -0 for a non-NaN x.
inline float roundScaled(float x, float inverseScale) {
    const float scaled = x * inverseScale;
    return (scaled + kRoundingMagic) - kRoundingMagic;
}

// Clamps a level to [qmin, qmax] (a max then a min instruction; the level is never NaN).
inline float clampLevel(float level, float qmin, float qmax) {
    const float raised = level < qmin ? qmin : level;
    return raised > qmax ? qmax : raised;
}

} // namespace
} // namespace quantscope::kernels
