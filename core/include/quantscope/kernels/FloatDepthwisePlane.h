#pragma once
// The operands of the fp32 convolution kernels of FloatConvKernels.h (held by KernelTable).

#include <cstddef>
#include <limits>

namespace quantscope::kernels {

// An activation fused into a convolution's output pass, bit for bit as the executor's op:
// Clip's t = v < low ? low : v (NaN and -0 kept), or with reluRule Relu's t = v > low ? v : low
// (NaN and -0 become low); then y = high < t ? high : t.
struct FloatClamp {
    float low = -std::numeric_limits<float>::infinity();
    float high = std::numeric_limits<float>::infinity();
    bool reluRule = false;

    bool isIdentity() const {
        return low == -std::numeric_limits<float>::infinity() &&
               high == std::numeric_limits<float>::infinity() && !reluRule;
    }
};

// One plane of a depthwise convolution, its padding read as zeros:
// y[oy][ox] = clamp(bias + sum_{kh,kw} w[kh][kw] * x[oy * strideH - padTop + kh * dilationH]
//                                                   [ox * strideW - padLeft + kw * dilationW]).
// x is height x width, y outH x outW, both dense; w is kernelH x kernelW.
struct FloatDepthwisePlane {
    const float* x = nullptr;
    int height = 0, width = 0;
    const float* w = nullptr;
    int kernelH = 0, kernelW = 0, strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
    int padTop = 0, padLeft = 0;
    int outH = 0, outW = 0;
    float bias = 0.0f;
    FloatClamp clamp;
    float* y = nullptr;
};

} // namespace quantscope::kernels
