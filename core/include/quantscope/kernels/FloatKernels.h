#pragma once
// The fp32 ops that sit between a model's GEMMs (Gelu / Erf, Softmax, LayerNormalization and
// the element-wise arithmetic of bias adds and scalings), through a path's KernelTable.
//
// The scalar path is the reference: it computes in double and rounds once, as the executor's
// plain ops do. SIMD paths compute in float with these written bounds (checked by
// tst_kernels_float against std::erf / std::erfc / std::exp in double):
//   erf:       |y - erf(x)| <= 2e-7, and <= 4 ulp of |erf(x)| for |x| < 0.5 (AVX2: 1.3e-7)
//   gelu:      |y - g| <= 1e-6 |g| + 2e-45, g = x/2 erfc(-x/sqrt2) in double: relative also in
//              the negative tail, where 1 + erf cancels (AVX2: 6.6e-7)
//   softmax:   |y - s| <= 2e-6 |s| + 1e-37 (s in double)
//   layerNorm: |y - r| <= 1e-5 (|(x - mean) / std * scale| + |bias|) + 1e-6
// NaN inputs give NaN, infinities follow the function's limits. The binary ops are exact IEEE
// float arithmetic on every path, so every path gives the same bits.
#include "quantscope/kernels/KernelTable.h"

#include <cstddef>

namespace quantscope::kernels {

// y[i] = erf(x[i]) and y[i] = x[i] / 2 * (1 + erf(x[i] / sqrt 2)) (Gelu without the tanh
// approximation); y may be x.
void erf(const KernelTable& path, const float* x, size_t count, float* y);
void gelu(const KernelTable& path, const float* x, size_t count, float* y);

// Softmax of each of `rows` contiguous rows of `length` values: y = exp(x - max) / sum; y may be x.
void softmaxRows(const KernelTable& path, const float* x, size_t rows, size_t length, float* y);

// LayerNormalization of each row: y = (x - mean) / sqrt(variance + epsilon) * scale + bias with
// the row's mean and biased variance; scale and bias hold `length` values (bias may be null).
// mean and inverseStd receive one value per row when not null. y may be x.
void layerNormRows(const KernelTable& path, const float* x, size_t rows, size_t length, const float* scale,
                   const float* bias, float epsilon, float* y, float* mean, float* inverseStd);

// y[i] = a[i * aStep] op b[i * bStep], steps 0 (a broadcast scalar) or 1; y may be a or b.
void binary(const KernelTable& path, FloatBinaryOp op, const float* a, size_t aStep, const float* b,
            size_t bStep, size_t count, float* y);

} // namespace quantscope::kernels
