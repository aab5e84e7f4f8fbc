#pragma once

#include <cmath>
#include <cstdint>

namespace quantscope {

// Quantization of single values, written to match PyTorch bit for bit: multiply by the float32
// reciprocal of the scale, round half to even (std::nearbyint in the default rounding mode),
// then add the zero point and clamp (fbgemm::Quantize with LEGACY = false).
struct IntegerQuantizer {
    float scale = 1.0f;
    float inverseScale = 1.0f;
    int32_t zeroPoint = 0;
    int32_t qmin = -128;
    int32_t qmax = 127;

    IntegerQuantizer() = default;
    IntegerQuantizer(float s, int32_t zp, int32_t lo, int32_t hi)
        : scale(s), inverseScale(1.0f / s), zeroPoint(zp), qmin(lo), qmax(hi) {}

    // The level before clamping, as a float (exact for every level of 16-bit formats).
    // NaN maps to the zero point, infinities saturate.
    float unclamped(float x) const {
        if (std::isnan(x))
            return static_cast<float>(zeroPoint);
        return std::nearbyint(x * inverseScale) + static_cast<float>(zeroPoint);
    }
    int32_t quantize(float x) const {
        const float r = unclamped(x);
        if (r < static_cast<float>(qmin))
            return qmin;
        if (r > static_cast<float>(qmax))
            return qmax;
        return static_cast<int32_t>(r);
    }
    float dequantize(int32_t q) const { return static_cast<float>(q - zeroPoint) * scale; }
};

} // namespace quantscope
