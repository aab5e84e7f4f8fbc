#pragma once

// Internal to core: how a per-tensor activation is quantized, shared by the simulated static
// mode (fake quantization in float) and the integer pipeline (one byte per value, see
// QuantLevels), so both round every value the same way.

#include "quantscope/kernels/ElementwiseKernels.h"
#include "quantscope/model/IntegerOps.h"
#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <optional>
#include <vector>

namespace quantscope {

// The kernels' element type for a per-tensor integer spec whose range is a whole 8- or 4-bit
// type (the common case); narrowed or reduced ranges use IntegerQuantizer, the same rule in C++.
std::optional<kernels::IntegerType> kernelType(const QuantSpec& spec, const QParams& params);

kernels::ParamRuns perTensorRuns(const QParams& params, std::size_t count);

// Quantize-dequantize in place with per-tensor parameters.
void fakeQuantize(std::vector<float>& values, const QuantSpec& spec, const QParams& params);

// The one-byte codes of an activation, when its format is a per-tensor integer one of at most
// 256 levels (nullopt otherwise: such values stay simulated in float).
std::optional<QuantLevels> quantLevels(const QuantSpec& spec, const QParams& params);

// codes[i] = q(x[i]) - qmin: the same integers fakeQuantize rounds to, stored as QuantLevels codes.
void quantizeToCodes(const float* x, std::size_t count, const QuantSpec& spec, const QParams& params,
                     uint8_t* codes);

} // namespace quantscope
