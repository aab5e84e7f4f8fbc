#pragma once

#include "quantscope/tensor/DType.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quantscope::io {

enum class ByteOrder { Little, Big };

// The byte order of the machine running this code.
ByteOrder hostByteOrder();

// IEEE binary16 / bfloat16 bit patterns to float32. Both are exact: every half and bfloat16 value
// (subnormals, infinities and NaN payloads included) is representable in float32.
float halfToFloat(uint16_t bits);
float bfloat16ToFloat(uint16_t bits);
// OCP fp8 bit patterns to float32 (exact): E4M3FN (bias 7, no infinities, S.1111.111 is NaN) and
// E5M2 (bias 15, infinities and NaN as in IEEE).
float fp8E4M3ToFloat(uint8_t bits);
float fp8E5M2ToFloat(uint8_t bits);

// Decodes `count` packed elements of `dtype` stored in `order` into float32. Integers convert to the
// nearest float; booleans are 1 for any non-zero byte. `source` needs no alignment. The caller has
// checked that source holds count * dtypeSize(dtype) bytes and destination holds count floats.
void decodeToFloat(DType dtype, ByteOrder order, const std::byte* source, uint64_t count, float* destination);

// Reorders values stored in Fortran (column-major) order into row-major order for `shape`.
std::vector<float> fortranToRowMajor(const std::vector<float>& columnMajor,
                                     const std::vector<int64_t>& shape);

} // namespace quantscope::io
