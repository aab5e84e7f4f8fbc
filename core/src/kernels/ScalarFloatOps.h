#pragma once
// The reference fp32 ops of FloatKernels.h: each value computed in double and rounded once, as the
// executor's plain ops always did, so the scalar path gives the same numbers as before.
#include "quantscope/kernels/KernelTable.h"

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>

namespace quantscope::kernels::scalarfloat {

inline void erfValues(const float* x, size_t count, float* y) {
    for (size_t i = 0; i < count; ++i)
        y[i] = static_cast<float>(std::erf(static_cast<double>(x[i])));
}

inline void geluValues(const float* x, size_t count, float* y) {
    for (size_t i = 0; i < count; ++i) {
        const double d = x[i];
        y[i] = static_cast<float>(0.5 * d * (1.0 + std::erf(d / std::numbers::sqrt2)));
    }
}

// NaN never becomes the peak (a comparison with NaN is false) but its exp makes the sum NaN.
inline void softmaxRow(const float* x, size_t length, float* y) {
    float peak = -std::numeric_limits<float>::infinity();
    for (size_t k = 0; k < length; ++k)
        peak = x[k] > peak ? x[k] : peak;
    double sum = 0.0;
    for (size_t k = 0; k < length; ++k)
        sum += std::exp(static_cast<double>(x[k]) - peak);
    for (size_t k = 0; k < length; ++k)
        y[k] = static_cast<float>(std::exp(static_cast<double>(x[k]) - peak) / sum);
}

inline void layerNormRow(const float* x, size_t length, const float* scale, const float* bias, float epsilon,
                         float* y, float* mean, float* inverseStd) {
    double sum = 0.0, squares = 0.0;
    for (size_t i = 0; i < length; ++i)
        sum += x[i];
    const double average = length > 0 ? sum / static_cast<double>(length) : 0.0;
    for (size_t i = 0; i < length; ++i)
        squares += (x[i] - average) * (x[i] - average);
    const double variance = length > 0 ? squares / static_cast<double>(length) : 0.0;
    const double inverse = 1.0 / std::sqrt(variance + static_cast<double>(epsilon));
    for (size_t i = 0; i < length; ++i) {
        double v = (x[i] - average) * inverse * scale[i];
        if (bias)
            v += bias[i];
        y[i] = static_cast<float>(v);
    }
    if (mean)
        *mean = static_cast<float>(average);
    if (inverseStd)
        *inverseStd = static_cast<float>(inverse);
}

template <class Op>
inline void binaryLoop(const float* a, size_t aStep, const float* b, size_t bStep, size_t count, float* y,
                       Op op) {
    for (size_t i = 0; i < count; ++i)
        y[i] = op(a[i * aStep], b[i * bStep]);
}

inline void binaryValues(FloatBinaryOp op, const float* a, size_t aStep, const float* b, size_t bStep,
                         size_t count, float* y) {
    switch (op) {
    case FloatBinaryOp::Add:
        return binaryLoop(a, aStep, b, bStep, count, y, [](float p, float q) { return p + q; });
    case FloatBinaryOp::Sub:
        return binaryLoop(a, aStep, b, bStep, count, y, [](float p, float q) { return p - q; });
    case FloatBinaryOp::Mul:
        return binaryLoop(a, aStep, b, bStep, count, y, [](float p, float q) { return p * q; });
    case FloatBinaryOp::Div:
        return binaryLoop(a, aStep, b, bStep, count, y, [](float p, float q) { return p / q; });
    }
}

} // namespace quantscope::kernels::scalarfloat
