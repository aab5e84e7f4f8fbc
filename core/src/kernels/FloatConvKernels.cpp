#include "quantscope/kernels/FloatConvKernels.h"

namespace quantscope::kernels {

void depthwiseConv(const KernelTable& path, const FloatDepthwisePlane& plane) {
    path.depthwiseF32(plane);
}

void clampValues(const KernelTable& path, float* y, size_t count, const FloatClamp& clamp) {
    if (!clamp.isIdentity())
        path.clampF32(y, count, clamp);
}

} // namespace quantscope::kernels
