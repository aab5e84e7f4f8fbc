#pragma once
// The AVX2 fp32 convolution kernels (FloatConv_avx2.cpp), shared by the AVX2 and AVX-512 tables.
// Only referenced where the AVX2 path is built.
#include "quantscope/kernels/FloatDepthwisePlane.h"

#include <cstddef>

namespace quantscope::kernels::avx2conv {

void depthwisePlane(const FloatDepthwisePlane& plane);
void clampValues(float* y, size_t count, const FloatClamp& clamp);

} // namespace quantscope::kernels::avx2conv
