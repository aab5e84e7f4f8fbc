#pragma once

#include "quantscope/kernels/KernelTable.h"

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {

// y[i] = table[x[i]]: a 256-entry u8 -> u8 table (an activation such as Sigmoid or HardSwish
// evaluated once per input level). AVX2 / AVX-512 look up 32 bytes at a time with byte shuffles.
void lookupU8(const KernelTable& path, const uint8_t* table, const uint8_t* x, size_t count, uint8_t* y);

// ONNX Runtime's contrib QLinearAdd / QLinearMul on u8 tensors of equal length (or b one value,
// broadcast, when bIsScalar), with the float arithmetic of ORT's reference (MLAS qladd.cpp):
//   va = scaleA * float(a - zeroA), vb = scaleB * float(b - zeroB),
//   y = clamp(round_half_even((va + vb) / scaleC) + zeroC, 0, 255)    (Add; va * vb for Mul),
// every step rounded to float32 (no fused multiply-add). The clamp is applied to the rounded float
// before the conversion to int, so results beyond int32 saturate where ORT's cast is undefined.
// Vector paths give the same bytes (IEEE division and round-to-nearest-even in every lane).
// Scales must be positive and finite, zero points in [0, 255] (an Error otherwise).
struct QLinearBinaryParams {
    float scaleA = 1.0f;
    int32_t zeroA = 0;
    float scaleB = 1.0f;
    int32_t zeroB = 0;
    float scaleC = 1.0f;
    int32_t zeroC = 0;
};
void qlinearAddU8(const KernelTable& path, const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                  const QLinearBinaryParams& params, uint8_t* y);
void qlinearMulU8(const KernelTable& path, const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                  const QLinearBinaryParams& params, uint8_t* y);

} // namespace quantscope::kernels
