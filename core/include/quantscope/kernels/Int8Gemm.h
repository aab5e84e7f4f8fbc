#pragma once

#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/PackedInt8Weights.h"

#include <climits>
#include <cstdint>

namespace quantscope::kernels {

class ThreadPool;

// uint8 activations, M x K row-major, with their quantization parameters.
struct QuantizedActivations {
    const uint8_t* data = nullptr;
    int m = 0;
    int k = 0;
    int32_t zeroPoint = 0;
    float scale = 1.0f;
};

// u8 x s8 -> s32 GEMM, C = (A - za) (W - zw)^T, exact. The zero-point terms come from row sums of
// A and column sums of W (Jacob et al. 2018, eq. 7): sum A*W - za*colsum - zw*rowsum + K*za*zw,
// so the inner loop multiplies the raw 8-bit values. The weights must have been packed for
// `path`'s layout (an Error otherwise). `pool` may be null (single thread). C is M x N, ldc = N.
void int8GemmInt32(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                   int32_t* c, ThreadPool* pool = nullptr);

// Float output: c = float(acc) * (a.scale * weightScales[n]) + bias[n]; weightScales holds one
// value (per tensor) or N (per output channel); bias may be null.
void int8GemmFloat(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                   const float* weightScales, bool perChannelScales, const float* bias, float* c,
                   ThreadPool* pool = nullptr);

// Requantized output: c = clamp(multipliers[n].apply(acc + bias[n]) + outZeroPoint, lo, hi), one
// multiplier or N of them (per channel); bias may be null. [lo, hi] is [clampMin, clampMax]
// intersected with the output type's range: a following Relu fuses as clampMin = outZeroPoint, a
// Clip(a, b) as the quantized a and b (an Error when the intersection is empty). Every path gives
// the same bytes as FixedPointMultiplier::apply (vectorised on AVX2 and AVX-512).
void int8GemmRequantizeU8(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, uint8_t* c, ThreadPool* pool = nullptr,
                          int32_t clampMin = INT32_MIN, int32_t clampMax = INT32_MAX);
void int8GemmRequantizeS8(const KernelTable& path, const QuantizedActivations& a, const PackedInt8Weights& w,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, int8_t* c, ThreadPool* pool = nullptr,
                          int32_t clampMin = INT32_MIN, int32_t clampMax = INT32_MAX);

// The range a requantized 8-bit output is clamped to: [clampMin, clampMax] intersected with
// [0, 255] (unsigned) or [-128, 127]; throws Error(subject, ...) when it is empty.
struct OutputClamp {
    int32_t min = 0, max = 255;
};
OutputClamp outputClamp(bool unsignedOutput, int32_t clampMin, int32_t clampMax, const char* subject);

// With a pool, every GEMM here gives each thread a range of whole row tiles across all weight
// panels when there are at least four tiles per thread (a convolution), and otherwise splits the
// weight panels, and rows too when there are few panels (as int4Gemm and bf16Gemm do); each output
// element is computed by exactly one thread with the same instructions, so results equal the
// single-thread ones bit for bit.

} // namespace quantscope::kernels
