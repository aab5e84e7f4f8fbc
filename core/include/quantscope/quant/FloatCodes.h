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
float roundToFp4E2M1(float x, uint32_t& code); // OCP E2M1: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}

// The shared scale of an MX block (OCP MX v1.0, section 6.3): 2^(floor(log2(amax)) - emax_elem),
// emax_elem being the element format's largest exponent (2 for E2M1, 8 for E4M3, 15 for E5M2),
// clamped to E8M0's range 2^-127..2^127; 2^-127 for an all-zero block. Elements then round to
// nearest even and saturate at the element format's largest value.
float mxBlockScale(float amax, const QuantFormat& format);
// NVFP4's per-tensor float32 scale, amax / (448 * 6), and a block's effective scale: the block's
// E4M3 scale e4m3(blockAmax / 6 / tensorScale) (saturating) times the tensor scale. A block scale
// that rounds to 0 becomes E4M3's smallest subnormal, 2^-9, so that every scale is positive.
float nvfp4TensorScale(float tensorAmax);
float nvfp4BlockScale(float blockAmax, float tensorScale);

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
