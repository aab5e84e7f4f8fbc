#pragma once
// The reference fp32 convolution kernels of FloatConvKernels.h: each output accumulated in double
// and rounded once; padding reads as zeros (multiplied like any value, as ONNX defines it).
#include "quantscope/kernels/FloatDepthwisePlane.h"

#include <cstddef>

namespace quantscope::kernels::scalarfloat {

inline float clampOne(float v, const FloatClamp& clamp) {
    const float t = clamp.reluRule ? (v > clamp.low ? v : clamp.low) : (v < clamp.low ? clamp.low : v);
    return clamp.high < t ? clamp.high : t;
}

inline void clampValues(float* y, size_t count, const FloatClamp& clamp) {
    for (size_t i = 0; i < count; ++i)
        y[i] = clampOne(y[i], clamp);
}

inline void depthwisePlane(const FloatDepthwisePlane& p) {
    for (int oy = 0; oy < p.outH; ++oy) {
        for (int ox = 0; ox < p.outW; ++ox) {
            double sum = p.bias;
            for (int kh = 0; kh < p.kernelH; ++kh) {
                const long iy =
                    static_cast<long>(oy) * p.strideH - p.padTop + static_cast<long>(kh) * p.dilationH;
                for (int kw = 0; kw < p.kernelW; ++kw) {
                    const long ix =
                        static_cast<long>(ox) * p.strideW - p.padLeft + static_cast<long>(kw) * p.dilationW;
                    const bool inside = iy >= 0 && iy < p.height && ix >= 0 && ix < p.width;
                    sum += (inside ? static_cast<double>(p.x[iy * p.width + ix]) : 0.0) *
                           p.w[kh * p.kernelW + kw];
                }
            }
            p.y[static_cast<size_t>(oy) * p.outW + ox] = clampOne(static_cast<float>(sum), p.clamp);
        }
    }
}

} // namespace quantscope::kernels::scalarfloat
