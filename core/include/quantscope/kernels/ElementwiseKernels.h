#pragma once

#include "quantscope/kernels/KernelTable.h"

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {

// Which parameters each element uses: element i uses parameter set (i / runLength) % count.
//   per tensor:                       runLength = element count, count = 1
//   per channel, axis a of a row-major tensor [outer, C, inner]: runLength = inner, count = C
//   per group of G along the last axis: runLength = G, count = element count / G
struct ParamRuns {
    size_t runLength = 0;
    size_t count = 1;
    const float* scales = nullptr;       // `count` entries
    const int32_t* zeroPoints = nullptr; // `count` entries
};

enum class IntegerType { Int8, Uint8, Int4, Uint4 };

// Range of a type: int8 [-128, 127], uint8 [0, 255], int4 [-8, 7], uint4 [0, 15].
int32_t integerTypeMin(IntegerType type);
int32_t integerTypeMax(IntegerType type);

// q = clamp(round(x * (1 / scale)) + zp) (IntegerQuantizer's rule) into `out`: one byte per value
// for 8-bit types, two per byte for 4-bit ones (element i in byte i / 2, low nibble when i is even,
// two's complement for int4). Throws Error when the runs do not tile `count` or a scale is not
// positive and finite.
void quantize(const KernelTable& path, const float* x, size_t count, const ParamRuns& runs, IntegerType type,
              void* out);
// x = float(q - zp) * scale.
void dequantize(const KernelTable& path, const void* q, size_t count, const ParamRuns& runs, IntegerType type,
                float* x);
// dequantize(quantize(x)), the value the quantized tensor stands for.
void fakeQuantize(const KernelTable& path, const float* x, size_t count, const ParamRuns& runs,
                  IntegerType type, float* y);

// Bytes `quantize` writes for `count` values of `type`.
size_t quantizedBytes(IntegerType type, size_t count);

} // namespace quantscope::kernels
