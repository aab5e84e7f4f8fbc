#include "quantscope/kernels/FloatKernels.h"

namespace quantscope::kernels {

void erf(const KernelTable& path, const float* x, size_t count, float* y) {
    path.erfF32(x, count, y);
}

void gelu(const KernelTable& path, const float* x, size_t count, float* y) {
    path.geluF32(x, count, y);
}

void softmaxRows(const KernelTable& path, const float* x, size_t rows, size_t length, float* y) {
    for (size_t row = 0; row < rows; ++row)
        path.softmaxF32(x + row * length, length, y + row * length);
}

void layerNormRows(const KernelTable& path, const float* x, size_t rows, size_t length, const float* scale,
                   const float* bias, float epsilon, float* y, float* mean, float* inverseStd) {
    for (size_t row = 0; row < rows; ++row)
        path.layerNormF32(x + row * length, length, scale, bias, epsilon, y + row * length,
                          mean ? mean + row : nullptr, inverseStd ? inverseStd + row : nullptr);
}

void binary(const KernelTable& path, FloatBinaryOp op, const float* a, size_t aStep, const float* b,
            size_t bStep, size_t count, float* y) {
    path.binaryF32(op, a, aStep, b, bStep, count, y);
}

} // namespace quantscope::kernels
