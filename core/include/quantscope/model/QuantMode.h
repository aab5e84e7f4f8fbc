#pragma once

#include <string_view>

namespace quantscope {

// How a model runs: fp32; static (activation ranges calibrated beforehand, int8 GEMM/Conv);
// dynamic (activation ranges measured at run time: per batch for Gemm/MatMul, as PyTorch's
// dynamic Linear, per image for Conv); weight-only (quantized weights, fp32 activations).
enum class QuantMode { Fp32, Static, Dynamic, WeightOnly };

std::string_view quantModeName(QuantMode mode); // "fp32", "static", "dynamic", "weight-only"
// Throws Error(option, ...) listing the allowed values.
QuantMode parseQuantMode(std::string_view text, std::string_view option = "--mode");

} // namespace quantscope
