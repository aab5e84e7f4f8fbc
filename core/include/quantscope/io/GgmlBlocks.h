#pragma once

#include "quantscope/io/GgmlType.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quantscope {

// Decodes `blocks` consecutive blocks of a readable ggml type (ggmlTypeTraits(type).readable)
// from `source` (packed as in a GGUF file, little endian, no alignment needed) into
// blocks * blockElements float32 values. The quantized types give exactly what ggml's reference
// dequantize_row_* gives: the same float32 operations in the same order (the library is built
// with -ffp-contract=off, so no multiply-add is fused), fp16 scales converted exactly. The caller
// has checked the sizes of both buffers.
void dequantizeGgmlBlocks(GgmlType type, const std::byte* source, uint64_t blocks, float* destination);

// One stored field of a block: a scale, the sub-scales of a super-block...
struct GgmlBlockField {
    std::string name;           // "d", "dmin", "scales", "mins"...
    std::vector<double> values; // exact: fp16 scales and small integers fit a double
};

// The stored parameters of one block of a quantized type, decoded from its bytes: a Q8_0
// block's d, a Q4_K super-block's d, dmin and its eight 6-bit sub-scales and mins... Derived
// fields that dequantization uses are included and named as such ("sub_scales" = d * scales as
// ggml computes them in float32). Empty for the plain types (f32, f16...), which have no blocks.
std::vector<GgmlBlockField> ggmlBlockFields(GgmlType type, const std::byte* block);

} // namespace quantscope
