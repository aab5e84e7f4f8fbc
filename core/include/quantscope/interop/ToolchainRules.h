#pragma once

#include "quantscope/quant/QParams.h"
#include "quantscope/quant/QuantSpec.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// How a toolchain turns a value into its integer.
enum class RoundingRule {
    ReciprocalHalfEven, // round(x * (1/S)) ties to even: PyTorch (fbgemm::Quantize)
    DivideHalfEven,     // round(x / S) ties to even: ONNX QuantizeLinear, TensorRT, AIMET (torch.round)
    DivideHalfAway,     // round(x / S) ties away from zero: TFLite (TfLiteRound = std::round)
    Q8_0,               // llama.cpp: roundf(x * (1/d)) ties away from zero
    Q4_0,               // llama.cpp: (int8_t)(x * (1/d) + 8.5f) truncated, then min(15, ...)
};

// The parameters one toolchain would compute for a tensor, per tensor (llama.cpp: the block shown).
struct ToolchainParams {
    std::string
        toolchain;      // "PyTorch", "ONNX Runtime", "TensorRT", "AIMET TF", "AIMET TF-enhanced", "TFLite"...
    std::string rule;   // what it computes, in a few words
    std::string source; // the toolchain's source file and function
    float scale = 1.0f;
    int32_t zeroPoint = 0;
    int64_t qmin = -128;
    int64_t qmax = 127;
    RoundingRule rounding = RoundingRule::ReciprocalHalfEven;
    std::string note; // e.g. AIMET's offset, the block shown
};

std::string_view roundingRuleText(RoundingRule rule);
// The integer of x by the toolchain's rounding and clamping.
int64_t quantizeWith(const ToolchainParams& params, float x);

// The settings a comparison uses: the integer format, the scheme and the range options of the spec.
// `range` is the tensor's finite min / max.
ToolchainParams pytorchParams(Range range, const QuantSpec& spec);
ToolchainParams onnxRuntimeParams(Range range, const QuantSpec& spec);
ToolchainParams tensorRtParams(Range range);
// The 8 lowercase hex digits of a float32 scale, as a TensorRT calibration cache line holds it
// (1/127 -> "3c010204").
std::string tensorRtCacheHex(float scale);
ToolchainParams aimetTfParams(Range range, const QuantSpec& spec);
// AIMET's TF-enhanced encoding: a grid search over (delta, offset) candidates for the lowest
// "quantization + 3 x saturation" cost on a 512-bin histogram of `values` (finite ones count).
ToolchainParams aimetTfEnhancedParams(std::span<const float> values, const QuantSpec& spec);
ToolchainParams tfliteParams(Range range, const QuantSpec& spec);
// llama.cpp's block formats over blocks of 32 consecutive values; `block` is the one described.
ToolchainParams llamaQ8_0Params(std::span<const float> block);
ToolchainParams llamaQ4_0Params(std::span<const float> block);

// One row of the comparison: the parameters, the chosen value's integer, the SQNR over the tensor.
struct ToolchainResult {
    ToolchainParams params;
    int64_t chosenInteger = 0;
    double sqnrDb = 0.0;
    std::string sqnrNote; // "exact" or "zero signal" when the SQNR is not a number
};

inline constexpr int64_t kLlamaBlockSize = 32;

// Every toolchain's parameters for `values` (finite values only count) and `spec`, the integer
// of `chosen`, and each one's SQNR on the whole tensor (llama.cpp: block by block). `llamaBlock`
// picks the block whose parameters are shown; throws Error("--block", ...) past the last block.
std::vector<ToolchainResult> compareToolchains(std::span<const float> values, const QuantSpec& spec,
                                               float chosen, int64_t llamaBlock = 0);

} // namespace quantscope
