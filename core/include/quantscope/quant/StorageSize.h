#pragma once

#include "quantscope/quant/QuantSpec.h"

#include <cstdint>

namespace quantscope {

// Bytes a quantized tensor takes when stored: its values packed at the format's storage width
// (rounded up to whole bytes), plus per block a float32 scale and, for affine integer formats, an
// int32 zero point. fp16 and bf16 are plain casts (their scale is always 1), so they store no
// scale; no float format stores a zero point. Block-scaled formats store their own scales: one byte
// per block (E8M0 for MX, E4M3 for nvfp4) and, for nvfp4, one float32 per tensor. The one rule for
// every size the program shows.
uint64_t quantizedStorageBytes(int64_t elements, const QuantSpec& spec, int64_t blocks);

} // namespace quantscope
