#pragma once
// The fp32 convolution kernels that OpenBLAS does not cover, through a path's KernelTable: the
// depthwise convolution of one plane (one input channel, one filter) and the clamp a Clip / Relu
// fused into a convolution applies to its output.
//
// The scalar path is the reference: every output accumulated in double and rounded once. SIMD
// paths accumulate in float with fused multiply-adds, in the order bias, then taps row by row;
// their bound (checked by tst_kernels_conv_float against double) is
//   |y - r| <= 2^-20 (|bias| + sum |w x|) + 1e-30
// before the clamp (the clamp itself is exact on every path). Padding reads as zeros multiplied
// like any value (ONNX's definition: an infinite weight over padding gives NaN). Every path
// computes a given output the same way wherever it lies in the plane (borders, tails).
#include "quantscope/kernels/FloatDepthwisePlane.h"
#include "quantscope/kernels/KernelTable.h"

namespace quantscope::kernels {

void depthwiseConv(const KernelTable& path, const FloatDepthwisePlane& plane);

// y[i] = clamp(y[i]) for `count` values.
void clampValues(const KernelTable& path, float* y, size_t count, const FloatClamp& clamp);

} // namespace quantscope::kernels
