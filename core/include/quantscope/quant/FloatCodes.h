#pragma once

#include "quantscope/quant/QuantFormat.h"

#include <array>
#include <cstdint>

namespace quantscope {

// Rounding of float32 to the narrower float formats, round to nearest even, saturating at the
// largest finite value (the usual convention when quantizing, as in TransformerEngine for fp8).
// Each returns the rounded value as float32 and, through `code`, its bit pattern.
float roundToFp16(float x, uint32_t& code);
float roundToBf16(float x, uint32_t& code);
float roundToFp8E4M3(float x, uint32_t& code); // OCP E4M3FN: max 448, no infinities
float roundToFp8E5M2(float x, uint32_t& code); // OCP E5M2: max 57344

// The 16 values of bitsandbytes' NormalFloat-4 code book (values in [-1, 1], ascending).
const std::array<float, 16>& nf4CodeBook();
// Index of the nearest code to x (x already divided by the block's absmax).
uint32_t nearestNf4(float x);

// Rounds x / scale to `format` and returns the dequantized value (code * scale). `clipped` says
// whether |x / scale| exceeded the largest code. Integer formats are not handled here.
float fakeQuantizeFloat(float x, float scale, const QuantFormat& format, uint32_t& code, bool& clipped);

// How many distinct codes a format has (for counting levels used).
uint32_t codeCount(const QuantFormat& format, int64_t qmin, int64_t qmax);

} // namespace quantscope
