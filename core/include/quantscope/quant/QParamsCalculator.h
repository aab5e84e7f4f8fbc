#pragma once

#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <span>

namespace quantscope {

// float32 machine epsilon: PyTorch's lower bound for a scale.
inline constexpr float kScaleEpsilon = 1.1920929e-07f;

// Scale and zero point of one block from its clipping range, by PyTorch 1.13's
// torch.ao.quantization.observer._calculate_qparams (integer formats), all in float32:
//   the range always includes zero; affine: scale = (max+ - min-) / (qmax - qmin),
//   zp = clamp(qmin - round(min- / scale)); symmetric: scale = max(-min-, max+) / ((qmax-qmin)/2),
//   zp = 0 signed, 128 for uint8, (qmin + qmax) / 2 for other unsigned widths. Scale >= eps.
// Float formats: fp16 / bf16 scale 1; fp8 scale = amax / floatMax; nf4 scale = amax; zp 0.
void computeBlockParams(Range range, const QuantSpec& spec, float& scale, int32_t& zeroPoint);

// Parameters for every block from its calibrated range.
QParams computeQParams(std::span<const Range> ranges, const QuantSpec& spec);

} // namespace quantscope
